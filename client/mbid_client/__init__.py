"""mbid_client: query MBID-db into pandas DataFrames, save cohorts and download their files.

    from mbid_client import Client
    client = Client("http://127.0.0.1:5000", token)
    women = client.images(type="T1", sex="female", age_min=60)
    cohort = client.create_cohort("women over 60", type="T1", sex="female", age_min=60)
    client.download(cohort, "data/")
"""
from mbid_client.client import Client, Cohort, CohortDiff
from mbid_client.download import DownloadReport
from mbid_client.errors import (
    ApiError,
    BadRequest,
    ChecksumMismatch,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
)

__all__ = [
    "ApiError", "BadRequest", "ChecksumMismatch", "Client", "Cohort", "CohortDiff",
    "DownloadReport", "Forbidden", "NotFound", "RateLimited", "ServerError", "Unauthorized",
]
