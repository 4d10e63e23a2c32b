"""Read DICOM headers without pixels: every file as far as its grouping tags, one file in full.

The fast pass (`scan_file`) stops right after the image-size tags of group 0x0028: every tag a
series is grouped, split and checked by lies before them, and stopping there skips the large
vendor groups and, in enhanced multi-frame files, the per-frame functional groups, whose
parsing dominates a full read. It walks the bytes itself (load_db/dicom/walk.py) and leaves
other layouts and broken files to pydicom. `read_full` reads a series' representative file
(no pixels; of an enhanced file, the first frame's groups unless asked for all).
"""
from __future__ import annotations

import gzip
import io
import os
import re
import struct
import sys
import warnings
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_partial, read_sequence_item
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID

from app.storage.trees import FileTree, LocalTree
from load_db.dicom.walk import (
    BINARY,
    FIRST_READ,
    LAST_SCANNED_TAG,
    MAGIC,
    NO_FILE_META,
    PREAMBLE_LENGTH,
    SCAN_LIMIT,
    SCANNED,
    Broken,
    EndsEarly,
    NeedMore,
    NotDicom,
    Unsupported,
    file_meta,
    walk_header,
)

PER_FRAME_GROUPS = Tag(0x5200, 0x9230)
DEFLATED = "1.2.840.10008.1.2.1.99"  # Deflated Explicit VR Little Endian
FIRST_PIXEL_TAG = Tag(0x7FE0, 0x0008)  # float pixel data, then double, then PixelData
# The tag's bytes in a file, by endianness (True: little endian).
PER_FRAME_GROUPS_BYTES = {True: bytes.fromhex("00523092"), False: bytes.fromhex("52009230")}

# Diffusion b-values: the standard tag, then the vendors' private ones (first value counts).
STANDARD_BVALUE = Tag(0x0018, 0x9087)
PRIVATE_BVALUES = {"SIEMENS": Tag(0x0019, 0x100C), "GE": Tag(0x0043, 0x1039),
                   "PHILIPS": Tag(0x2001, 0x1003), "UIH": Tag(0x0065, 0x1009)}
# GE writes some b-values as 10^9 + b.
GE_BVALUE_OFFSET = 1_000_000_000

# Problems that make a file unusable; the loader reports them by these names.
NOT_DICOM = "not a DICOM file"
TRUNCATED = "truncated DICOM file"
BROKEN_HEADER = "DICOM preamble but a broken header"
BAD_GZIP = "bad gzip file"
TOO_LONG = "DICOM header too long"
FILE_META_GROUP = b"\x02\x00"  # group 0x0002, little endian: a DICM file starts with it
# pydicom warns, rather than fails, when a file ends inside an element (and raises OSError
# "No tag to read" when it ends inside a tag).
ENDS_EARLY = re.compile(r"ended before|end of file|expected .* bytes|bytes? (left|remaining)"
                        r"|no tag to read", re.IGNORECASE)
# The most a full header read (everything but the pixels) may take: the per-frame groups of
# an enhanced file of thousands of frames fit many times over; a gzip bomb does not.
FULL_READ_LIMIT = 256 * 1024 * 1024


class HeaderProblem(Exception):
    """A file that cannot be used: `kind` is one of the problem names above."""

    def __init__(self, kind: str, detail: str = "") -> None:
        self.kind, self.detail = kind, detail
        super().__init__(f"{kind}: {detail}" if detail else kind)


@dataclass(frozen=True, slots=True)
class FileHeader:
    """What the fast pass keeps of one file: enough to group, split and check a series.

    One is kept per file until the series are grouped, so it stays small: slots, and the
    values its series' files share interned (see `compact`).
    """

    path: str                 # relative POSIX path under the root
    size: int
    series_uid: str
    study_uid: str
    patient_id: str
    patient_name: str         # kept only in memory, to find subject ids that carry the name
    sop_class: str
    image_type: str           # values joined with a backslash, as in the file
    echo: str
    component: str            # ComplexImageComponent (MAGNITUDE, PHASE, ...)
    position: str             # ImagePositionPatient: distinct positions count the slices
    bvalue: float | None      # the standard or Siemens b-value, when the fast pass saw one
    frames: int


SHARED_FIELDS = ("series_uid", "study_uid", "patient_id", "patient_name", "sop_class",
                 "image_type", "echo", "component")


def compact(header: FileHeader) -> FileHeader:
    """The same header with the values a series' files share stored once (interned)."""
    return replace(header, **{name: sys.intern(getattr(header, name))
                              for name in SHARED_FIELDS})


class _Capped:
    """A stream that refuses to be read beyond `limit` bytes from its start (HeaderProblem),
    so that no header read, of a gzip bomb say, runs on for minutes."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream, self._limit = stream, limit

    def read(self, size: int = -1) -> bytes:
        """Read as the stream does, within the limit."""
        room = self._limit - self._stream.tell()
        data = self._stream.read(room + 1 if size is None or size < 0 else min(size, room + 1))
        if len(data) > room:
            raise HeaderProblem(TOO_LONG, f"more than {self._limit} bytes read before its "
                                          "end (is it a decompression bomb?)")
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _InOrder:
    """A pydicom `stop_when` that also refuses top-level elements out of tag order.

    Elements ascend (PS3.5 7.1); garbage such as a run of zero bytes reads as the same tag
    again and again, which pydicom would parse for minutes. pydicom may ask twice about the
    first element of a dataset, so one repeat is let through.
    """

    def __init__(self, stop: Callable[[BaseTag, str | None, int], bool]) -> None:
        self.stop, self.previous, self.repeats = stop, -1, 0

    def __call__(self, tag: BaseTag, vr: str | None, length: int) -> bool:
        self.repeats = self.repeats + 1 if tag == self.previous else 0
        if tag < self.previous or self.repeats > 1:
            raise HeaderProblem(BROKEN_HEADER, f"element {tag} out of place")
        self.previous = tag
        return self.stop(tag, vr, length)


@contextmanager
def _open(files: FileTree, path: str, limit: int | None = None) -> Iterator[IO[bytes]]:
    """A seekable stream of the file, through gzip when its name ends .gz; closed after.

    With a `limit` (of bytes read, decompressed) an object in storage is copied only as far as
    a read within it can go: deflate grows data by a fraction of a percent at most, so twice
    the limit and a margin always suffice.
    """
    with closing(files.open(path)) as stream:
        if not getattr(files, "seekable", False):  # object storage: pydicom needs to seek
            stream = io.BytesIO(stream.read() if limit is None
                                else stream.read(2 * limit + 1024 * 1024))
        if not path.endswith(".gz"):
            yield stream
            return
        with gzip.GzipFile(fileobj=stream, mode="rb") as unpacked:
            yield unpacked


def _stop_after_scanned(tag: BaseTag, vr: str | None, length: int) -> bool:
    return tag > LAST_SCANNED_TAG


def _text(dataset: Dataset, keyword: str) -> str:
    value = dataset.get(keyword)
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(item) for item in value)
    return str(value).strip()


def _read(files: FileTree, path: str, reader, limit: int | None = None) -> Dataset:
    """Open `path` (through gzip when it ends .gz), check the preamble, and run `reader`
    (reading at most `limit` bytes of the file, decompressed)."""
    try:
        with _open(files, path, limit) as handle:
            head = handle.read(PREAMBLE_LENGTH + len(MAGIC) + 2)
            if head[PREAMBLE_LENGTH:PREAMBLE_LENGTH + len(MAGIC)] != MAGIC:
                raise HeaderProblem(NOT_DICOM)
            if head[PREAMBLE_LENGTH + len(MAGIC):] != FILE_META_GROUP:
                # pydicom would read on, for minutes through a run of zero bytes
                raise HeaderProblem(BROKEN_HEADER, NO_FILE_META)
            handle.seek(0)
            # pydicom inflates a deflated dataset whole, from all its bytes: checked first,
            # then not capped by `limit` (its parse runs in memory, not on this stream).
            deflated = _inflates_within_limit(handle)
            handle.seek(0)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                dataset = reader(handle if limit is None or deflated
                                 else _Capped(handle, limit))
    except HeaderProblem:
        raise
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise HeaderProblem(BAD_GZIP, str(exc)) from exc
    except EOFError as exc:
        kind = BAD_GZIP if path.endswith(".gz") else TRUNCATED
        raise HeaderProblem(kind, str(exc) or "the file ends early") from exc
    except (InvalidDicomError, ValueError, TypeError, KeyError, IndexError, OverflowError,
            NotImplementedError, AttributeError, struct.error, RecursionError) as exc:
        raise HeaderProblem(BROKEN_HEADER, f"{type(exc).__name__}: {exc}") from exc
    except OSError as exc:  # pydicom: "No tag to read"; or the file could not be read
        kind = TRUNCATED if ENDS_EARLY.search(str(exc)) else BROKEN_HEADER
        raise HeaderProblem(kind, str(exc)) from exc
    for warning in caught:
        if ENDS_EARLY.search(str(warning.message)):
            kind = BAD_GZIP if path.endswith(".gz") else TRUNCATED
            raise HeaderProblem(kind, "the file ends early")
    return dataset


def _inflates_within_limit(handle: IO[bytes]) -> bool:
    """True for a file whose dataset is deflated (and inflates to at most FULL_READ_LIMIT
    bytes: HeaderProblem beyond, before pydicom holds it all in memory); False for others."""
    try:
        syntax, start = file_meta(handle.read(FIRST_READ))
    except (NeedMore, Broken, struct.error, UnicodeDecodeError):
        return False  # pydicom reads the meta group, and says what is wrong with it
    if syntax != DEFLATED:
        return False
    handle.seek(start)
    inflater, size = zlib.decompressobj(-zlib.MAX_WBITS), 0
    try:
        while chunk := handle.read(1024 * 1024):
            while chunk and size <= FULL_READ_LIMIT:
                size += len(inflater.decompress(chunk, FULL_READ_LIMIT + 1 - size))
                chunk = inflater.unconsumed_tail
            if size > FULL_READ_LIMIT:
                raise HeaderProblem(TOO_LONG, f"its deflated dataset inflates to more than "
                                              f"{FULL_READ_LIMIT} bytes")
    except zlib.error as exc:
        raise HeaderProblem(BROKEN_HEADER, f"deflated dataset: {exc}") from exc
    return True


def _pixel_bytes(dataset: Dataset) -> int | None:
    """Bytes of uncompressed pixel data the header announces, or None when unknowable."""
    meta = getattr(dataset, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax is None or UID(syntax).is_compressed:
        return None
    try:
        rows, columns = int(dataset.Rows), int(dataset.Columns)
        bits = int(dataset.BitsAllocated)
    except (AttributeError, TypeError, ValueError):
        return None
    frames = int(dataset.get("NumberOfFrames") or 1)
    samples = int(dataset.get("SamplesPerPixel") or 1)
    return rows * columns * frames * samples * bits // 8


def _scanned_by_pydicom(files: FileTree, path: str
                        ) -> tuple[dict[str, str | float], int, str]:
    position = 0

    def read(handle: IO[bytes]) -> Dataset:
        nonlocal position
        dataset = read_partial(handle, stop_when=_InOrder(_stop_after_scanned))
        position = handle.tell()
        return dataset

    dataset = _read(files, path, read, SCAN_LIMIT)
    values: dict[str, str | float] = {}
    for tag, keyword in SCANNED.items():
        if tag not in dataset:
            continue
        element = dataset[tag]
        if keyword in BINARY or not element.keyword:  # numbers, and the private b-value
            number = first_number(element.value)
            if number is not None:
                values[keyword] = number
        else:
            values[keyword] = _text(dataset, keyword)
    meta = getattr(dataset, "file_meta", None)
    syntax = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    return values, position, syntax


def _position(text: str | float | None) -> str:
    """ImagePositionPatient as one canonical string, however it was read."""
    try:
        return ",".join(f"{float(part):.3f}" for part in str(text or "").split("\\"))
    except ValueError:
        return str(text or "")


def scan_file(files: FileTree, path: str, size: int | None = None) -> FileHeader:
    """Read `path` of `files` up to its image-size tags and return what groups it.

    Plain little-endian files are walked byte by byte (several times faster than pydicom's
    reader); any other layout, and any file the walk cannot make sense of, is read by pydicom,
    which also names what is wrong with a broken file.

    Raises
    ------
    HeaderProblem
        Not DICOM, a bad gzip, a broken header (or one without a SeriesInstanceUID), or a
        truncated file.
    """
    try:
        with closing(files.open(path)) as handle:
            if path.endswith(".gz"):  # decompressed as far as the walk reads, no further
                with gzip.GzipFile(fileobj=handle, mode="rb") as unpacked:
                    values, position, syntax = walk_header(unpacked)
            else:
                values, position, syntax = walk_header(handle)
    except NotDicom as exc:
        raise HeaderProblem(NOT_DICOM) from exc
    except Broken as exc:
        raise HeaderProblem(BROKEN_HEADER, str(exc)) from exc
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise HeaderProblem(BAD_GZIP, str(exc) or "the file ends early") from exc
    except Unsupported as exc:
        values, position, syntax = _scanned_by_pydicom(files, path)
        if isinstance(exc, EndsEarly) and not values.get("SeriesInstanceUID"):
            raise HeaderProblem(TRUNCATED, "the file ends inside its header") from None
    except OSError as exc:
        raise HeaderProblem(BROKEN_HEADER, str(exc)) from exc
    if not values.get("SeriesInstanceUID"):
        raise HeaderProblem(BROKEN_HEADER, "no SeriesInstanceUID")
    if size is None:
        with closing(files.open(path)) as handle:
            size = handle.seek(0, os.SEEK_END) if getattr(files, "seekable", False) \
                else len(handle.read())
    frames = int(first_number(values.get("NumberOfFrames")) or 1)
    pixels = _pixel_bytes_of(values, frames, syntax)
    # The header read stopped at `position`; a complete uncompressed file holds at least the
    # announced pixel bytes after it. Compressed and gzipped files cannot be checked this way.
    if pixels is not None and not path.endswith(".gz") and size < position + pixels:
        raise HeaderProblem(TRUNCATED, f"{size} bytes, the header announces {pixels} bytes of "
                                       "pixels")
    bvalue = first_number(values.get("DiffusionBValue"))
    if bvalue is None and str(values.get("Manufacturer", "")).upper().startswith("SIEMENS"):
        bvalue = first_number(values.get("SiemensBValue"))
    return FileHeader(
        path=path, size=size, series_uid=str(values["SeriesInstanceUID"]),
        study_uid=str(values.get("StudyInstanceUID", "")),
        patient_id=str(values.get("PatientID", "")),
        patient_name=str(values.get("PatientName", "")),
        sop_class=str(values.get("SOPClassUID", "")),
        image_type=str(values.get("ImageType", "")).upper(),
        echo=str(values.get("EchoNumbers", "")),
        component=str(values.get("ComplexImageComponent", "")).upper(),
        position=_position(values.get("ImagePositionPatient")), bvalue=bvalue, frames=frames)


def _pixel_bytes_of(values: dict[str, str | float], frames: int, syntax: str) -> int | None:
    """Bytes of uncompressed pixel data the scanned values announce, or None if unknowable."""
    if not syntax or UID(syntax).is_compressed:
        return None
    try:
        rows, columns = int(values["Rows"]), int(values["Columns"])
        bits = int(values["BitsAllocated"])
    except (KeyError, TypeError, ValueError):
        return None
    samples = int(first_number(values.get("SamplesPerPixel")) or 1)
    return rows * columns * frames * samples * bits // 8


def first_number(value: Any) -> float | None:
    """The first number of a DICOM value (a number, a list, bytes of a private tag)."""
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii").strip("\x00 ").split("\\")
        except UnicodeDecodeError:
            return None
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _stop_before_frames(tag: BaseTag, vr: str | None, length: int) -> bool:
    return tag >= PER_FRAME_GROUPS  # the pixel data come later still


def _stop_before_pixels(tag: BaseTag, vr: str | None, length: int) -> bool:
    return tag >= FIRST_PIXEL_TAG


def _with_first_frame(handle: IO[bytes]) -> Dataset:
    """Every element but the per-frame groups, of which only the first frame's item is read.

    Parsing the per-frame groups of an enhanced file (one item per frame, each a dozen
    sequences) costs far more than the rest of its header; the first frame says what the rules
    need, and `read_full(..., all_frames=True)` reads them all when a rule needs more.
    """
    dataset = read_partial(handle, stop_when=_InOrder(_stop_before_frames))
    implicit, little = dataset.original_encoding
    head = handle.read(8)
    if len(head) < 8 or head[:4] != PER_FRAME_GROUPS_BYTES[little]:
        return dataset
    if not implicit:
        handle.read(4)  # explicit VR: 'SQ', two reserved bytes, then a 4-byte length
    item = read_sequence_item(handle, implicit, little, dataset._character_set)
    dataset.PerFrameFunctionalGroupsSequence = Sequence([item] if item is not None else [])
    return dataset


def read_full(files: FileTree, path: str, *, all_frames: bool = False) -> Dataset:
    """Read the header of `path` of `files`, stopping before the pixels.

    In an enhanced multi-frame file only the first frame's per-frame groups are read, unless
    `all_frames` is set.
    """
    if all_frames:
        return _read(files, path, lambda handle: read_partial(
            handle, stop_when=_InOrder(_stop_before_pixels)), FULL_READ_LIMIT)
    return _read(files, path, _with_first_frame, FULL_READ_LIMIT)


def read_whole(path: str | Path) -> Dataset:
    """Read a whole file, pixels included (for de-identified copies), with the same checks.

    Raises
    ------
    HeaderProblem
        As scan_file does; also when the pixel data are shorter than the header announces.
    """
    path = Path(path)
    dataset = _read(LocalTree(path.parent), path.name, dcmread)
    if not dataset.get("SeriesInstanceUID"):
        raise HeaderProblem(BROKEN_HEADER, "no SeriesInstanceUID")
    pixels = _pixel_bytes(dataset)
    if pixels is not None and len(dataset.get("PixelData") or b"") < pixels:
        raise HeaderProblem(TRUNCATED, f"fewer than the {pixels} bytes of pixels announced")
    return dataset
