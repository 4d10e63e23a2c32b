"""The parallel passes give the same records in worker processes as in this one."""
from __future__ import annotations

from pathlib import Path

import pytest

from load_db.dicom.headers import FileHeader
from load_db.dicom.scan import describe_parts, scan_files


@pytest.fixture
def corpus(shared_data: Path) -> Path:
    return shared_data / "dicom"


def test_worker_processes_read_what_one_process_reads_in_the_same_order(corpus):
    paths = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file())
    alone = list(scan_files(str(corpus), paths, workers=1))
    pooled = list(scan_files(str(corpus), paths, workers=2, per_worker=1))
    assert [r if isinstance(r, FileHeader) else (r[0], r[1].kind) for r in pooled] == \
        [r if isinstance(r, FileHeader) else (r[0], r[1].kind) for r in alone]
    assert sum(isinstance(r, FileHeader) for r in alone) == 233
    parts = [[paths[i]] for i, r in enumerate(alone) if isinstance(r, FileHeader)][::40]
    assert list(describe_parts(str(corpus), parts, workers=2, per_worker=1)) == \
        list(describe_parts(str(corpus), parts, workers=1))
