"""Example processing modules for the worker kit, with nibabel and numpy."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from mbid_client.worker import Module, Output


def _first_volume(path: Path) -> tuple[np.ndarray, np.ndarray]:
    image = nib.load(str(path))
    data = np.asarray(image.dataobj, dtype=np.float32)
    if data.ndim == 4:
        data = data[..., 0]
    return data, image.affine


class BrainExtentMask(Module):
    """A rough brain-extent mask: voxels brighter than a fraction of the 99.9th percentile.

    Parameters: `fraction` (default 0.15). Output: `<input>_mask.nii.gz` (uint8), whose QC value
    is the fraction of voxels inside the mask.
    """

    name = "brain_extent_mask"
    version = "1.0.0"

    def run(self, inputs: list[Path], parameters: Mapping[str, Any]) -> list[Output]:
        fraction = float(parameters.get("fraction", 0.15))
        outputs = []
        for path in inputs:
            data, affine = _first_volume(path)
            ceiling = float(np.percentile(data, 99.9)) if data.size else 0.0
            mask = (data > fraction * ceiling).astype(np.uint8)
            stem = path.name.split(".nii")[0]
            target = self.workdir / f"{stem}_mask.nii.gz"
            nib.save(nib.Nifti1Image(mask, affine), str(target))
            outputs.append(Output(target, file_type="brain_mask",
                                  qc_value=round(float(mask.mean()), 6)))
        return outputs
