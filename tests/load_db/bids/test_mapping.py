"""BIDS mapping tables: image types by folder and suffix, cell values, sex and handedness."""
from __future__ import annotations

import pytest

from app.models.enums import Handedness, Sex
from load_db.bids.entities import parse_name
from load_db.bids.mapping import image_type, laterality_hand, to_handedness, to_sex
from load_db.engine.cells import to_value


# ---------------------------------------------------------------------------- type rules
@pytest.mark.parametrize(("datatype", "name", "kind"), [
    ("anat", "sub-01_T1w.nii.gz", "T1"),
    ("anat", "sub-01_acq-mprage_run-2_T1w.nii", "T1"),
    ("anat", "sub-01_T2w.nii.gz", None),
    ("anat", "sub-01_T1map.nii.gz", None),
    ("anat", "sub-01_inplaneT2.nii.gz", None),
    ("dwi", "sub-01_dwi.nii.gz", "DWI"),
    ("dwi", "sub-01_dir-AP_dwi.nii.gz", "DWI"),
    ("dwi", "sub-01_sbref.nii.gz", None),
    ("func", "sub-01_task-rest_bold.nii.gz", "rsfMRI"),
    ("func", "sub-01_task-Rest_bold.nii.gz", "rsfMRI"),
    ("func", "sub-01_task-RESTINGSTATE_bold.nii.gz", "rsfMRI"),
    ("func", "sub-01_task-eyesclosedrest_run-1_bold.nii.gz", "rsfMRI"),
    ("func", "sub-01_task-nback_bold.nii.gz", None),
    ("func", "sub-01_bold.nii.gz", None),  # no task: not rest
    ("func", "sub-01_task-rest_sbref.nii.gz", None),
    ("func", "sub-01_task-rest_acq-rest_cbv.nii.gz", None),
    *(("fmap", f"sub-01_{suffix}.nii.gz", "FieldMap") for suffix in
      ("phasediff", "phase1", "phase2", "magnitude", "magnitude1", "magnitude2", "fieldmap")),
    ("fmap", "sub-01_dir-PA_epi.nii.gz", "FieldMap"),
    ("fmap", "sub-01_TB1map.nii.gz", None),
    ("perf", "sub-01_asl.nii.gz", None),
    ("anat", "sub-01_dwi.nii.gz", None),  # the folder counts, not only the suffix
    ("func", "sub-01_T1w.nii.gz", None),
])
def test_every_type_rule(datatype, name, kind):
    parsed = parse_name(name)
    found = image_type(datatype, parsed.suffix, parsed.entities)
    assert (found.value if found else None) == kind


# ---------------------------------------------------------------------------- values and mappings
@pytest.mark.parametrize(("text", "value"), [
    ("12", 12), ("-3", -3), ("500.75", 500.75), ("1e3", 1000.0), ("n/a", None), ("", None),
    ("  7 ", 7), ("left", "left"), ("inf", "inf"), ("NaN", None), ("01", "01"), ("0", 0),
    ("0.25", 0.25), (".5", 0.5), ("-1.5e-3", -0.0015), ("1e400", "1e400"), ("12a", "12a"),
    ("0x1F", "0x1F"), ("1_000", "1_000"),
])
def test_cells_become_numbers_none_or_text(text, value):
    assert to_value(text) == value
    assert type(to_value(text)) is type(value)


@pytest.mark.parametrize(("code", "decoded", "sex"), [
    ("M", "Male", Sex.MALE), ("F", "Female", Sex.FEMALE), ("male", "male", Sex.MALE),
    ("FEMALE", "FEMALE", Sex.FEMALE), ("1", "Male", Sex.MALE), ("2", "Female", Sex.FEMALE),
    ("O", "O", Sex.OTHER), ("n/a", "n/a", Sex.UNKNOWN), ("X", "X", Sex.UNKNOWN),
])
def test_sex_lookup(code, decoded, sex):
    assert to_sex(code, decoded) is sex


@pytest.mark.parametrize(("code", "decoded", "hand"), [
    ("R", "R", Handedness.RIGHT), ("right", "right", Handedness.RIGHT),
    ("L", "L", Handedness.LEFT), ("left", "left", Handedness.LEFT),
    ("A", "A", Handedness.AMBIDEXTROUS), ("ambidextrous", "ambidextrous", Handedness.AMBIDEXTROUS),
    ("1", "right", Handedness.RIGHT),  # decoded by participants.json Levels
    ("100", "100", Handedness.RIGHT), ("86", "86", Handedness.RIGHT),  # Edinburgh quotients
    ("40", "40", Handedness.AMBIDEXTROUS), ("-40", "-40", Handedness.LEFT),
    ("-75", "-75", Handedness.LEFT), ("0", "0", Handedness.AMBIDEXTROUS),
    ("250", "250", Handedness.UNKNOWN), ("n/a", "n/a", Handedness.UNKNOWN),
    ("?", "?", Handedness.UNKNOWN),
])
def test_handedness_lookup(code, decoded, hand):
    assert to_handedness(code, decoded) is hand


@pytest.mark.parametrize(("quotient", "hand"), [
    ("100", "right"), ("41", "right"), ("40", "ambidextrous"), ("0", "ambidextrous"),
    ("-40", "left"), ("-100", "left"), ("", None), ("  ", None)])
def test_a_laterality_quotient_gives_the_hand(quotient, hand):
    assert laterality_hand(quotient) == hand


@pytest.mark.parametrize("cell", ["-175", "101", "R", "right-ish"])
def test_a_cell_that_is_no_quotient_is_an_error_not_an_unknown_hand(cell):
    with pytest.raises(ValueError, match=f"not an Edinburgh laterality quotient .*{cell!r}"):
        laterality_hand(cell)
