"""BIDS measures: the participants.tsv and sessions.tsv columns a mapping names, participants.json
Levels and Units honoured, loaded by `flask load-bids --mapping` and re-mapped by
`flask harmonise --mapping`."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.models import Assessment, Measure, Subject, Visit
from load_db.bids import read_bids
from load_db.bids.measures import bids_assessments
from load_db.engine.errors import LoadError
from load_db.engine.mapping import read_mapping
from tests.support.files import write_tree

DATASET = "PHENO"
MAPPING = """
conditions:
  column: group
  values: {hc: Healthy Control, ad: Alzheimer's Disease}
measures:
  - {measure: EDUCATION_YEARS, file: participants.tsv, column: edu, level: subject}
  - {measure: HANDEDNESS, file: participants.tsv, column: hand, level: subject}
  - {measure: HEIGHT, file: participants.tsv, column: height, scale: 2.54}
  - {measure: MMSE, file: sessions.tsv, column: mmse}
missing: ["n/a", ""]
"""


def tree(root):
    write_tree(root, {
        "dataset_description.json": {"Name": "pheno", "BIDSVersion": "1.9.0"},
        "participants.tsv": [["participant_id", "group", "edu", "hand", "height"],
                             ["sub-01", "hc", "12", "1", "70"],
                             ["sub-02", "ad", "n/a", "2", "60.5"]],
        "participants.json": {"hand": {"Levels": {"1": "right", "2": {"Description": "left"}}},
                              "height": {"Units": "in"}},
        "sub-01/sub-01_sessions.tsv": [["session_id", "acq_time", "mmse"],
                                       ["ses-1", "2020-01-01", "29"],
                                       ["ses-2", "2020-07-01", "n/a"]],
        "sub-01/ses-1/anat/sub-01_ses-1_T1w.nii.gz": b"\x1f\x8b t1",
        "sub-02/sub-02_sessions.tsv": [["session_id", "acq_time", "mmse"],
                                       ["ses-1", "2021-03-01", "21"]],
        "sub-02/ses-1/anat/sub-02_ses-1_T1w.nii.gz": b"\x1f\x8b t1",
    })
    (root.parent / "mapping.yaml").write_text(MAPPING)
    return root, root.parent / "mapping.yaml"


def stored(session) -> set[tuple]:
    """(subject, visit, measure, day, value rounded to 6 places, level, raw value) stored."""
    session.expire_all()
    return {(*row[:4], None if row[4] is None else round(row[4], 6), *row[5:])
            for row in session.execute(
        select(Subject.external_id, Visit.external_id, Measure.designation,
               Assessment.days_since_baseline, Assessment.value_number, Assessment.value_text,
               Assessment.raw_value)
        .join(Subject, Assessment.subject_id == Subject.id)
        .join(Measure, Assessment.measure_id == Measure.id)
        .outerjoin(Visit, Assessment.visit_id == Visit.id)).all()}


def test_read_gives_the_named_columns_with_levels_decoded(tmp_path):
    root, mapping = tree(tmp_path / "bids")
    frame = bids_assessments(read_bids(root), read_mapping(mapping))
    assert sorted(zip(frame["subject"], frame["visit"].fillna("-"), frame["measure"],
                      frame["raw_value"], strict=True)) == [
        ("01", "-", "EDUCATION_YEARS", "12"), ("01", "-", "HANDEDNESS", "right"),
        ("01", "-", "HEIGHT", "70"), ("01", "1", "MMSE", "29"), ("01", "2", "MMSE", "n/a"),
        ("02", "-", "EDUCATION_YEARS", "n/a"), ("02", "-", "HANDEDNESS", "left"),
        ("02", "-", "HEIGHT", "60.5"), ("02", "1", "MMSE", "21")]


def test_units_other_than_the_measures_need_a_conversion(tmp_path):
    root, mapping = tree(tmp_path / "bids")
    mapping.write_text(MAPPING.replace(", scale: 2.54", ""))
    with pytest.raises(LoadError, match="participants.json, column 'height': participants.json "
                                        "gives Units 'in', HEIGHT is stored in 'cm'"):
        bids_assessments(read_bids(root), read_mapping(mapping), {"HEIGHT": "cm"})


def test_a_column_the_file_lacks_is_named(tmp_path):
    root, mapping = tree(tmp_path / "bids")
    mapping.write_text(MAPPING.replace("column: edu", "column: education"))
    with pytest.raises(LoadError, match="column 'education': the mapping .* takes measure "
                                        "'EDUCATION_YEARS' from this column"):
        bids_assessments(read_bids(root), read_mapping(mapping))


def test_load_bids_with_a_mapping_stores_the_measures_then_harmonise_remaps(app, seeded,
                                                                          tmp_path):
    root, mapping = tree(tmp_path / "bids")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["load-bids", str(root), "--dataset", DATASET, "--register",
                                 "--mapping", str(mapping), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tables"]["assessment"]["inserted"] == 7
    assert stored(seeded) == {
        ("01", "1", "EDUCATION_YEARS", 0, 12.0, None, "12"),
        ("01", "1", "HANDEDNESS", 0, None, "right", "right"),
        ("01", "1", "HEIGHT", 0, 177.8, None, "70"),
        ("01", "1", "MMSE", 0, 29.0, None, "29"),
        ("02", "1", "HANDEDNESS", 0, None, "left", "left"),
        ("02", "1", "HEIGHT", 0, 153.67, None, "60.5"),
        ("02", "1", "MMSE", 0, 21.0, None, "21"),
    }
    conditions = dict(seeded.execute(select(Subject.external_id, Subject.condition_label)).all())
    assert conditions == {"01": "hc", "02": "ad"}

    mapping.write_text(MAPPING.replace("{hc: Healthy Control, ad: Alzheimer's Disease}",
                                       "{hc: Healthy Control, ad: Dementia Unspecified}"))
    remapped = runner.invoke(args=["harmonise", DATASET, "--mapping", str(mapping)])
    assert remapped.exit_code == 0, remapped.output
    assert remapped.output.splitlines()[0] \
        == "subject\t02\t\tcondition\tAlzheimer's Disease\tDementia Unspecified"
