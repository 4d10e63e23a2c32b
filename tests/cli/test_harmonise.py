"""`flask harmonise`: a changed mapping file re-applied to what is stored, dry run first; the
change is audited and a cohort saved before shows it in its diff (on both databases)."""
import hashlib
import json

import pandas as pd
import pytest
from sqlalchemy import select

from app.models import (
    Assessment,
    AuditAction,
    AuditEvent,
    DatasetCondition,
    Image,
    Measure,
    Scope,
)
from globals import DATA_DIR
from load_db.datasets import find_dataset
from load_db.engine.mapping import read_mapping
from load_db.OASIS.read import MAPPING
from tests.support.apps import data_counts
from tests.support.examples import flask_load, visit_conditions
from tests.support.factories import bearer, make_api_key

API = "/api/v1"
MCI, DU = "Mild Cognitive Impairment", "Dementia Unspecified"
MCI_RULE = "- condition: Mild Cognitive Impairment\n      when: {cdr: {equals: 0.5}}"


def harmonise(app, *args):
    return app.test_cli_runner().invoke(args=["harmonise", *args])


def changed_mapping(tmp_path, old: str, new: str):
    """A copy of OASIS's mapping.yaml with `old` replaced by `new`; its path and version."""
    text = MAPPING.read_text()
    assert old in text
    path = tmp_path / "mapping.yaml"
    path.write_text(text.replace(old, new))
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def cdr_half_visits() -> list[tuple[str, str]]:
    """(subject, visit) of every clinical visit with CDR 0.5, read with pandas."""
    clinical = pd.read_csv(DATA_DIR / "OASIS" / "OASIS3_clinical_data.csv")
    rows = clinical[clinical["cdr"] == 0.5]
    return sorted(zip(rows["Subject"], rows["ADRC_ADRCCLINICALDATA ID"], strict=True))


def stored_versions(session) -> tuple[set[str], set[str]]:
    return (set(session.scalars(select(DatasetCondition.mapping_version))),
            set(session.scalars(select(Assessment.mapping_version))))


def test_a_changed_cdr_mapping_dry_run_then_apply_and_the_cohort_diff(app, client, seeded,
                                                                       tmp_path):
    session = seeded
    assert flask_load(app, "OASIS").exit_code == 0
    _, token = make_api_key(session, name="researcher", scopes=[Scope.READ, Scope.WRITE])
    session.commit()
    cohort = client.post(f"{API}/cohorts", json={"name": "MCI", "query": {"condition": MCI}},
                         headers=bearer(token)).get_json()
    mci_images = session.scalars(select(Image.id).where(Image.path.endswith(
        "sub-OAS30011_ses-d0365_T1w.nii.gz"))).all()
    assert cohort["image_count"] == 1 and len(mci_images) == 1
    mapping, version = changed_mapping(tmp_path, MCI_RULE, MCI_RULE.replace(MCI, DU))
    old_version = hashlib.sha256(MAPPING.read_bytes()).hexdigest()
    conditions_before, counts_before = visit_conditions(session), data_counts()
    expected = [f"visit\t{subject}\t{visit}\tcondition\t{MCI}\t{DU}"
                for subject, visit in cdr_half_visits()]
    assert len(expected) == 4

    dry = harmonise(app, "OASIS", "--mapping", str(mapping), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [
        *expected, f"OASIS: mapping {version[:12]} would change 4 rows (4 visit)"]
    session.expire_all()
    assert visit_conditions(session) == conditions_before and data_counts() == counts_before
    assert stored_versions(session) == ({old_version}, {old_version})
    as_json = json.loads(harmonise(app, "oasis", "--mapping", str(mapping), "--dry-run",
                                   "--json").output)
    assert (as_json["applied"], as_json["counts"], as_json["previous_versions"]) \
        == (False, {"visit": 4}, [old_version])
    assert as_json["changes"][0] == {"kind": "visit", "subject": "OAS30001",
                                     "visit": "OAS30001_ClinicalData_d1106", "name": "condition",
                                     "old": MCI, "new": DU}

    applied = harmonise(app, "OASIS", "--mapping", str(mapping))
    assert applied.exit_code == 0, applied.output
    assert applied.output.splitlines() == [
        *expected, f"OASIS: mapping {version[:12]} changed 4 rows (4 visit)"]
    session.expire_all()
    now = visit_conditions(session)
    assert {visit for visit, condition in now.items() if condition != conditions_before[visit]} \
        == {visit for _, visit in cdr_half_visits()}
    assert {now[visit] for _, visit in cdr_half_visits()} == {DU}
    assert stored_versions(session) == ({version}, {version})
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == AuditAction.HARMONISE))
    assert event.row_count == 4 and event.details == {
        "dataset": "OASIS", "mapping_version": version, "previous_versions": [old_version],
        "changed": {"visit": 4}}
    assert [dataset.designation for dataset in event.datasets] == ["OASIS"]

    diff = client.get(f"{API}/cohorts/{cohort['id']}/diff", headers=bearer(token)).get_json()
    assert [row["image_id"] for row in diff["removed"]] == mci_images
    assert (diff["added"], diff["changed"], diff["unchanged"]) == ([], [], 0)

    again = harmonise(app, "OASIS", "--mapping", str(mapping))
    assert again.output == f"OASIS: mapping {version[:12]} changed 0 rows (none)\n"


def test_a_changed_unit_conversion_rewrites_the_values_from_the_raw_ones(app, seeded, tmp_path):
    session = seeded
    assert flask_load(app, "OASIS").exit_code == 0
    mapping, version = changed_mapping(tmp_path, "column: height, scale: 2.54",
                                       "column: height, scale: 2.5")
    result = json.loads(harmonise(app, "OASIS", "--mapping", str(mapping), "--json").output)
    clinical = pd.read_csv(DATA_DIR / "OASIS" / "OASIS3_clinical_data.csv").dropna(
        subset=["height"])
    assert result["counts"] == {"assessment": len(clinical)}
    first = next(change for change in result["changes"]
                 if change["visit"] == "OAS30001_ClinicalData_d0000")
    assert (first["name"], first["old"], first["new"]) \
        == ("HEIGHT", pytest.approx(61 * 2.54), pytest.approx(61 * 2.5))
    session.expire_all()
    heights = session.execute(
        select(Assessment.raw_value, Assessment.value_number, Assessment.mapping_version)
        .join(Measure, Assessment.measure_id == Measure.id)
        .where(Measure.designation == "HEIGHT")).all()
    assert sorted(float(raw) * 2.5 for raw, _, _ in heights) \
        == pytest.approx(sorted(clinical["height"] * 2.5))
    assert all(value == pytest.approx(float(raw) * 2.5) and stored == version
               for raw, value, stored in heights)


def test_a_mapping_that_cannot_map_a_stored_label_changes_nothing(app, seeded, tmp_path):
    assert flask_load(app, "OASIS").exit_code == 0
    before = data_counts()
    mapping, _ = changed_mapping(tmp_path, MCI_RULE, "")
    result = harmonise(app, "OASIS", "--mapping", str(mapping))
    assert result.exit_code == 2
    assert f"{mapping}, column 'conditions': stored label 'cdr 0.5; dx1 0.5 in memory only': " \
           "no value or rule of the mapping maps it (nothing was written)" in result.output
    assert data_counts() == before


def test_an_unknown_dataset_exits_2_naming_the_known_ones(app, seeded):
    result = harmonise(app, "NOPE", "--dry-run")
    assert result.exit_code == 2
    assert "no dataset 'NOPE' (known: " in result.output


def test_a_dataset_with_nothing_stored_has_nothing_to_change(app, seeded):
    version = read_mapping(find_dataset("HCP").mapping).version
    result = harmonise(app, "hcp")
    assert result.exit_code == 0, result.output
    assert result.output == f"HCP: mapping {version[:12]} changed 0 rows (none)\n"


def test_a_label_kept_without_a_condition_is_listed_then_mapped_once_covered(app, seeded,
                                                                             tmp_path):
    """ADNI reports labels outside its mapping (`unmapped: report`): harmonise lists their rows;
    a mapping that covers the label gives those rows its condition."""
    assert flask_load(app, "ADNI").exit_code == 0
    table = pd.read_csv(DATA_DIR / "ADNI" / "ADNIMERGE.csv", dtype=str, keep_default_na=False)
    label = "MCI to Dementia"
    by_kind = {"subject": int((table.loc[table["VISCODE"] == "bl", "DX_bl"] == label).sum()),
               "visit": int((table["DX"] == label).sum())}
    rows = sum(by_kind.values())
    mapping = find_dataset("ADNI").mapping
    version = read_mapping(mapping).version
    dry = harmonise(app, "ADNI", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output == (f"ADNI: mapping {version[:12]} would change 0 rows (none); {rows} "
                          f"rows with a label it does not map, left without a condition: "
                          f"{label!r} ({rows})\n")
    covering = tmp_path / "mapping.yaml"
    covering.write_text(mapping.read_text().replace(
        "    AD: Alzheimer's Disease\n", f"    AD: Alzheimer's Disease\n    {label}: "
                                        "Alzheimer's Disease\n"))
    applied = harmonise(app, "ADNI", "--mapping", str(covering), "--json")
    assert applied.exit_code == 0, applied.output
    result = json.loads(applied.output)
    assert (result["counts"], result["unmapped_labels"]) \
        == ({kind: count for kind, count in by_kind.items() if count}, {})
    assert {change["new"] for change in result["changes"]} == {"Alzheimer's Disease"}
