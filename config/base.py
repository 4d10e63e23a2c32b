"""Every setting with its default and meaning; config/<name>.py override only what differs.

The environment overrides any setting through an environment variable of the same (upper-case)
name, read by pydantic-settings: dict and list settings take JSON, booleans true/false (or
1/0, yes/no, on/off), numbers their digits.
"""
from __future__ import annotations

from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

GIB = 1024 * 1024 * 1024
MIB = 1024 * 1024


class Settings(BaseSettings):
    """The defaults shared by every configuration (the values production starts from)."""

    # Only the exact upper-case names are read, so `bucket` in a shell does not set BUCKET.
    model_config = SettingsConfigDict(case_sensitive=True, extra="forbid")

    # Flask's testing mode (exceptions reach the test client instead of a 500 page).
    TESTING: bool = False

    # Database URL: sqlite:///... or postgresql://... (DATABASE_URL, when set, overrides it).
    # Empty: the app refuses to start.
    SQLALCHEMY_DATABASE_URI: str = ""
    # Flask-SQLAlchemy's per-object event tracking: costs memory, used by nothing here.
    SQLALCHEMY_TRACK_MODIFICATIONS: bool = False
    # Keyword arguments of SQLAlchemy's create_engine (e.g. {"pool_pre_ping": true}).
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}

    # Where files live: "local" (a directory, LOCAL_STORAGE_ROOT) or "cos" (IBM COS or any S3
    # service, with the four settings below).
    STORAGE_BACKEND: str = "local"
    # The local backend's directory.
    LOCAL_STORAGE_ROOT: str = ""
    # Object storage bucket, credentials (JSON: IAM apikey + resource_instance_id, or
    # cos_hmac_keys), IAM token endpoint and service URL; real values come from the environment.
    BUCKET: str = ""
    COS_CREDENTIALS: dict[str, Any] = {}
    AUTH_ENDPOINT: str = "https://iam.cloud.ibm.com/identity/token"
    SERVICE_ENDPOINT: str = ""
    # Objects larger than this many bytes are uploaded in parts (S3 multipart upload).
    MULTIPART_THRESHOLD: int = 64 * MIB

    # Where clients reach the API (e.g. https://mbid.example.org): absolute links (download
    # URLs) are built from it, never from the request's Host header. Empty: SERVER_NAME if set,
    # else root-relative links.
    PUBLIC_BASE_URL: str = ""
    # Largest request body accepted, in bytes (a larger one is a 413): every JSON body of the
    # API is far smaller. Uploads of claim outputs have their own limit, MAX_OUTPUT_UPLOAD_BYTES,
    # and are streamed to storage through a temporary file, never held whole in memory.
    MAX_CONTENT_LENGTH: int = 10 * MIB
    MAX_OUTPUT_UPLOAD_BYTES: int = 4 * GIB
    # Requests per minute allowed to each API key (per worker process); 0 turns the limit off.
    RATE_LIMIT_PER_MINUTE: int = 0
    # A key with the counts-only 'aggregate' scope sees every count from 1 to this minus 1 as
    # "<N" (small-cell suppression); 0 is shown as 0.
    AGGREGATE_MIN_COUNT: int = 5

    # Origins (e.g. "https://lab.example.org") whose browser pages may call the API (CORS);
    # none by default.
    CORS_ORIGINS: list[str] = []
    # Signs the dashboard's session cookie; set it in the environment (never in the repository).
    # Empty: a random key per process, so sign-ins end when the server restarts.
    SECRET_KEY: str = ""
    # The dashboard's session cookie only over HTTPS.
    SESSION_COOKIE_SECURE: bool = False

    # Processing claims: how long a lease lasts unless renewed (seconds, when a worker names no
    # length), and how many failures a claim is retried for before it is failed for good.
    PROCESSING_LEASE_SECONDS: int = 300
    PROCESSING_MAX_FAILURES: int = 3
