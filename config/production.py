"""Production: every value that differs per site comes from the environment.

DATABASE_URL (or SQLALCHEMY_DATABASE_URI), BUCKET, COS_CREDENTIALS (JSON), AUTH_ENDPOINT and
SERVICE_ENDPOINT are read from environment variables of the same name.
"""
from config import base


class Settings(base.Settings):
    """A served deployment: object storage, and no start without a database.

    No pool_pre_ping (a round trip per request): a pooled connection that the server closed
    (restart, idle timeout) is replaced by app/extensions.py's check of idle connections.
    """

    STORAGE_BACKEND: str = "cos"
    SESSION_COOKIE_SECURE: bool = True
