"""The deployment's pseudonym secret: the key of every HMAC pseudonym, UID and date shift.

An unkeyed hash of an identifier is no pseudonym (anyone can hash a guessed MRN and compare),
so there is always a key: the environment's (MBID_PSEUDONYM_SECRET, or the variable a study's
rules name), else a random one that the first load writes to instance/ readable by its owner
only and that every later load and upload reuses. Losing that file changes every pseudonym.
"""
from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from globals import INSTANCE_DIR
from load_db.engine.errors import LoadError

log = logging.getLogger(__name__)

DEFAULT_SECRET_ENV = "MBID_PSEUDONYM_SECRET"
SECRET_FILE = "pseudonym-secret"
SECRET_BYTES = 32


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
    """Read the kept secret, or create it atomically (two first loads agree on one key)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(SECRET_BYTES) + "\n")
        try:
            os.link(draft, path)  # fails if another process made it first: theirs is kept
            log.warning("created the pseudonym secret %s (keep it: every pseudonym depends on "
                        "it)", path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s was readable by others (mode %o): made owner-only", path, mode)
        path.chmod(0o600)
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise SecretError(f"cannot read the pseudonym secret: {exc}", file=path) from exc
    if not text:
        raise SecretError("the pseudonym secret is empty", file=path)
    return text.encode()
