"""Read DICOM headers without pixels: every file as far as its grouping tags, one file in full.

The fast pass (`scan_file`) stops right after the image-size tags of group 0x0028: every tag a
series is grouped, split and checked by lies before them, and stopping there skips the large
vendor groups and, in enhanced multi-frame files, the per-frame functional groups, whose
parsing dominates a full read. `read_series_header` reads one representative file in full
(still no pixels) and turns it into the plain acquisition facts the rules judge.
"""
from __future__ import annotations

import gzip
import os
import re
import warnings
import zlib
from dataclasses import dataclass
from typing import IO, Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_partial
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID

# Everything up to BitsAllocated is read: the grouping tags, then rows, columns and frames,
# which give the pixel bytes a complete file must hold.
LAST_SCANNED_TAG = Tag(0x0028, 0x0100)
PREAMBLE_LENGTH, MAGIC = 128, b"DICM"

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
# pydicom warns, rather than fails, when a file ends inside an element.
ENDS_EARLY = re.compile(r"ended before|end of file|expected .* bytes|bytes? (left|remaining)",
                        re.IGNORECASE)


class HeaderProblem(Exception):
    """A file that cannot be used: `kind` is one of the problem names above."""

    def __init__(self, kind: str, detail: str = "") -> None:
        self.kind, self.detail = kind, detail
        super().__init__(f"{kind}: {detail}" if detail else kind)


@dataclass(frozen=True)
class FileHeader:
    """What the fast pass keeps of one file: enough to group, split and check a series."""

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


def _open(path: str) -> IO[bytes]:
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def _stop_after_scanned(tag: BaseTag, vr: str | None, length: int) -> bool:
    return tag > LAST_SCANNED_TAG


def _text(dataset: Dataset, keyword: str) -> str:
    value = dataset.get(keyword)
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(item) for item in value)
    return str(value).strip()


def _read(path: str, reader) -> Dataset:
    """Open `path` (through gzip when it ends .gz), check the preamble, and run `reader`."""
    try:
        with _open(path) as handle:
            head = handle.read(PREAMBLE_LENGTH + len(MAGIC))
            if head[PREAMBLE_LENGTH:] != MAGIC:
                raise HeaderProblem(NOT_DICOM)
            handle.seek(0)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                dataset = reader(handle)
    except HeaderProblem:
        raise
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise HeaderProblem(BAD_GZIP, str(exc)) from exc
    except EOFError as exc:
        kind = BAD_GZIP if path.endswith(".gz") else TRUNCATED
        raise HeaderProblem(kind, str(exc) or "the file ends early") from exc
    except (InvalidDicomError, ValueError, TypeError, KeyError, IndexError, OverflowError,
            NotImplementedError, AttributeError) as exc:
        raise HeaderProblem(BROKEN_HEADER, f"{type(exc).__name__}: {exc}") from exc
    for warning in caught:
        if ENDS_EARLY.search(str(warning.message)):
            kind = BAD_GZIP if path.endswith(".gz") else TRUNCATED
            raise HeaderProblem(kind, "the file ends early")
    return dataset


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


def scan_file(root: str, path: str) -> FileHeader:
    """Read `root/path` up to its image-size tags and return what groups it.

    Raises
    ------
    HeaderProblem
        Not DICOM, a bad gzip, a broken header (or one without a SeriesInstanceUID), or a
        truncated file.
    """
    full_path = f"{root}/{path}"
    position = 0

    def read(handle: IO[bytes]) -> Dataset:
        nonlocal position
        dataset = read_partial(handle, stop_when=_stop_after_scanned)
        position = handle.tell()
        return dataset

    dataset = _read(full_path, read)
    if not dataset.get("SeriesInstanceUID"):
        raise HeaderProblem(BROKEN_HEADER, "no SeriesInstanceUID")
    size = os.stat(full_path).st_size
    pixels = _pixel_bytes(dataset)
    # The header read stopped at `position`; a complete uncompressed file holds at least the
    # announced pixel bytes after it. Compressed and gzipped files cannot be checked this way.
    if pixels is not None and not path.endswith(".gz") and "PixelData" not in dataset \
            and size < position + pixels:
        raise HeaderProblem(TRUNCATED, f"{size} bytes, the header announces {pixels} bytes of "
                                       "pixels")
    bvalue = None
    for tag in (STANDARD_BVALUE, PRIVATE_BVALUES["SIEMENS"]):
        if tag in dataset:
            bvalue = first_number(dataset[tag].value)
            break
    return FileHeader(
        path=path, size=size, series_uid=str(dataset.SeriesInstanceUID),
        study_uid=_text(dataset, "StudyInstanceUID"), patient_id=_text(dataset, "PatientID"),
        patient_name=_text(dataset, "PatientName"), sop_class=_text(dataset, "SOPClassUID"),
        image_type=_text(dataset, "ImageType").upper(), echo=_text(dataset, "EchoNumbers"),
        component=_text(dataset, "ComplexImageComponent").upper(),
        position=_text(dataset, "ImagePositionPatient"), bvalue=bvalue,
        frames=int(dataset.get("NumberOfFrames") or 1))


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


def read_full(root: str, path: str) -> Dataset:
    """Read every header element of `root/path`, stopping before the pixels."""
    return _read(f"{root}/{path}", lambda handle: dcmread(handle, stop_before_pixels=True))


def read_whole(path: str) -> Dataset:
    """Read a whole file, pixels included (for de-identified copies), with the same checks.

    Raises
    ------
    HeaderProblem
        As scan_file does; also when the pixel data are shorter than the header announces.
    """
    dataset = _read(path, dcmread)
    if not dataset.get("SeriesInstanceUID"):
        raise HeaderProblem(BROKEN_HEADER, "no SeriesInstanceUID")
    pixels = _pixel_bytes(dataset)
    if pixels is not None and len(dataset.get("PixelData") or b"") < pixels:
        raise HeaderProblem(TRUNCATED, f"fewer than the {pixels} bytes of pixels announced")
    return dataset
