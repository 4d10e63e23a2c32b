"""`flask` commands: seeding, loading, API keys, storage."""
from flask import Flask

from app.cli import apikey, audit, load, load_bids, names, previews, seed, storage

COMMANDS = (seed.seed_command, load.load_command, load_bids.load_bids_command,
            apikey.apikey_group, storage.upload_command, storage.check_storage_command,
            audit.audit_command, previews.previews_command, names.names_command)


def register_commands(app: Flask) -> None:
    """Add every MBID-db command to `flask`."""
    for command in COMMANDS:
        app.cli.add_command(command)
