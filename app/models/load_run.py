"""One run of a loader: what it loaded, when, how it ended and its report."""
from __future__ import annotations

import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, str_enum, utcnow
from app.models.enums import LoadStatus


class LoadRun(Base):
    __tablename__ = "load_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id"), index=True)
    loader: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[LoadStatus] = mapped_column(str_enum(LoadStatus, "status"))
    dry_run: Mapped[bool] = mapped_column(default=False)
    report: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    # The process that runs (ran) the load: a run still `running` whose process is gone from
    # its host was killed (shown as interrupted, see app/load_runs.py).
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(255))


# How a run is shown (API and `flask load-runs`) when it is still `running` in the table but
# its process is gone: killed (kill -9, a lost machine) before it could say how it ended.
INTERRUPTED = "interrupted"


def process_alive(pid: int) -> bool:
    """Return whether process `pid` of this host is still running (a zombie is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    try:  # Linux: a killed child its parent has not reaped yet is a zombie ("Z")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def shown_status(status: Any, pid: int | None, host: str | None) -> str:
    """Return a run's status as shown: `interrupted` for a `running` run whose process (on
    this host) is gone; a run of another host cannot be checked from here and stays `running`.
    """
    value = str(getattr(status, "value", status))
    if (value == LoadStatus.RUNNING.value and pid is not None
            and host == socket.gethostname()[:255] and not process_alive(pid)):
        return INTERRUPTED
    return value
