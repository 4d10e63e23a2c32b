"""A byte walk of a DICOM header: the few values the fast pass needs, without pydicom.

pydicom builds an element object for every tag it passes; this walk only unpacks each tag and
length and slices out the values it keeps, which reads a header several times faster. It
handles the layouts scanners write (little endian, implicit or explicit VR, compressed pixel
syntaxes) and raises Unsupported for anything else, so that the caller falls back to pydicom.
"""
from __future__ import annotations

import struct
from typing import IO

# Everything up to BitsAllocated is read: the grouping tags, then rows, columns and frames,
# which give the pixel bytes a complete file must hold.
LAST_SCANNED_TAG = 0x00280100
PREAMBLE_LENGTH, MAGIC = 128, b"DICM"


class NotDicom(Exception):
    """No DICM marker after the preamble."""


# What the fast pass reads: tag -> keyword. All are plain values of the top-level dataset.
SCANNED = {0x00080008: "ImageType", 0x00080016: "SOPClassUID", 0x00080070: "Manufacturer",
           0x00089208: "ComplexImageComponent", 0x00100010: "PatientName",
           0x00100020: "PatientID", 0x00180086: "EchoNumbers", 0x00189087: "DiffusionBValue",
           0x0019100C: "SiemensBValue", 0x0020000D: "StudyInstanceUID",
           0x0020000E: "SeriesInstanceUID", 0x00200032: "ImagePositionPatient",
           0x00280002: "SamplesPerPixel", 0x00280008: "NumberOfFrames", 0x00280010: "Rows",
           0x00280011: "Columns", 0x00280100: "BitsAllocated"}
BINARY = {"Rows": "<H", "Columns": "<H", "BitsAllocated": "<H", "SamplesPerPixel": "<H",
          "DiffusionBValue": "<d"}
# Explicit VRs whose length takes 4 bytes (after 2 reserved ones).
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT",
            b"UV"}
IMPLICIT_LE, EXPLICIT_LE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"
FIRST_READ = 16384
# The most of a file the fast pass reads to reach its image-size tags: every file of the test
# corpus has them in its first 150 KB; a file going on further (a gzip bomb of zeros, say) is
# refused instead of being parsed for minutes.
SCAN_LIMIT = 2 * 1024 * 1024
UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD


class NeedMore(Exception):
    """The buffer ends inside the header: read more of the file."""


class Unsupported(Exception):
    """Not a layout the byte walker reads (big endian, deflate, odd bytes): use pydicom."""


NO_FILE_META = "no file meta information after the DICM marker"


class EndsEarly(Unsupported):
    """The file ends inside the header: pydicom says how, or that it is truncated."""


class Broken(Exception):
    """A header no reader could use (no file meta group, elements out of order, no end):
    refused at once, without handing it to pydicom."""


def _element(buffer: bytes, position: int, explicit: bool) -> tuple[int, bytes, int, int]:
    """(tag, VR, value length, value position) of the element at `position`."""
    if position + 8 > len(buffer):
        raise NeedMore
    group, number = struct.unpack_from("<HH", buffer, position)
    tag = group << 16 | number
    if not explicit or group == 0xFFFE:
        return tag, b"", struct.unpack_from("<I", buffer, position + 4)[0], position + 8
    vr = buffer[position + 4:position + 6]
    if vr in LONG_VRS:
        if position + 12 > len(buffer):
            raise NeedMore
        return tag, vr, struct.unpack_from("<I", buffer, position + 8)[0], position + 12
    if not vr.isalpha():
        raise Unsupported
    return tag, vr, struct.unpack_from("<H", buffer, position + 6)[0], position + 8


def _skip_undefined(buffer: bytes, position: int, explicit: bool) -> int:
    """The position after an undefined-length value (a sequence's items), walked to its end."""
    while True:
        tag, _, length, position = _element(buffer, position, explicit)
        if tag == SEQUENCE_END:
            return position
        if tag != ITEM:
            raise Unsupported
        if length != UNDEFINED:
            position += length
            continue
        while True:  # an item of undefined length: its elements up to the item's end
            tag, _, length, position = _element(buffer, position, explicit)
            if tag == ITEM_END:
                break
            position = (_skip_undefined(buffer, position, explicit) if length == UNDEFINED
                        else position + length)


def file_meta(buffer: bytes) -> tuple[str, int]:
    """(transfer syntax, offset where the dataset starts) of a file's first bytes.

    Raises NeedMore when the buffer ends inside the file meta group, Broken when there is none.
    """
    position, syntax = PREAMBLE_LENGTH + len(MAGIC), ""
    while True:  # the file meta group: always explicit VR little endian
        if position + 2 > len(buffer):
            raise NeedMore
        if struct.unpack_from("<H", buffer, position)[0] != 0x0002:
            if position == PREAMBLE_LENGTH + len(MAGIC):
                # A file with the DICM marker starts with its file meta group (PS3.10 7.1).
                raise Broken(NO_FILE_META)
            return syntax, position  # the dataset starts, in its own encoding
        tag, vr, length, start = _element(buffer, position, True)
        if start + length > len(buffer):
            raise NeedMore
        if tag == 0x00020010:
            syntax = buffer[start:start + length].decode("ascii").strip("\x00 ")
        position = start + length


def walk(buffer: bytes) -> tuple[dict[str, str | float], int, str]:
    """Read the scanned values of a DICOM file's first bytes without pydicom.

    Returns the values, the offset where the walk stopped (the first element after the
    scanned ones) and the transfer syntax.
    """
    syntax, position = file_meta(buffer)
    if syntax not in (IMPLICIT_LE, EXPLICIT_LE) and not (
            syntax.startswith("1.2.840.10008.1.2.4.") or syntax == "1.2.840.10008.1.2.5"):
        raise Unsupported  # big endian or deflated: pydicom knows how
    explicit = syntax != IMPLICIT_LE
    values: dict[str, str | float] = {}
    previous = -1
    while position < len(buffer):
        if position + 4 > len(buffer):
            raise NeedMore
        group, number = struct.unpack_from("<HH", buffer, position)
        if group == 0 or group << 16 | number <= previous:
            # Elements come in ascending tag order (PS3.5 7.1), and a stored dataset holds no
            # command elements (group 0000): this is garbage, such as a run of zero bytes, which
            # pydicom would read as tag (0000,0000) again and again, for minutes.
            raise Broken(f"element ({group:04X},{number:04X}) out of place at byte {position}")
        tag, vr, length, start = _element(buffer, position, explicit)
        previous = tag
        if tag > LAST_SCANNED_TAG:
            return values, position, syntax
        if length == UNDEFINED:
            position = _skip_undefined(buffer, start, explicit)
            continue
        if start + length > len(buffer):
            raise NeedMore
        keyword = SCANNED.get(tag)
        if keyword is not None:
            raw = buffer[start:start + length]
            if keyword in BINARY and (vr in (b"US", b"FD") or not explicit) \
                    and length == struct.calcsize(BINARY[keyword]):
                values[keyword] = struct.unpack(BINARY[keyword], raw)[0]
            else:
                values[keyword] = raw.decode("latin-1").strip("\x00 ")
        position = start + length
    raise NeedMore


def walk_header(handle: IO[bytes], limit: int = SCAN_LIMIT
                ) -> tuple[dict[str, str | float], int, str]:
    """Walk the start of a file, reading more of it while the header goes on (up to `limit`
    bytes: Broken beyond)."""
    buffer, size = b"", FIRST_READ
    while True:
        if len(buffer) >= limit:
            raise Broken(f"no image-size tags in the first {limit} bytes")
        more = handle.read(min(size, limit) - len(buffer))
        buffer += more
        if len(buffer) >= PREAMBLE_LENGTH + len(MAGIC) and \
                buffer[PREAMBLE_LENGTH:PREAMBLE_LENGTH + len(MAGIC)] != MAGIC:
            raise NotDicom
        try:
            return walk(buffer)
        except NeedMore:
            if not more:  # the file ends inside its header: pydicom says how
                raise EndsEarly from None
            size *= 4
        except (struct.error, UnicodeDecodeError) as exc:
            raise Unsupported from exc
