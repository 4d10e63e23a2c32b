"""Write the bundled example data, byte for byte, and the helpers every example writer uses.

`python -m load_db.examples [--out DIR]` (default: globals.DATA_DIR) runs the `write_example`
of every dataset package that declares one (`load_db/<DATASET>/example.py` by convention), into
DIR/<its data folder>.

The writers spell their schedules out by hand because the tests check the loaded result against
them (counts, image-to-visit links); only measurements (MMSE, height, weight, scores, voxels)
come from a seeded RNG. Everything is deterministic: a random.Random per dataset seeded with a
string, NIfTI headers packed with struct, gzip with mtime 0, fixed line endings and key order.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import logging
import random
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from globals import DATA_DIR

log = logging.getLogger(__name__)

SEED = "mbid-examples-1"

# --- tiny NIfTI-1 ------------------------------------------------------------------------------

NIFTI_HEADER = struct.Struct(
    "<i10s18sihsB"  # sizeof_hdr, data_type, db_name, extents, session_error, regular, dim_info
    "8h"            # dim
    "3f"            # intent_p1..p3
    "4h"            # intent_code, datatype, bitpix, slice_start
    "8f"            # pixdim
    "3f"            # vox_offset, scl_slope, scl_inter
    "hbb"           # slice_end, slice_code, xyzt_units
    "4f"            # cal_max, cal_min, slice_duration, toffset
    "2i"            # glmax, glmin
    "80s24s"        # descrip, aux_file
    "2h"            # qform_code, sform_code
    "6f"            # quatern_b, c, d, qoffset_x, y, z
    "12f"           # srow_x, srow_y, srow_z
    "16s4s"         # intent_name, magic
)
NIFTI_UINT8, NIFTI_UNITS_MM_SEC = 2, 2 | 8
VOX_OFFSET = 352  # header (348) + the 4-byte extension flag, as NIfTI-1 single files require


def nifti_bytes(shape: Sequence[int], voxel_mm: float, rng: random.Random,
                description: str = "MBID-db example") -> bytes:
    """Return a gzipped single-file NIfTI-1 image of `shape` uint8 voxels (reproducible bytes)."""
    dim = [len(shape), *shape] + [1] * (7 - len(shape))
    pixdim = [1.0] + [voxel_mm] * 3 + [2.0] * (len(shape) - 3) + [1.0] * (7 - max(len(shape), 3))
    offset = [-(size - 1) * voxel_mm / 2 for size in shape[:3]]
    srow = [voxel_mm, 0.0, 0.0, offset[0], 0.0, voxel_mm, 0.0, offset[1],
            0.0, 0.0, voxel_mm, offset[2]]
    header = NIFTI_HEADER.pack(
        348, b"", b"", 0, 0, b"r", 0,
        *dim,
        0.0, 0.0, 0.0,
        0, NIFTI_UINT8, 8, 0,
        *pixdim,
        float(VOX_OFFSET), 1.0, 0.0,
        0, 0, NIFTI_UNITS_MM_SEC,
        0.0, 0.0, 0.0, 0.0,
        255, 0,
        description.encode(), b"",
        1, 1,
        0.0, 0.0, 0.0, *offset,
        *srow,
        b"", b"n+1\0",
    )
    voxels = 1
    for size in shape:
        voxels *= size
    data = bytes(rng.randrange(256) for _ in range(voxels))
    # mtime=0 and no file name in the gzip header: the same input always gives the same bytes.
    return gzip.compress(header + b"\0\0\0\0" + data, compresslevel=9, mtime=0)


T1_SHAPE, DWI_SHAPE, BOLD_SHAPE = (4, 4, 4), (4, 4, 3, 3), (4, 4, 3, 5)

# --- writing helpers ---------------------------------------------------------------------------


class Writer:
    """Writes files under one root, remembering every path written (for the report and tests)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: list[Path] = []

    def bytes(self, relative: str, content: bytes) -> None:
        """Write `content` to root/relative, creating folders."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        self.written.append(path)

    def table(self, relative: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
              delimiter: str = ",") -> None:
        """Write a CSV (or TSV with delimiter '\\t') with '\\n' line endings."""
        buffer = io.StringIO()
        out = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
        out.writerow(header)
        out.writerows([["" if cell is None else cell for cell in row] for row in rows])
        self.bytes(relative, buffer.getvalue().encode())

    def json(self, relative: str, content: dict[str, Any]) -> None:
        """Write pretty JSON with a final newline."""
        self.bytes(relative, (json.dumps(content, indent=2) + "\n").encode())


def between(rng: random.Random, low: float, high: float, digits: int = 1) -> float:
    """A uniform draw in [low, high], rounded (random() is stable across Python versions)."""
    return round(low + (high - low) * rng.random(), digits)


def scanner_sidecar(manufacturer: str, model: str, tesla: float, **extra: Any) -> dict[str, Any]:
    """The scanner fields of a BIDS sidecar, plus any acquisition fields."""
    return {"Manufacturer": manufacturer, "ManufacturersModelName": model,
            "MagneticFieldStrength": tesla, **extra}


def write_examples(out: Path = DATA_DIR) -> list[Path]:
    """Write the example data of every dataset package that declares a writer under
    out/<its data folder> (data/ by default); return the files written."""
    from load_db.datasets import discover  # the dataset packages import this module's helpers

    written = []
    for package in discover().values():
        if package.write_example is None:
            continue
        folder = package.data_dir(out)
        files = package.write_example(folder)
        log.info("%s: %d files written under %s", package.designation, len(files), folder)
        written += files
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: `python -m load_db.examples [--out DIR]`."""
    parser = argparse.ArgumentParser(prog="python -m load_db.examples", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DATA_DIR,
                        help=f"folder to write each dataset's folder into (default: {DATA_DIR})")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    write_examples(options.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
