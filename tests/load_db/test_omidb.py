"""OMI-DB: outcomes, the example tree loaded exactly as written, de-identification, bad input."""
import csv
import json
import shutil
from datetime import date

import pytest
from sqlalchemy import select

from app.models import Condition, Dataset, Image, Scanner, Subject, Visit
from globals import DATA_DIR, SEED_DIR
from load_db.engine.mapping import read_mapping
from load_db.OMIDB.example import CLIENTS, VIEWS, mark_json, sop_uid, study_uid
from load_db.OMIDB.outcome import episode_outcome, opinions_by_side, worst_outcome
from load_db.OMIDB.read import (
    AMBIGUOUS_EPISODE,
    BAD_JSON,
    MAPPING,
    MISSING_JSON,
    STUDY_WITHOUT_DATA,
    STUDY_WITHOUT_IMAGES,
    UNKNOWN_LESION,
    visit_of,
)
from tests.support.apps import data_counts
from tests.support.examples import (
    IDENTIFYING_KEYWORDS,
    assert_none_stored,
    copy_example,
    count,
    flask_load,
    identifying_values,
    image_types,
    load_example,
    subject_conditions,
    visit_conditions,
    written,
)

CLIENT = {client.client: client for client in CLIENTS}


@pytest.mark.parametrize(("episode", "outcome"), [
    ({"EpisodeType": "R", "SCREENING": {"L": {"Opinion": "ON"}}}, "normal"),
    ({"EpisodeType": "R", "SCREENING": {"L": {"Opinion": "OM"}}}, "normal"),  # no tissue yet
    ({"EpisodeType": "R", "BIOPSYFINE": {"R": {"Opinion": "OB"}}}, "benign"),
    ({"EpisodeType": "S", "BIOPSYWIDE": {"L": {"Opinion": "OB"}},
      "SURGERY": {"L": {"Opinion": "OM"}}}, "malignant"),
    ({"EpisodeType": "CI", "SURGERY": {"L": {"Opinion": "OB"}}}, "interval cancer"),
])
def test_episode_outcome(episode, outcome):
    assert episode_outcome(episode) == outcome


def test_a_clients_outcome_is_her_worst_and_maps_onto_master_conditions():
    assert worst_outcome(["normal", "malignant", "benign"]) == "malignant"
    assert worst_outcome(["malignant", "interval cancer"]) == "interval cancer"
    assert worst_outcome([]) is None
    outcomes = ("normal", "benign", "malignant", "interval cancer")
    assert [read_mapping(MAPPING).condition_for(o) for o in outcomes] == [
        "Normal Breast Screening", "Benign Breast Lesion", "Breast Cancer",
        "Interval Breast Cancer"]


def test_opinions_are_kept_per_side_and_section():
    episode = CLIENT["optm1"].episodes["E102"]
    assert opinions_by_side(episode) == {
        "L": {"SCREENING": "OS", "ASSESSMENT": "OS", "BIOPSYWIDE": "OM", "SURGERY": "OM"},
        "R": {"SCREENING": "OU", "ASSESSMENT": "ON"}}


def expected_images() -> dict[str, tuple[str, str, str, str, list]]:
    """{path: (client, visit, view, laterality, marks)} of every image the writer made."""
    expected = {}
    for client in CLIENTS:
        for study in client.studies:
            for view, side in VIEWS:
                path = (f"OMI-DB/images/{client.client}/{study_uid(client, study)}/"
                        f"{sop_uid(client, study, view, side)}.dcm")
                marks = [mark_json(mark) for mark in study.marks.get((view, side), ())]
                expected[path] = (client.client, visit_of(study_uid(client, study)), view,
                                  side, marks)
    return expected


def days_of(client, study) -> int:
    first = min(date.fromisoformat(s.date[:4] + "-" + s.date[4:6] + "-" + s.date[6:])
                for s in client.studies)
    day = date.fromisoformat(study.date[:4] + "-" + study.date[4:6] + "-" + study.date[6:])
    return (day - first).days


def test_flask_load_omidb_gives_exactly_what_the_writer_made(app, seeded):
    session = seeded
    result = flask_load(app, "OMI-DB")
    assert result.exit_code == 0, result.output
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == "OMI-DB"))
    assert subject_conditions(session, dataset_id) == {
        "optm1": "Breast Cancer", "optm2": "Benign Breast Lesion",
        "demd3": "Normal Breast Screening", "optm4": "Interval Breast Cancer"}
    subjects = {s.external_id: (s.sex.value, s.age_at_baseline, s.metadata_json)
                for s in session.scalars(select(Subject))}
    assert subjects == {
        "optm1": ("female", 52.0, {"site": "adde", "outcome": "malignant"}),
        "optm2": ("female", 55.0, {"site": "adde", "outcome": "benign"}),
        "demd3": ("female", 50.0, {"site": "stge", "outcome": "normal"}),
        "optm4": ("female", 58.0, {"site": "jarv", "outcome": "interval cancer"})}

    outcomes = {("optm1", "s1"): "Normal Breast Screening", ("optm1", "s2"): "Breast Cancer",
                ("optm2", "s1"): "Normal Breast Screening",
                ("optm2", "s2"): "Benign Breast Lesion",
                ("demd3", "s1"): "Normal Breast Screening",
                ("demd3", "s2"): "Normal Breast Screening",
                ("optm4", "s1"): "Normal Breast Screening",
                ("optm4", "s2"): "Interval Breast Cancer"}
    visits = {visit_of(study_uid(CLIENT[c], study)): condition
              for (c, name), condition in outcomes.items()
              for study in CLIENT[c].studies if study.name == name}
    assert visit_conditions(session) == visits
    for client in CLIENTS:
        for study in client.studies:
            visit = session.scalar(select(Visit).where(
                Visit.external_id == visit_of(study_uid(client, study))))
            assert visit.subject.external_id == client.client
            assert visit.days_since_baseline == days_of(client, study)
            episode = client.episodes[study.episode]   # demd3 s1 is linked by date
            assert visit.symptoms == {
                "episode_id": study.episode, "episode_type": episode["EpisodeType"],
                "outcome": episode_outcome(episode), "opinions": opinions_by_side(episode)}

    assert image_types(session, dataset_id) == {"Mammogram": 32}
    stored = {image.path: image for image in session.scalars(select(Image))}
    expected = expected_images()
    assert set(stored) == set(expected)
    for path, (client, visit, view, side, marks) in expected.items():
        image = stored[path]
        assert (image.subject.external_id, image.visit.external_id) == (client, visit)
        assert image.days_since_baseline == image.visit.days_since_baseline
        assert image.metadata_json == {
            "Modality": "MG", "ViewPosition": view, "ImageLaterality": side,
            "PresentationIntentType": ("FOR PROCESSING" if path.startswith(
                f"OMI-DB/images/demd3/{study_uid(CLIENT['demd3'], CLIENT['demd3'].studies[1])}")
                else "FOR PRESENTATION"),
            "BodyPartExamined": "BREAST", "Rows": 4, "Columns": 4,
            "has_marks": bool(marks), "marks": marks}
        source = DATA_DIR / "OMI-DB" / path.removeprefix("OMI-DB/")
        assert image.file_size == source.stat().st_size
    assert sum(len(image.metadata_json["marks"]) for image in stored.values()) == 5
    scanners = {(s.manufacturer, s.model) for s in session.scalars(select(Scanner))}
    assert scanners == {("Hologic", "Selenia Dimensions"), ("GE", "Senographe Essential"),
                        ("Siemens", "Mammomat Inspiration"), ("Hologic", "Lorad Selenia")}
    assert all(s.field_strength is None and s.serial.startswith("sn-")
               for s in session.scalars(select(Scanner)))
    # the master list, OMI-DB's conditions included: no new row
    assert count(session, Condition) == len(
        list(csv.DictReader((SEED_DIR / "conditions_list.csv").open())))


def test_loading_twice_changes_nothing(app, seeded):
    assert written(load_example("OMI-DB")) == {
        "dataset_condition": 4, "subject": 4, "visit": 8, "scanner": 4, "image": 32}
    before = data_counts()
    assert written(load_example("OMI-DB")) == {}
    assert data_counts() == before


def test_no_identifying_header_value_reaches_the_database(app, seeded):
    assert flask_load(app, "OMI-DB").exit_code == 0
    secrets = identifying_values(DATA_DIR / "OMI-DB" / "images",
                                 (*IDENTIFYING_KEYWORDS, "AccessionNumber",
                                  "DeviceSerialNumber"))
    assert {"ALICE", "WINTERTON^DORA^MAY", "19580412", "Example Breast Screening Unit",
            "GARLAND", "ACCOPTM1S2", "SNADDE01", "EXAMPLEMAMMO1"} <= secrets
    assert_none_stored(secrets)


# --- bad input ------------------------------------------------------------------------------

def _study_folder(client: str, number: int) -> str:
    return study_uid(CLIENT[client], CLIENT[client].studies[number])


def _strict_load_writes_nothing(app, data_dir, where: str) -> None:
    assert flask_load(app, "OMI-DB").exit_code == 0
    before = data_counts()
    result = flask_load(app, "OMI-DB", data_dir, "--strict")
    assert result.exit_code == 2, result.output
    assert where in result.output and "nothing was written" in result.output
    assert data_counts() == before


def test_a_client_folder_without_its_json_files(app, seeded, tmp_path):
    data_dir = copy_example(tmp_path, "OMI-DB")
    (data_dir / "data/optm2/nbss_optm2.json").unlink()
    result = flask_load(app, "OMI-DB", data_dir)
    assert result.exit_code == 0, result.output
    assert f"ignored 1: {MISSING_JSON} (e.g. data/optm2 (no nbss_optm2.json))" in result.output
    assert set(seeded.scalars(select(Subject.external_id))) == {"optm1", "demd3", "optm4"}
    _strict_load_writes_nothing(app, data_dir, f"{data_dir / 'data/optm2'}: {MISSING_JSON}")


@pytest.mark.parametrize(("content", "detail"), [
    ('{"STUDIES": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested deeper than 100 levels"),
    ('{"STUDIES": {}, "N": ' + "7" * 5_000 + "}", "an integer of 5000 digits (more than 100)"),
], ids=["nested 100,000 deep", "5,000-digit number"])
def test_an_unusable_image_database_json_is_reported_and_its_client_left_out(
        app, seeded, tmp_path, content, detail):
    data_dir = copy_example(tmp_path, "OMI-DB")
    (data_dir / "data/optm2/imagedb_optm2.json").write_text(content)
    result = flask_load(app, "OMI-DB", data_dir)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert (f"ignored 1: {BAD_JSON} (e.g. data/optm2/imagedb_optm2.json ({detail}))"
            in result.output)
    assert set(seeded.scalars(select(Subject.external_id))) == {"optm1", "demd3", "optm4"}
    _strict_load_writes_nothing(
        app, data_dir, f"{data_dir / 'data/optm2/imagedb_optm2.json'}: {BAD_JSON} ({detail})")


@pytest.mark.parametrize(("removed", "kept", "reason"), [
    ("data", "images", STUDY_WITHOUT_DATA), ("images", "data", STUDY_WITHOUT_IMAGES)])
def test_a_study_in_one_tree_only(app, seeded, tmp_path, removed, kept, reason):
    data_dir = copy_example(tmp_path, "OMI-DB")
    study = _study_folder("optm1", 0)
    shutil.rmtree(data_dir / removed / "optm1" / study)
    result = flask_load(app, "OMI-DB", data_dir)
    assert result.exit_code == 0, result.output
    assert f"ignored 1: {reason} (e.g. {kept}/optm1/{study})" in result.output
    assert count(seeded, Visit) == 7 and count(seeded, Image) == 28
    _strict_load_writes_nothing(app, data_dir, f"{data_dir / kept / 'optm1' / study}: {reason}")


def test_a_mark_pointing_at_an_unknown_lesion(app, seeded, tmp_path):
    data_dir = copy_example(tmp_path, "OMI-DB")
    imagedb = data_dir / "data/optm1/imagedb_optm1.json"
    content = json.loads(imagedb.read_text())
    study = content["STUDIES"][_study_folder("optm1", 1)]
    series = next(value for key, value in study.items() if isinstance(value, dict))
    sop = sop_uid(CLIENT["optm1"], CLIENT["optm1"].studies[1], "CC", "R")
    series[sop][0]["LinkedNBSSLesionNumber"] = 7
    imagedb.write_text(json.dumps(content))
    result = flask_load(app, "OMI-DB", data_dir)
    assert result.exit_code == 0, result.output
    assert (f"ignored 1: {UNKNOWN_LESION} (e.g. data/optm1/imagedb_optm1.json (image {sop}, "
            "MarkID 3, lesion 7))" in result.output)
    marked = seeded.scalar(select(Image).where(Image.path.endswith(f"{sop}.dcm")))
    assert marked.metadata_json["marks"] == [] and marked.metadata_json["has_marks"] is False
    _strict_load_writes_nothing(app, data_dir, f"{imagedb}: {UNKNOWN_LESION}")


def test_a_study_matching_two_episodes_by_date_is_reported_not_linked(app, seeded, tmp_path):
    data_dir = copy_example(tmp_path, "OMI-DB")
    nbss = data_dir / "data/demd3/nbss_demd3.json"
    episodes = json.loads(nbss.read_text())
    episodes["E300"] = {**episodes["E301"], "SCREENING": {"L": {"Opinion": "OS"}}}
    nbss.write_text(json.dumps(episodes))
    result = flask_load(app, "OMI-DB", data_dir)
    assert result.exit_code == 0, result.output
    assert f"note 1: {AMBIGUOUS_EPISODE}" in result.output
    visit = seeded.scalar(select(Visit).where(
        Visit.external_id == visit_of(_study_folder("demd3", 0))))
    assert visit.condition_id is None and visit.symptoms["episode_id"] is None


def test_a_study_the_image_database_lacks_is_dated_by_its_headers_and_linked_by_date(
        app, seeded, tmp_path):
    data_dir = copy_example(tmp_path, "OMI-DB")
    imagedb = data_dir / "data/demd3/imagedb_demd3.json"
    content = json.loads(imagedb.read_text())
    del content["STUDIES"][_study_folder("demd3", 1)]
    imagedb.write_text(json.dumps(content))
    assert flask_load(app, "OMI-DB", data_dir).exit_code == 0
    visit = seeded.scalar(select(Visit).where(
        Visit.external_id == visit_of(_study_folder("demd3", 1))))
    assert (visit.days_since_baseline, visit.symptoms["episode_id"]) == (
        days_of(CLIENT["demd3"], CLIENT["demd3"].studies[1]), "E302")
