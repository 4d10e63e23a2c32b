"""GET the harmonised participant table of a dataset or a cohort: participants.tsv and .json."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.models import AuditAction, AuditEvent, MeasureKind, Scope, Sex
from app.query.participants import cell, participant_labels
from tests.support.factories import (
    bearer,
    make_api_key,
    make_assessment,
    make_condition,
    make_dataset,
    make_image,
    make_measure,
    make_subject,
    make_visit,
)

API = "/api/v1"
SNOMED = "http://purl.bioontology.org/ontology/SNOMEDCT/"


@pytest.fixture
def study(session):
    """Two datasets: OASIS (conditions per visit, MMSE per visit, handedness, education) and
    HCP (condition per subject); a withdrawn subject; ids that need cleaning."""
    healthy = make_condition(session, designation="Healthy Control",
                             description="Cognitively normal", term_url=f"{SNOMED}281414001")
    ad = make_condition(session, designation="Alzheimer's Disease", description=None)
    mmse = make_measure(session, designation="MMSE", kind=MeasureKind.ORDINAL, unit="points",
                        description="Mini-Mental State Examination total score",
                        term_url="https://loinc.org/72107-6/")
    hand = make_measure(session, designation="HANDEDNESS", kind=MeasureKind.CATEGORY,
                        per_subject=True, description="Handedness",
                        levels={"right": "Right-handed", "left": "Left-handed",
                                "ambidextrous": "Ambidextrous"})
    education = make_measure(session, designation="EDUCATION_YEARS", kind=MeasureKind.NUMBER,
                             unit="years", per_subject=True, description="Years of education")
    oasis = make_dataset(session, designation="OASIS", description="OASIS-3")
    hcp = make_dataset(session, designation="HCP", description="Human Connectome Project")
    ann = make_subject(session, dataset=oasis, external_id="OAS3_0001", sex=Sex.FEMALE,
                       age_at_baseline=71.5)
    bob = make_subject(session, dataset=oasis, external_id="sub-OAS3.0002", sex=Sex.MALE,
                       age_at_baseline=80.0)
    make_subject(session, dataset=oasis, external_id="OAS30001", sex=Sex.UNKNOWN)
    gone = make_subject(session, dataset=oasis, external_id="OAS3_0009", sex=Sex.MALE)
    gone.deleted_at = gone.created_at
    ann_0 = make_visit(session, subject=ann, external_id="d0000", days_since_baseline=0,
                       condition=None)
    ann_1 = make_visit(session, subject=ann, external_id="d0400", days_since_baseline=400,
                       condition=healthy)
    make_visit(session, subject=ann, external_id="d0900", days_since_baseline=900,
               condition=ad)
    make_visit(session, subject=bob, external_id="d0010", days_since_baseline=10, condition=ad)
    for subject, measure, day, value, visit in (
            (ann, mmse, 400, 29.0, ann_1), (ann, mmse, 0, 28.0, ann_0),
            (ann, mmse, 900, 23.0, None),
            (ann, hand, 0, "left", None), (ann, hand, 900, "right", None),
            (ann, education, 0, 12.0, None), (ann, education, 300, 16.5, None),
            (gone, mmse, 0, 10.0, None)):
        make_assessment(session, subject=subject, measure=measure, days_since_baseline=day,
                        value=value, visit=visit)
    paul = make_subject(session, dataset=hcp, external_id="100206", sex=Sex.MALE,
                        age_at_baseline=27.0, condition=healthy)
    make_subject(session, dataset=hcp, external_id="OAS3_0001", sex=Sex.OTHER,
                 age_at_baseline=30.25)
    make_assessment(session, subject=paul, measure=education, days_since_baseline=0, value=16.0)
    for subject in (ann, bob, paul):
        make_image(session, subject=subject)
    session.commit()
    return {"healthy": healthy, "hcp": hcp}


@pytest.fixture
def reader(session, study):
    _, token = make_api_key(session, name="reader", scopes=[Scope.READ, Scope.WRITE])
    session.commit()
    return bearer(token)


OASIS_TSV = (
    "participant_id\tsex\tage\tcondition\tEDUCATION_YEARS\tHANDEDNESS\tMMSE\n"
    "sub-OAS30001\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\n"
    "sub-OAS30001dup2\tfemale\t71.5\tHealthy Control\t16.5\tright\t28\n"
    "sub-OAS30002\tmale\t80\tAlzheimer's Disease\tn/a\tn/a\tn/a\n")


def test_a_datasets_participants_tsv_has_one_row_per_participant(client, reader, session):
    response = client.get(f"{API}/datasets/OASIS/participants.tsv", headers=reader)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/tab-separated-values"
    assert response.headers["Content-Disposition"] == 'attachment; filename="participants.tsv"'
    # The withdrawn subject and its MMSE of 10 are left out; "OAS30001" sorts before
    # "OAS3_0001", so it keeps the label; per-visit measures give the first value (28 on day 0,
    # though loaded after day 400's), traits the latest (right-handed on day 900, 16.5 years);
    # the condition is that of the first visit with one (day 400's).
    assert response.get_data(as_text=True) == OASIS_TSV
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == AuditAction.EXPORT)).one()
    assert event.row_count == 3 and event.key_name == "reader"
    assert event.details["path"] == f"{API}/datasets/OASIS/participants.tsv"


OASIS_JSON = {
    "participant_id": {
        "Description": "The participant: sub-<label>, the label being the subject's external "
                       "id in its dataset with anything but letters and digits removed "
                       "(\"dupN\" appended where two would be equal).",
        "Annotations": {"IsAbout": {"TermURL": "nb:ParticipantID",
                                    "Label": "Unique participant identifier"},
                        "VariableType": "Identifier"}},
    "sex": {
        "Description": "Sex of the participant, as the source dataset records it.",
        "Levels": {"female": "Female", "male": "Male"},
        "Annotations": {
            "IsAbout": {"TermURL": "nb:Sex", "Label": "Sex"}, "VariableType": "Categorical",
            "Levels": {"female": {"TermURL": f"{SNOMED}248152002", "Label": "Female"},
                       "male": {"TermURL": f"{SNOMED}248153007", "Label": "Male"}},
            "MissingValues": ["n/a"]}},
    "age": {
        "Description": "Age of the participant at baseline (the first visit of the dataset).",
        "Units": "years",
        "Annotations": {"IsAbout": {"TermURL": "nb:Age", "Label": "Chronological age"},
                        "VariableType": "Continuous",
                        "Format": {"TermURL": "nb:FromFloat", "Label": "float value"},
                        "MissingValues": ["n/a"]}},
    "condition": {
        "Description": "Harmonised diagnosis (MBID-db's master list of conditions): the "
                       "participant's own where the dataset diagnoses per participant, else "
                       "that of the participant's first visit with a diagnosis.",
        "Levels": {"Alzheimer's Disease": "Alzheimer's Disease",
                   "Healthy Control": "Cognitively normal"},
        "Annotations": {
            "IsAbout": {"TermURL": "nb:Diagnosis", "Label": "Diagnosis"},
            "VariableType": "Categorical",
            "Levels": {"Healthy Control": {"TermURL": f"{SNOMED}281414001",
                                           "Label": "Healthy Control"}},
            "MissingValues": ["n/a"]}},
    "EDUCATION_YEARS": {
        "Description": "Years of education: the participant's latest value (a per-participant "
                       "trait).",
        "Units": "years"},
    "HANDEDNESS": {
        "Description": "Handedness: the participant's latest value (a per-participant trait).",
        "Levels": {"ambidextrous": "Ambidextrous", "left": "Left-handed",
                   "right": "Right-handed"}},
    "MMSE": {
        "Description": "Mini-Mental State Examination total score: the value at the "
                       "participant's first assessment of it (earliest day since baseline).",
        "Units": "points", "TermURL": "https://loinc.org/72107-6/"},
}


def test_a_datasets_participants_json_annotates_every_column(client, reader):
    response = client.get(f"{API}/datasets/OASIS/participants.json", headers=reader)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert text == json.dumps(OASIS_JSON, indent=2, ensure_ascii=False) + "\n"
    header = client.get(f"{API}/datasets/OASIS/participants.tsv", headers=reader) \
        .get_data(as_text=True).splitlines()[0]
    assert list(json.loads(text)) == header.split("\t")


COHORT_TSV = (
    "participant_id\tdataset\tsex\tage\tcondition\tEDUCATION_YEARS\n"
    "sub-100206\tHCP\tmale\t27\tHealthy Control\t16\n"
    "sub-OAS30002\tOASIS\tmale\t80\tAlzheimer's Disease\tn/a\n")


def test_a_cohorts_participants_are_its_images_subjects_with_their_dataset(client, reader):
    cohort = client.post(f"{API}/cohorts", json={"name": "men", "query": {"sex": "male"}},
                         headers=reader).get_json()
    path = f"{API}/cohorts/{cohort['id']}/participants"
    tsv = client.get(f"{path}.tsv", headers=reader)
    assert tsv.status_code == 200
    assert tsv.headers["Content-Disposition"] == \
        f'attachment; filename="cohort-{cohort["id"]}-participants.tsv"'
    assert tsv.get_data(as_text=True) == COHORT_TSV
    dictionary = client.get(f"{path}.json", headers=reader).get_json()
    assert list(dictionary) == ["participant_id", "dataset", "sex", "age", "condition",
                                "EDUCATION_YEARS"]
    assert dictionary["dataset"] == {
        "Description": "The source dataset of the participant (its MBID-db designation).",
        "Levels": {"HCP": "Human Connectome Project", "OASIS": "OASIS-3"}}
    assert dictionary["sex"]["Levels"] == {"male": "Male"}


def test_only_visible_datasets_and_own_cohorts_are_exported(client, session, reader, study):
    _, token = make_api_key(session, name="hcp-only", datasets=[study["hcp"]])
    session.commit()
    hcp_only = bearer(token)
    for suffix in ("tsv", "json"):
        hidden = client.get(f"{API}/datasets/OASIS/participants.{suffix}", headers=hcp_only)
        assert hidden.status_code == 404
        assert hidden.get_json()["message"] == "no dataset 'OASIS'"
        assert client.get(f"{API}/datasets/NOPE/participants.{suffix}",
                          headers=reader).status_code == 404
    assert client.get(f"{API}/datasets/HCP/participants.tsv", headers=hcp_only) \
        .get_data(as_text=True) == (
        "participant_id\tsex\tage\tcondition\tEDUCATION_YEARS\n"
        "sub-100206\tmale\t27\tHealthy Control\t16\n"
        "sub-OAS30001\tother\t30.25\tn/a\tn/a\n")
    cohort = client.post(f"{API}/cohorts", json={"name": "all", "query": {}},
                         headers=reader).get_json()
    path = f"{API}/cohorts/{cohort['id']}/participants.tsv"
    assert client.get(path, headers=hcp_only).status_code == 404
    assert client.get(f"{path}?sex=male", headers=reader).status_code == 400
    assert client.get(f"{API}/datasets/OASIS/participants.tsv").status_code == 401


def test_labels_are_alphanumeric_and_unique_in_the_order_given():
    assert participant_labels([("A", "sub-01"), ("B", "01"), ("B", "0_1"), ("C", "01dup2"),
                               ("C", "__")]) == [
        "sub-01", "sub-01dup3", "sub-01dup4", "sub-01dup2", "sub-0"]


@pytest.mark.parametrize(("value", "text"), [
    (None, "n/a"), (28.0, "28"), (0.5, "0.5"), (172.72, "172.72"), (3, "3"),
    ("left\thanded", "left handed")])
def test_cells_are_bids_values(value, text):
    assert cell(value) == text
