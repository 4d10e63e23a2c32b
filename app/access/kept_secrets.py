"""Secrets a deployment keeps in its instance folder when the environment gives none: the
dashboard's session key and the pseudonym key of DICOM loads.

A kept secret is created once, atomically (two processes starting together agree on one),
readable by its owner only, and read again by every later process, so that sessions survive a
restart and pseudonyms stay stable.
"""
from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger(__name__)

SECRET_BYTES = 32
OWNER_ONLY = 0o600


def kept_secret(path: Path) -> str:
    """The secret kept in `path`, created there (random, mode 0600) when missing.

    Raises OSError when the file cannot be created or read, and ValueError when it is empty.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(SECRET_BYTES) + "\n")
        try:
            os.link(draft, path)  # fails if another process made it first: theirs is kept
            log.info("created the secret %s (keep it)", path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s was readable by others (mode %o): made owner-only", path, mode)
        path.chmod(OWNER_ONLY)
    text = path.read_text().strip()
    if not text:
        raise ValueError(f"the secret file {path} is empty")
    return text
