"""A corpus with a distinct planted value in every text attribute of the PS3.15 Basic Profile
table (top level, in sequences, in private attributes): neither `flask load-dicom` (every
table of the database) nor `flask upload --deidentify` (every uploaded byte) keeps any of them.
Also the findings of issue 21 as reproductions: a raw PatientID as subject id, a PatientID that
is the name in another order, a SeriesDescription naming the patient."""
from __future__ import annotations

import hashlib
import io
import json
from collections import defaultdict
from pathlib import Path, PurePosixPath

import pydicom
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Image, SeriesTag, Subject
from app.storage import get_storage
from load_db.dicom.identity import NOT_RESEARCH_ID, pseudonym
from load_db.dicom.reader import REDACTED
from load_db.dicom.secret import DEFAULT_SECRET_ENV, deployment_secret
from load_file.deidentify import METHOD, new_uid
from tests.support.examples import stored_texts
from tests.support.planted import PATIENTS, plantable, write_planted_corpus

DATASET = "PLANTED"
SECRET = "planted-corpus-secret"


pytestmark = pytest.mark.storage("each")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, set[str]]:
    root = tmp_path_factory.mktemp("planted") / "corpus"
    return root, write_planted_corpus(root)


@pytest.fixture(autouse=True)
def fixed_secret(monkeypatch):
    # A fixed key: the replacement UIDs and pseudonyms are then the same on every run.
    monkeypatch.setenv(DEFAULT_SECRET_ENV, SECRET)


def _leaks(texts: list[str], planted: set[str]) -> list[tuple[str, str]]:
    lowered = [text.lower() for text in texts]
    return sorted({(value, text[:120]) for value in planted for text, low in
                   zip(texts, lowered, strict=True) if value.lower() in low})


def _message(leaks: list[tuple[str, str]], planted: set[str]) -> str:
    return (f"{len(leaks)} planted values kept: {leaks[:20]}\n"
            f"planted ({len(planted)}): {sorted(planted)}")


def _load(app, root: Path):
    result = app.test_cli_runner().invoke(args=[
        "load-dicom", str(root), "--dataset", DATASET, "--register", "--json", "--workers", "1"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_corpus_plants_every_text_attribute_of_the_table(corpus):
    root, planted = corpus
    tags = plantable()
    assert len(tags) > 450  # of the table's 655 attributes
    dataset = pydicom.dcmread(next((root / "p1" / "t1").iterdir()))
    nested = dataset.AnatomicRegionSequence[0]
    assert all(tag in dataset and tag in nested for tag, _ in tags)
    for keyword in ("AcquisitionComments", "FrameComments", "ReasonForTheRequestedProcedure",
                    "RequestedProcedureComments", "ClinicalTrialSubjectID",
                    "ClinicalTrialSponsorName", "InstitutionName", "OperatorsName"):
        # a person name is planted as its parts (PLNTnnnnQ^GIVNnnnnQ)
        assert str(dataset.get(keyword)).split("^")[0] in planted
        assert str(nested.get(keyword)).split("^")[0] in planted
    assert any(element.tag.is_private for element in nested)
    print(f"\nplanted values ({len(planted)}):", sorted(planted))


def test_a_dicom_load_stores_none_of_the_planted_values(app, seeded, corpus):
    root, planted = corpus
    report = _load(app, root)
    assert report["tables"]["image"]["inserted"] == len(PATIENTS)
    leaks = _leaks(stored_texts(), planted)
    print(f"\nplanted values ({len(planted)}):", sorted(planted))
    assert not leaks, _message(leaks, planted)


def test_a_deidentified_upload_holds_none_of_the_planted_values(app, session, corpus):
    root, planted = corpus
    result = app.test_cli_runner().invoke(args=["upload", DATASET, str(root), "--prefix",
                                                "deid", "--deidentify"])
    assert result.exit_code == 0, result.output
    storage = get_storage()
    keys = sorted(info.key for info in storage.list("deid/"))
    assert len(keys) == 2 * len(PATIENTS)
    # The finding: an unkeyed hash of the id re-identified it; none is left anywhere.
    unkeyed = {hashlib.sha256(patient.patient_id.encode()).hexdigest()[:16]
               for patient in PATIENTS}
    leaks = []
    series = defaultdict(set)
    for key in keys:
        data = storage.read(key).lower()
        leaks += [(value, key) for value in planted | unkeyed if value.lower().encode() in data]
        copy = pydicom.dcmread(io.BytesIO(storage.read(key)))
        assert (copy.PatientIdentityRemoved, copy.DeidentificationMethod) == ("YES", METHOD)
        assert not any(element.tag.is_private for element in copy.iterall())
        series[copy.SeriesInstanceUID].add(str(PurePosixPath(key).parent))
    print(f"\nplanted values ({len(planted)}):", sorted(planted))
    assert not leaks, _message(leaks, planted)
    # UIDs were replaced consistently: each patient's two files still form one series.
    assert len(series) == len(PATIENTS) and all(len(f) == 1 for f in series.values())
    first = pydicom.dcmread(io.BytesIO(storage.read(keys[0])))
    original = pydicom.dcmread(next((root / "p1" / "t1").iterdir()))
    assert first.SeriesInstanceUID == new_uid(str(original.SeriesInstanceUID), SECRET.encode())
    assert first.PatientID == first.PatientName == pseudonym("MRN884422", SECRET.encode())
    assert (first.PatientAge, first.PatientSex) == ("030Y", "F")
    # Descriptors stay (series are typed by them), without the name and birth date.
    assert (first.SeriesDescription, first.ProtocolName) == (
        "T1 MPRAGE [name] [name]", "MPRAGE [name]_[name] [date]")


# --- the findings, reproduced -----------------------------------------------------------

def test_a_raw_patient_id_and_a_reordered_name_become_keyed_pseudonyms(app, seeded, corpus):
    root, _ = corpus
    report = _load(app, root)
    secret = deployment_secret()
    assert secret == SECRET.encode()
    subjects = set(db.session.scalars(select(Subject.external_id)))
    # MRN884422, 123-45-6789 and "Jane Doephi" (DOEPHI^JANE in another order)
    assert subjects == {pseudonym(patient.patient_id, secret) for patient in PATIENTS}
    assert report["notes"][NOT_RESEARCH_ID] == len(PATIENTS)


def test_a_description_naming_the_patient_is_stored_redacted_and_reported(app, seeded,
                                                                          corpus):
    root, _ = corpus
    report = _load(app, root)
    images = {image.path: image.metadata_json for image in db.session.scalars(select(Image))}
    assert {path: (meta["SeriesDescription"], meta["ProtocolName"])
            for path, meta in images.items()} == {
        f"{DATASET}/p1/t1": ("T1 MPRAGE [name] [name]", "MPRAGE [name]_[name] [date]"),
        f"{DATASET}/p2/t1": ("t1 mprage [name] [name] [date]", "mprage [name]"),
        f"{DATASET}/p3/t1": ("T1 MPRAGE [name]-[name]", "mprage [date]")}
    tags = dict(db.session.execute(select(SeriesTag.path, SeriesTag.description)).all())
    assert tags[f"{DATASET}/p1/t1"] == "T1 MPRAGE [name] [name]"
    assert report["notes"][REDACTED.format("SeriesDescription")] == len(PATIENTS)
    assert report["notes"][REDACTED.format("ProtocolName")] == len(PATIENTS)
    assert "Doephi" not in json.dumps(report)
