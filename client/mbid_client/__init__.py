"""mbid_client: a Python client of the MBID-db API (here: only what the worker kit needs)."""
from mbid_client.http import ApiClient, ApiError

__all__ = ["ApiClient", "ApiError"]
