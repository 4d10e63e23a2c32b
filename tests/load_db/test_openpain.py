"""OpenPain: group mapping, sessions as visits, and loading the bundled example."""
import pytest
from sqlalchemy import select

from app.models import Dataset, DatasetCondition, Image, Scanner, Subject, Visit
from globals import DATA_DIR
from load_db.engine.mapping import read_mapping
from load_db.openpain.read import MAPPING, read_openpain
from tests.support.examples import (
    assert_broken_input_changes_nothing,
    assert_scripts_run_from_anywhere,
    count,
    flask_load,
    image_types,
    image_visits,
    load_example,
    subject_conditions,
    written,
)


@pytest.mark.parametrize(("group", "designation"), [
    ("healthy", "Healthy Control"), ("subacute", "Subacute Pain"), ("chronic", "Chronic Pain")])
def test_the_mapping_maps_the_groups(group, designation):
    assert read_mapping(MAPPING).condition_for(group) == designation


@pytest.mark.parametrize("group", ["Healthy", "acute", "", "healthy control"])
def test_the_mapping_rejects_other_groups(group):
    with pytest.raises(KeyError):
        read_mapping(MAPPING).condition_for(group)


def test_sessions_become_visits_with_days_and_scores():
    visits = read_openpain(DATA_DIR / "openpain").visits.set_index(["subject", "external_id"])
    assert len(visits) == 24
    assert visits.loc[("06", "visit4"), ["days_since_baseline", "symptoms"]].tolist() \
        == [363, {"mpq_vas": 15, "bdi_total": 23}]
    assert visits.loc[("01", "visit1"), ["days_since_baseline", "symptoms"]].tolist() \
        == [0, {"mpq_vas": None, "bdi_total": 5}]   # healthy: no pain score


def test_participants_get_their_group_as_condition_label():
    subjects = read_openpain(DATA_DIR / "openpain").subjects.set_index("external_id")
    assert subjects["condition"].to_dict() == {
        "01": "healthy", "02": "healthy", "03": "healthy", "04": "healthy",
        "05": "subacute", "06": "subacute", "07": "subacute", "08": "subacute",
        "09": "chronic", "10": "chronic", "11": "chronic", "12": "chronic"}



def test_flask_load_openpain_gives_the_exact_rows(app, seeded):
    session = seeded
    result = flask_load(app, "OpenPain")
    assert result.exit_code == 0, result.output
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == "OpenPain"))
    assert count(session, Subject, Subject.dataset_id == dataset_id) == 12
    assert count(session, Visit) == 24
    assert image_types(session, dataset_id) == {"T1": 23, "rsfMRI": 23}
    assert count(session, Scanner, Scanner.dataset_id == dataset_id) == 2
    assert count(session, DatasetCondition, DatasetCondition.dataset_id == dataset_id) == 3

    conditions = subject_conditions(session, dataset_id)
    assert {label: sorted(s for s, c in conditions.items() if c == label)
            for label in set(conditions.values())} == {
        "Healthy Control": ["01", "02", "03", "04"],
        "Subacute Pain": ["05", "06", "07", "08"],
        "Chronic Pain": ["09", "10", "11", "12"]}
    subject = session.scalar(select(Subject).where(Subject.external_id == "05"))
    assert (subject.sex, subject.age_at_baseline, subject.metadata_json) \
        == ("female", 45.0, {"group": "subacute"})
    no_age = select(Subject.age_at_baseline).where(Subject.external_id == "04")
    assert session.scalar(no_age) is None

    links = image_visits(session, "OpenPain/")
    assert len(links) == 46
    assert links["OpenPain/sub-05/ses-visit3/anat/sub-05_ses-visit3_T1w.nii.gz"] == "visit3"
    assert all(path.split("/")[2] == f"ses-{visit}" for path, visit in links.items())
    # sub-06's fourth visit is in sessions.tsv but has no images: still a visit.
    visit4 = session.scalar(select(Visit).join(Subject).where(Subject.external_id == "06",
                                                              Visit.external_id == "visit4"))
    assert (visit4.days_since_baseline, visit4.images) == (363, [])
    prisma = session.scalar(select(Image)
                            .where(Image.path.endswith("sub-12_ses-visit2_T1w.nii.gz")))
    assert (prisma.scanner.model, prisma.metadata_json["RepetitionTime"]) == ("Prisma_fit", 2.5)


def test_loading_twice_changes_nothing(app, seeded):
    first = load_example("OpenPain")
    assert written(first) == {"subject": 12, "visit": 24, "image": 46, "scanner": 2,
                              "dataset_condition": 3}
    assert dict(first.ignored) == {"not an MBID image type: func/bold": 1}
    assert written(load_example("OpenPain")) == {}


@pytest.mark.parametrize(("file", "old", "new", "where"), [
    ("participants.tsv", "sub-07\tF\t52\tsubacute", "sub-07\tF\t52\tacute",
     "participants.tsv, row 8, column 'group'"),
    ("sub-08/sub-08_sessions.tsv", "ses-visit2\t54\t", "ses-visit2\tday 54\t",
     "sub-08_sessions.tsv, row 3, column 'days_since_interview'"),
    ("participants.tsv", "participant_id", "id",
     "participants.tsv, row 1, column 'participant_id'"),
])
def test_broken_input_exits_2_naming_the_cell_and_changes_nothing(app, seeded, tmp_path,
                                                                  file, old, new, where):
    assert_broken_input_changes_nothing(app, "OpenPain", "openpain", file, old, new, where,
                                        tmp_path)


def test_scripts_run_from_any_directory(database_url, app, seeded, tmp_path):
    assert_scripts_run_from_anywhere("openpain", database_url, seeded, tmp_path, (12, 24, 46))
