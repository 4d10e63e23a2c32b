"""The errors of object storage, shared by every backend and their callers."""
from __future__ import annotations


class StorageError(Exception):
    """An object-storage operation failed."""


class InvalidKey(StorageError, ValueError):
    """A key that could escape its prefix or that object stores treat inconsistently."""


class ObjectNotFound(StorageError, KeyError):
    """No object has that key."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else "object not found"


class TransientStorageError(StorageError):
    """A failure worth retrying: a connection problem, a timeout, throttling or a 5xx."""


class StorageConfigError(StorageError):
    """The storage settings cannot build a backend."""


class PresignNotSupported(StorageError):
    """The backend cannot make a URL that any HTTP client can fetch."""
