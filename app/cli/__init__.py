"""`flask` commands: seeding, API keys (and, as they arrive, loading and storage)."""
from flask import Flask

from app.cli import apikey, load, load_bids, seed

COMMANDS = (seed.seed_command, load.load_command, apikey.apikey_group, load_bids.load_bids_command)


def register_commands(app: Flask) -> None:
    """Add every MBID-db command to `flask`."""
    for command in COMMANDS:
        app.cli.add_command(command)
