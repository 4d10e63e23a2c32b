"""Header drift: field comparison with tolerances and an ignore list, and the study
configuration's drift settings making a new version of a standard at the next load."""
from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.uid import generate_uid
from sqlalchemy import select

from app.models import GoldStandard, HeaderDrift, Image, StudyTag
from load_db.dicom_load import load_dicom
from load_db.qc.drift import differences, header_of, set_standard
from tests.support.dicom import DATMAN_STUDY, write_datman_tree, write_series

STANDARD = GoldStandard(header={"EchoTime": 3.0, "RepetitionTime": 2300.0,
                                "VoxelSize": [1.0, 1.0, 1.0], "MRAcquisitionType": "3D",
                                "FlipAngle": 9.0},
                        ignore=["FlipAngle"], tolerances={"EchoTime": 0.005,
                                                          "VoxelSize": 0.01})


@pytest.mark.parametrize(("header", "found"), [
    ({"EchoTime": 3.004, "RepetitionTime": 2300, "VoxelSize": [1.0, 1.005, 1.0],
      "MRAcquisitionType": "3D", "FlipAngle": 12}, []),
    ({"EchoTime": 3.01, "RepetitionTime": 2300.5, "VoxelSize": [1.0, 1.0, 1.1],
      "MRAcquisitionType": "2D"}, [
        {"field": "EchoTime", "expected": 3.0, "actual": 3.01, "tolerance": 0.005},
        {"field": "MRAcquisitionType", "expected": "3D", "actual": "2D", "tolerance": None},
        {"field": "RepetitionTime", "expected": 2300.0, "actual": 2300.5, "tolerance": None},
        {"field": "VoxelSize", "expected": [1.0, 1.0, 1.0], "actual": [1.0, 1.0, 1.1],
         "tolerance": 0.01}]),
    ({"EchoTime": 3.0, "RepetitionTime": 2300.0, "VoxelSize": [1.0, 1.0],
      "MRAcquisitionType": "3D"}, [
        {"field": "VoxelSize", "expected": [1.0, 1.0, 1.0], "actual": [1.0, 1.0],
         "tolerance": 0.01}]),
])
def test_fields_differ_beyond_their_tolerance_unless_ignored(header, found):
    assert differences(header, STANDARD) == found


def test_header_of_leaves_out_bookkeeping_fields():
    assert header_of({"rule": "tag:T1", "SeriesNumber": 3, "SeriesDescription": "t1",
                      "ProtocolName": "t1", "EchoTime": 3.0}) == {"EchoTime": 3.0}


def test_the_configuration_s_tolerances_make_a_new_version_at_the_next_load(plain_session,
                                                                          tmp_path: Path):
    root = write_datman_tree(tmp_path / "spins")
    write_series(root / "SPINS_CMH_0003_01_01" / "03_T1w", "SPINS_CMH_0003_01_01", "T1w",
                 3, study_uid=generate_uid(), echo_time=3.2)
    study = tmp_path / "study.yaml"
    load_dicom(plain_session, root, "SPINS", register=True, rules_file=study, workers=1)
    dataset_id = plain_session.scalar(select(StudyTag.dataset_id))
    first = plain_session.scalar(select(Image.id).order_by(Image.path))
    set_standard(plain_session, dataset_id, "T1", site="CMH",
                 header=header_of(plain_session.get(Image, first).metadata_json))

    def drifting() -> list[str]:
        return list(plain_session.scalars(
            select(Image.path).join(HeaderDrift, HeaderDrift.image_id == Image.id)
            .where(HeaderDrift.drifted.is_(True))))

    assert drifting() == ["SPINS/SPINS_CMH_0003_01_01/03_T1w"]
    study.write_text(DATMAN_STUDY + "drift:\n  tolerances: {EchoTime: 0.5}\n")
    load_dicom(plain_session, root, "SPINS", rules_file=study, workers=1)
    versions = plain_session.execute(select(GoldStandard.version, GoldStandard.tolerances)
                                     .order_by(GoldStandard.version)).all()
    assert [tuple(row) for row in versions] == [(1, {}), (2, {"EchoTime": 0.5})]
    assert drifting() == []
    assert {row.standard_version for row in plain_session.scalars(select(HeaderDrift))} == {2}
