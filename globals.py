"""Project-wide constants: paths and the default configuration name (no I/O, no secrets)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"
SEED_DIR = DATA_DIR / "seed_files"
INSTANCE_DIR = ROOT / "instance"

# Name of the module in config/ to use; the FLASK_CONFIG environment variable overrides it.
ENVIRONMENT = "development"
