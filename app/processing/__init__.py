"""Processing: claims on images with leases (leases.py), what a finished claim records (outputs.py)
and the provenance records of derived files (provenance.py)."""
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
