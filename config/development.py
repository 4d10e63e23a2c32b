"""Development: an embedded SQLite file and a local storage directory under instance/."""
from config import base
from globals import INSTANCE_DIR


class Settings(base.Settings):
    """What `make run` and `flask` use on a developer's machine."""

    SQLALCHEMY_DATABASE_URI: str = f"sqlite:///{INSTANCE_DIR / 'mbid.db'}"
    LOCAL_STORAGE_ROOT: str = str(INSTANCE_DIR / "storage")
    BUCKET: str = "mbid-dev"
    # `make run` serves here.
    PUBLIC_BASE_URL: str = "http://127.0.0.1:5000"
