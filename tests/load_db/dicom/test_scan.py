"""The parallel passes give the same records in worker processes as in this one."""
from __future__ import annotations

from app.storage.trees import LocalTree
from load_db.dicom.headers import FileHeader
from load_db.dicom.scan import describe_parts, scan_files


def test_worker_processes_read_what_one_process_reads_in_the_same_order(corpus):
    files = LocalTree(corpus)
    paths = sorted(files.files())
    alone = list(scan_files(files, paths, workers=1))
    pooled = list(scan_files(files, paths, workers=2, per_worker=1))
    assert [r if isinstance(r, FileHeader) else (r[0], r[1].kind) for r in pooled] == \
        [r if isinstance(r, FileHeader) else (r[0], r[1].kind) for r in alone]
    assert sum(isinstance(r, FileHeader) for r in alone) == 233
    parts = [([r.path], []) for r in alone if isinstance(r, FileHeader)][::40]
    assert list(describe_parts(files, parts, workers=2, per_worker=1)) == \
        list(describe_parts(files, parts, workers=1))
