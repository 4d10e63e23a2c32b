"""`flask` commands: seeding, API keys loading, storage."""
from flask import Flask

from app.cli import apikey, load_bids, seed, storage

COMMANDS = (seed.seed_command, apikey.apikey_group, load_bids.load_bids_command,
            storage.upload_command, storage.check_storage_command)


def register_commands(app: Flask) -> None:
    """Add every MBID-db command to `flask`."""
    for command in COMMANDS:
        app.cli.add_command(command)
