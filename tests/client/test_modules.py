"""The example processing modules, run directly on small synthetic images."""
from __future__ import annotations

import nibabel as nib
import numpy as np
from mbid_client.modules import BrainExtentMask


def test_mask_marks_the_bright_voxels(tmp_path):
    data = np.zeros((4, 4, 4), dtype=np.float32)
    data[1:3, 1:3, 1:3] = 100.0
    source = tmp_path / "t1.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), str(source))
    module = BrainExtentMask()
    module.workdir = tmp_path
    [output] = module.run([source], {"fraction": 0.5})
    mask = np.asarray(nib.load(str(output.path)).dataobj)
    assert output.path.name == "t1_mask.nii.gz" and output.file_type == "brain_mask"
    assert mask.dtype == np.uint8 and int(mask.sum()) == 8
    assert output.qc_value == 8 / 64
