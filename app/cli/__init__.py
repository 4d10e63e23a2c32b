"""`flask` commands: seeding, API keys (and, as they arrive, loading and storage)."""
from flask import Flask

from app.cli import apikey, seed, storage

COMMANDS = (seed.seed_command, apikey.apikey_group, storage.upload_command,
            storage.check_storage_command)


def register_commands(app: Flask) -> None:
    """Add every MBID-db command to `flask`."""
    for command in COMMANDS:
        app.cli.add_command(command)
