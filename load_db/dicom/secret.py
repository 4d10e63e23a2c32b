"""The deployment's pseudonym secret: the key of every HMAC pseudonym, UID and date shift.

An unkeyed hash of an identifier is no pseudonym (anyone can hash a guessed MRN and compare),
so there is always a key: the environment's (MBID_PSEUDONYM_SECRET, or the variable a study's
rules name), else a random one that the first load writes to instance/ readable by its owner
only and that every later load and upload reuses. Losing that file changes every pseudonym.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from app.access.kept_secrets import kept_secret
from globals import INSTANCE_DIR
from load_db.engine.errors import LoadError

log = logging.getLogger(__name__)

DEFAULT_SECRET_ENV = "MBID_PSEUDONYM_SECRET"
SECRET_FILE = "pseudonym-secret"


class SecretError(LoadError):
    """The secret cannot be read or created (named variable unset, unreadable file): a load
    stops (exit 2) naming the variable or file."""


def deployment_secret(variable: str | None = None, folder: Path = INSTANCE_DIR) -> bytes:
    """The pseudonym key: `variable` (default MBID_PSEUDONYM_SECRET) from the environment,
    else the one kept in `folder`, created there (mode 0600) on first use.

    Raises
    ------
    SecretError
        When `variable` is named explicitly but unset: a study that names its own variable
        expects its own key, and a generated one would silently give other pseudonyms.
    """
    value = os.environ.get(variable or DEFAULT_SECRET_ENV)
    if value:
        return value.encode()
    if variable is not None and variable != DEFAULT_SECRET_ENV:
        raise SecretError(f"the environment variable {variable} holds no secret")
    return _kept_secret(Path(folder) / SECRET_FILE)


def _kept_secret(path: Path) -> bytes:
    """Read the kept secret, or create it (app/access/kept_secrets.py); a file that cannot be
    read or is empty stops the load naming it."""
    existed = path.exists()
    try:
        text = kept_secret(path)
    except OSError as exc:
        raise SecretError(f"cannot read the pseudonym secret: {exc}", file=path) from exc
    except ValueError:
        raise SecretError("the pseudonym secret is empty", file=path) from None
    if not existed:
        log.warning("created the pseudonym secret %s (keep it: every pseudonym depends on it)",
                    path)
    return text.encode()
