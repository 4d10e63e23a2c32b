"""Testing: the test suite points SQLALCHEMY_DATABASE_URI at SQLite or PostgreSQL."""
from config import base
from globals import INSTANCE_DIR


class Settings(base.Settings):
    """What the test suite starts from."""

    TESTING: bool = True
    SQLALCHEMY_DATABASE_URI: str = "sqlite://"
    LOCAL_STORAGE_ROOT: str = str(INSTANCE_DIR / "test-storage")
    BUCKET: str = "mbid-test"
    # The test client's address, so that links read like the ones a client sees.
    PUBLIC_BASE_URL: str = "http://localhost"
