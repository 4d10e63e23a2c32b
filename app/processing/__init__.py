"""Processing: claims on images with leases (leases.py) and what a finished claim records."""
from app.processing.leases import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_MAX_FAILURES,
    Lease,
    LeaseLost,
    claim,
    complete,
    fail,
    progress,
    renew,
)

__all__ = [
    "DEFAULT_LEASE_SECONDS", "DEFAULT_MAX_FAILURES", "Lease", "LeaseLost", "claim", "complete",
    "fail", "progress", "renew",
]
