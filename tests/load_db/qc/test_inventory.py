"""The series inventory a DICOM load keeps: a DATMAN-named generated tree (participants, a
phantom, a repeated series, an untagged one) and the real series of ../shared/data/dicom."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import UNTAGGED, Image, SeriesTag, StudyTag, Subject, Visit
from app.qc.completeness import dataset_completeness, visit_completeness
from load_db.dicom_load import load_dicom
from load_db.engine.orchestration import dataset_id_for
from load_db.qc.inventory import record_study_tags
from load_db.study import load_study
from tests.support.dicom import write_datman_tree


@pytest.fixture
def datman_tree(tmp_path: Path) -> Path:
    return write_datman_tree(tmp_path / "spins")


@pytest.fixture
def loaded(plain_session, datman_tree):
    load_dicom(plain_session, datman_tree, "SPINS", register=True,
               rules_file=datman_tree.parent / "study.yaml", workers=1)
    plain_session.flush()
    return plain_session


def test_datman_sessions_become_subjects_and_visits_and_the_phantom_stays_apart(loaded):
    visits = loaded.execute(select(Subject.external_id, Visit.external_id)
                            .join(Visit, Visit.subject_id == Subject.id)
                            .order_by(Subject.external_id, Visit.external_id)).all()
    assert [tuple(row) for row in visits] == [
        ("SPINS_CMH_0001", "01"), ("SPINS_CMH_0001", "02"), ("SPINS_CMH_0002", "01")]
    images = loaded.execute(select(Image.path, Image.type).order_by(Image.path)).all()
    assert [(path, kind.value) for path, kind in images] == [
        ("SPINS/SPINS_CMH_0001_01_01/03_T1w MPRAGE", "T1"),
        ("SPINS/SPINS_CMH_0001_01_01/04_T1w MPRAGE", "T1"),
        ("SPINS/SPINS_CMH_0001_01_01/05_DTI60", "DWI"),
        ("SPINS/SPINS_CMH_0001_02_01/03_T1w MPRAGE", "T1"),
        ("SPINS/SPINS_CMH_0001_02_01/05_DTI60", "DWI"),
        ("SPINS/SPINS_CMH_0002_01_01/03_T1w MPRAGE", "T1"),
    ]
    phantom = loaded.scalars(select(SeriesTag).where(SeriesTag.phantom.is_(True))).all()
    assert [(row.session, row.site, row.tag, row.visit_id, row.image_id) for row in phantom] == [
        ("SPINS_CMH_PHA_FBN0001", "CMH", "T1", None, None)]


def test_every_series_is_tagged_stored_or_not(loaded):
    rows = loaded.execute(select(SeriesTag.session, SeriesTag.series_number, SeriesTag.tag,
                                 SeriesTag.reason, SeriesTag.image_id.is_not(None))
                          .order_by(SeriesTag.path)).all()
    assert [tuple(row) for row in rows] == [
        ("SPINS_CMH_0001_01_01", 1, "LOC", None, False),
        ("SPINS_CMH_0001_01_01", 3, "T1", None, True),
        ("SPINS_CMH_0001_01_01", 4, "T1", None, True),
        ("SPINS_CMH_0001_01_01", 5, "DTI", None, True),
        ("SPINS_CMH_0001_02_01", 1, "LOC", None, False),
        ("SPINS_CMH_0001_02_01", 3, "T1", None, True),
        ("SPINS_CMH_0001_02_01", 5, "DTI", None, True),
        ("SPINS_CMH_0001_02_01", 7, UNTAGGED, "no tag matched", False),
        ("SPINS_CMH_0002_01_01", 1, "LOC", None, False),
        ("SPINS_CMH_0002_01_01", 3, "T1", None, True),
        ("SPINS_CMH_PHA_FBN0001", 3, "T1", None, False),
    ]
    expected = loaded.execute(select(StudyTag.site, StudyTag.tag, StudyTag.expected_count,
                                     StudyTag.image_type, StudyTag.qc_kind)
                              .order_by(StudyTag.tag)).all()
    assert [tuple(row) for row in expected] == [
        ("", "DTI", 1, "DWI", "dti"), ("", "LOC", 1, None, "ignore"), ("", "T1", 1, "T1", "anat")]


def test_completeness_flags_the_repeat_the_missing_and_the_unexpected(loaded):
    dataset_id = loaded.scalar(select(StudyTag.dataset_id))
    report = dataset_completeness(loaded, dataset_id)
    judged = [(v["subject"], v["visit"], v["site"], v["complete"], v["missing"], v["repeated"],
               [(u["tag"], u["series_number"], u["description"]) for u in v["unexpected"]])
              for v in report["visits"]]
    assert judged == [
        ("SPINS_CMH_0001", "01", "CMH", True, {}, {"T1": 1}, []),
        ("SPINS_CMH_0001", "02", "CMH", True, {}, {}, [(UNTAGGED, 7, "extra_survey")]),
        ("SPINS_CMH_0002", "01", "CMH", False, {"DTI": 1}, {}, []),
    ]
    assert report["visits"][0]["inventory"]["T1"] == {
        "count": 2, "series_numbers": [3, 4], "descriptions": ["T1w MPRAGE", "T1w MPRAGE"]}
    assert report["phantoms"] == [{"dataset": "SPINS", "session": "SPINS_CMH_PHA_FBN0001",
                                   "site": "CMH",
                                   "inventory": {"T1": {"count": 1, "series_numbers": [3],
                                                        "descriptions": ["T1w MPRAGE"]}}}]
    incomplete = dataset_completeness(loaded, dataset_id, complete=False)["visits"]
    assert [(v["subject"], v["visit"]) for v in incomplete] == [("SPINS_CMH_0002", "01")]
    assert dataset_completeness(loaded, dataset_id, site="ZHH")["visits"] == []


def test_loading_again_keeps_one_inventory_row_per_series(loaded, datman_tree):
    load_dicom(loaded, datman_tree, "SPINS", rules_file=datman_tree.parent / "study.yaml",
               workers=1)
    assert len(loaded.scalars(select(SeriesTag)).all()) == 11


XA30_STUDY = """\
tags:
  T1:   {type: T1, SeriesDescription: T1w, count: 1, qc_kind: anat}
  T2:   {type: T1, SeriesDescription: T2w, count: 1, qc_kind: anat}
  DWI:  {type: DWI, SeriesDescription: DWI_dir80, ImageType: ORIGINAL, count: 1}
  FMAP: {type: FieldMap, SeriesDescription: [gre_field_mapping, field_magph], count: 2}
  RST:  {type: rsfMRI, SeriesDescription: [rest, fmri], count: 1}
"""


def test_the_shared_series_are_tagged_and_the_xa30_study_judged(plain_session, shared_data,
                                                                tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(XA30_STUDY)
    load_dicom(plain_session, shared_data / "dicom", "X", register=True, rules_file=study,
               workers=1)
    tags = plain_session.execute(select(SeriesTag.path, SeriesTag.tag, SeriesTag.reason)
                                 .order_by(SeriesTag.path)).all()
    assert [tuple(row) for row in tags] == [
        ("X/dcm_qa_fmap/Siemens/3_gre_field_magph", "FMAP", None),
        ("X/dcm_qa_ge/01_Ax_DWI_TENSOR_R2", UNTAGGED, "no tag matched"),
        ("X/dcm_qa_nih/20180918GE/mr_0004", "RST", None),
        ("X/dcm_qa_xa30/10_DWI_dir80_PA", "DWI", None),
        ("X/dcm_qa_xa30/11_DWI_dir80_PA", UNTAGGED, "no tag matched"),
        ("X/dcm_qa_xa30/5_anat-T1w_acq-tfl", "T1", None),
        ("X/dcm_qa_xa30/8_gre_field_mapping", "FMAP", None),
        ("X/dcm_qa_xa30/99_Phoenix_Document", UNTAGGED, "no tag matched"),
        ("X/dcm_qa_xa30/9_gre_field_mapping", "FMAP", None),
    ]
    xa30 = plain_session.scalar(select(SeriesTag.visit_id).where(
        SeriesTag.path == "X/dcm_qa_xa30/5_anat-T1w_acq-tfl"))
    [visit] = visit_completeness(plain_session, [xa30])
    assert (visit["complete"], visit["missing"], visit["repeated"]) == (
        False, {"RST": 1, "T2": 1}, {})
    assert [(u["tag"], u["series_number"], u["description"]) for u in visit["unexpected"]] == [
        (UNTAGGED, 11, "DWI_dir80_PA_ADC"), (UNTAGGED, 99, "PhoenixZIPReport")]


def test_the_expected_tags_come_from_the_study_model_alone(plain_session, tmp_path):
    # QC reads the study model (load_db/study), not the DICOM adapter: no series needed.
    study = tmp_path / "study.yaml"
    study.write_text("tags:\n  T1: {type: T1, SeriesDescription: t1, count: 2, qc_kind: anat}\n"
                     "sites:\n  cmh:\n    tags:\n      T1: {type: T1, SeriesDescription: mpr}\n"
                     "      RST: {type: rsfMRI, SeriesDescription: rest, qc_kind: func}\n")
    dataset_id_for(plain_session, "STUDYONLY", register=True)
    assert record_study_tags(plain_session, "STUDYONLY", load_study(study)) == 3
    rows = plain_session.execute(select(StudyTag.site, StudyTag.tag, StudyTag.expected_count,
                                        StudyTag.image_type, StudyTag.qc_kind)
                                 .order_by(StudyTag.site, StudyTag.tag)).all()
    assert [tuple(row) for row in rows] == [
        ("", "T1", 2, "T1", "anat"), ("CMH", "RST", 1, "rsfMRI", "func"),
        ("CMH", "T1", 1, "T1", None)]
    # A study file without tags leaves the expected tags in place.
    (tmp_path / "none.yaml").write_text("drift: {ignore: [SeriesTime]}\n")
    assert record_study_tags(plain_session, "STUDYONLY", load_study(tmp_path / "none.yaml")) == 0
    assert plain_session.scalar(select(func.count()).select_from(StudyTag)) == 3
