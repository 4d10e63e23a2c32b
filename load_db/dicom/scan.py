"""The parallel part of a DICOM load: the fast pass over every file, the full read per series.

Workers get plain paths and return plain records (FileHeader, dicts), so that a pool of
processes can run them; with one worker everything runs in this process.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from app.storage.trees import FileTree, LocalTree
from load_db.dicom.facts import file_bvalues, may_be_diffusion, series_facts
from load_db.dicom.headers import (
    BROKEN_HEADER,
    FileHeader,
    HeaderProblem,
    read_full,
    scan_file,
)
from load_db.engine.progress import progress_bar

# Files per task: large enough that the pool's messaging costs little next to the reads.
CHUNK = 64
# Below this many files (series parts) per process, one process is faster (measured: 4,194
# files read in 1.5 s in one process, 2.0 s in two on a 2-core machine).
FILES_PER_WORKER = 5_000
PARTS_PER_WORKER = 500
# The default rules call a series diffusion-weighted above this b-value; reading more files
# of a series for its b-values stops as soon as one is above it.
DIFFUSION_BVALUE = 50
# Header values used to date, describe and place a series, never stored as they are.
IDENTITY_KEYWORDS = ("StudyDate", "PatientSex", "PatientAge", "PatientBirthDate", "Manufacturer",
                     "ManufacturerModelName", "DeviceSerialNumber", "MagneticFieldStrength")

Problem = tuple[str, HeaderProblem]
# What a malformed value raises when it is converted (pydicom converts on first use): it
# leaves out its file or series, not the whole load.
UNEXPECTED = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
              RecursionError)
T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """The machine's cores."""
    return os.cpu_count() or 1


def _scan_chunk(root: FileTree, paths: Sequence[tuple[str, int | None]]
                ) -> list[FileHeader | Problem]:
    results: list[FileHeader | Problem] = []
    for path, size in paths:
        try:
            results.append(scan_file(root, path, size))
        except HeaderProblem as problem:
            results.append((path, problem))
        except UNEXPECTED as exc:  # a value no header has (NumberOfFrames "1e999", say)
            results.append((path, HeaderProblem(BROKEN_HEADER, f"{type(exc).__name__}: {exc}")))
    return results


def describe_part(root: FileTree, paths: Sequence[str],
                  scanned_bvalues: Sequence[float] = ()) -> dict[str, Any] | Problem:
    """Facts of one series part: its first file read in full, b-values of all when needed.

    `scanned_bvalues` are those the fast pass already saw in the part's files.
    """
    try:
        dataset = read_full(root, paths[0])
        facts = series_facts(dataset)
        identity = {keyword: str(dataset.get(keyword, "") or "").strip()
                    for keyword in IDENTITY_KEYWORDS}
        if scanned_bvalues:
            facts["BValues"] = sorted(set(facts.get("BValues", [])) | set(scanned_bvalues))
        if may_be_diffusion(facts) and not _has_diffusion(facts.get("BValues", [])):
            bvalues = set(facts.get("BValues", []))
            # The other files' first frames, then (enhanced files) every frame of each file.
            for path, all_frames in [(path, False) for path in paths[1:]] + (
                    [(path, True) for path in paths] if facts.get("Frames", 1) > 1 else []):
                try:
                    bvalues |= file_bvalues(read_full(root, path, all_frames=all_frames))
                except HeaderProblem as problem:
                    return path, problem
                if _has_diffusion(bvalues):  # the rule has its evidence
                    break
            facts["BValues"] = sorted(bvalues)
            if not facts["BValues"]:
                del facts["BValues"]
    except HeaderProblem as problem:
        return paths[0], problem
    except UNEXPECTED as exc:
        return paths[0], HeaderProblem(BROKEN_HEADER, f"{type(exc).__name__}: {exc}")
    return {"facts": facts, "identity": identity}


def _has_diffusion(bvalues: Iterable[float]) -> bool:
    return any(value > DIFFUSION_BVALUE for value in bvalues)


def _describe_chunk(root: FileTree, parts: Sequence[tuple[Sequence[str], Sequence[float]]]
                    ) -> list[dict[str, Any] | Problem]:
    return [describe_part(root, paths, bvalues) for paths, bvalues in parts]


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _run(function: Callable[[str, Sequence[T]], list[R]], root: FileTree, items: Sequence[T],
         workers: int, chunk: int, what: str, per_worker: int) -> Iterable[R]:
    """Apply `function` to chunks of `items`, in up to `workers` processes, keeping their order.

    A process is started only for every `per_worker` items: starting one (and sending it the
    work) costs more than reading a few thousand headers in this one.
    """
    workers = min(workers, len(items) // per_worker)
    if not isinstance(root, LocalTree):  # a storage client stays in this process
        workers = 1
    progress = progress_bar(total=len(items), desc=what)
    chunks = list(_chunks(items, chunk))
    try:
        if workers <= 1 or len(chunks) <= 1:
            for piece in chunks:
                yield from function(root, piece)
                progress.update(len(piece))
            return
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for piece, results in zip(chunks, pool.map(function, [root] * len(chunks), chunks),
                                      strict=True):
                yield from results
                progress.update(len(piece))
    finally:
        progress.close()


def scan_files(root: FileTree, paths: Sequence[tuple[str, int | None]], workers: int,
               per_worker: int = FILES_PER_WORKER) -> Iterable[FileHeader | Problem]:
    """The fast pass over every (path, size): a FileHeader, or (path, problem)."""
    return _run(_scan_chunk, root, paths, workers, CHUNK, "DICOM files", per_worker)


def describe_parts(root: FileTree, parts: Sequence[tuple[Sequence[str], Sequence[float]]],
                   workers: int, per_worker: int = PARTS_PER_WORKER
                   ) -> Iterable[dict[str, Any] | Problem]:
    """The full read of each series part: (its file paths, representative first; the
    b-values the fast pass saw in them)."""
    return _run(_describe_chunk, root, parts, workers, 4, "DICOM series", per_worker)
