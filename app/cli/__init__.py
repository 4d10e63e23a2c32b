"""`flask` commands: seeding, API keys (and, as they arrive, loading and storage)."""
from flask import Flask

from app.cli import apikey, load, seed

COMMANDS = (seed.seed_command, load.load_command, apikey.apikey_group)


def register_commands(app: Flask) -> None:
    """Add every MBID-db command to `flask`."""
    for command in COMMANDS:
        app.cli.add_command(command)
