"""Labels outside a dataset's mapping: what the mapping file says they do (error, or report),
applied by the engine to a load and by `flask harmonise` to what is stored, on both databases."""
import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Condition, DatasetCondition, Subject, Visit
from load_db.engine import LoadError, LoadReport, load_frames
from load_db.engine.labels import NO_CONDITION, OUTSIDE_MAPPING, mapped_labels
from load_db.engine.mapping import read_mapping
from load_db.harmonise import harmonise_dataset
from tests.support.apps import table_counts
from tests.support.factories import make_condition, make_dataset

HC, AD = "Healthy Control", "Alzheimer's Disease"
COVERED = "values: {CN: Healthy Control, AD: Alzheimer's Disease, SWEDD: null}"


def mapping_file(tmp_path, unmapped: str | None, values: str = COVERED, column: str = ""):
    """A mapping file with these condition values and `unmapped` policy (None: the default)."""
    lines = ["conditions:", f"  {values}"]
    lines += [f"  unmapped: {unmapped}"] if unmapped else []
    lines += [f"  column: {column}"] if column else []
    path = tmp_path / f"mapping-{unmapped}-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return read_mapping(path)


def frames():
    """Subjects and visits labelled CN, AD, SWEDD (mapped to none) and MCI-AD (not covered):
    MCI-AD on two visits and one subject; the visits' labels read from dx.csv's DX column."""
    subjects = pd.DataFrame({
        "external_id": ["s1", "s2", "s3"], "condition": ["CN", "SWEDD", "MCI-AD"],
        "source_file": "data/subjects.csv", "source_row": [2, 3, 4]})
    visits = pd.DataFrame({
        "subject": ["s1", "s1", "s2", "s3"], "external_id": ["v1", "v2", "v1", "v1"],
        "condition": ["CN", "MCI-AD", None, "MCI-AD"],
        "condition_source": [{"file": "data/dx.csv", "row": row, "column": "DX"}
                             for row in (5, 6, 7, 8)],
        "source_file": "data/visits.csv", "source_row": [2, 3, 4, 5]})
    return {"subjects": subjects, "visits": visits}


def outside(label, path="mapping.yaml"):
    return OUTSIDE_MAPPING.format(mapping=path, label=label)


def test_report_keeps_the_label_without_a_condition_and_lists_its_rows(tmp_path):
    mapping = mapping_file(tmp_path, "report")
    report = LoadReport()
    assert mapped_labels(frames(), mapping, report) == {"CN": HC, "MCI-AD": None, "SWEDD": None}
    name = mapping.path.name
    assert dict(report.notes) == {outside("MCI-AD", name): 3,
                                  NO_CONDITION.format(mapping=name, label="SWEDD"): 1}
    # Each row by the file, row and column its label was read from.
    assert report.examples[outside("MCI-AD", name)] == [
        "subjects.csv, row 4, column 'condition'", "dx.csv, row 6, column 'DX'",
        "dx.csv, row 8, column 'DX'"]
    assert report.ignored == {}


@pytest.mark.parametrize(("unmapped", "strict", "column", "where"), [
    # the default is an error, at the label's first row (by label order: subjects first)
    (None, False, "", "data/subjects.csv, row 4, column 'condition'"),
    ("error", False, "group", "data/subjects.csv, row 4, column 'group'"),
    ("report", True, "", "data/subjects.csv, row 4, column 'condition'"),
])
def test_error_or_strict_stops_naming_file_row_and_column(tmp_path, unmapped, strict, column,
                                                          where):
    mapping = mapping_file(tmp_path, unmapped, column=column)
    with pytest.raises(LoadError) as raised:
        mapped_labels(frames(), mapping, LoadReport(), strict=strict)
    assert str(raised.value) == (f"{where}: unknown diagnosis label 'MCI-AD' (outside "
                                 f"{mapping.path.name}): no value or rule of the mapping maps it")


def test_a_label_mapped_to_null_is_no_error_even_when_strict(tmp_path):
    mapping = mapping_file(tmp_path, None)
    only_known = {name: frame[frame["condition"] != "MCI-AD"] for name, frame in frames().items()}
    report = LoadReport()
    assert mapped_labels(only_known, mapping, report, strict=True) == {"CN": HC, "SWEDD": None}
    assert report.examples[NO_CONDITION.format(mapping=mapping.path.name, label="SWEDD")] == [
        "subjects.csv, row 3, column 'condition'"]


def test_a_function_without_a_mapping_stops_at_a_label_it_lacks():
    with pytest.raises(LoadError, match=r"visits.csv, row 2, column 'condition': unknown "
                                        r"diagnosis label 'XX' \(outside the mapping\): "
                                        r"nothing maps it"):
        mapped_labels({"visits": frames()["visits"].drop(columns="condition_source")
                       .assign(condition="XX")}, None, LoadReport(), map_condition={}.__getitem__)


def test_a_bad_policy_is_a_mapping_error(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text("conditions:\n  unmapped: ignore\n")
    with pytest.raises(LoadError, match="key conditions.unmapped: Input should be 'error' or "
                                        "'report'"):
        read_mapping(path)


def stored(session):
    """{(kind, external_id): (condition designation, raw label)} of the subjects and visits."""
    names = dict(session.execute(select(Condition.id, Condition.designation)).all())
    rows = {("subject", s.external_id): (names.get(s.condition_id), s.condition_label)
            for s in session.scalars(select(Subject))}
    rows |= {("visit", f"{v.subject.external_id}/{v.external_id}"):
             (names.get(v.condition_id), v.condition_label) for v in session.scalars(select(Visit))}
    return rows


def test_load_then_harmonise_the_stored_raw_labels(plain_session, tmp_path):
    session = plain_session
    make_dataset(session, designation="DEMO")
    for designation in (HC, AD):
        make_condition(session, designation=designation)
    session.commit()
    report_mapping = mapping_file(tmp_path, "report")

    # Strict: the load stops at the label, the database unchanged.
    before = table_counts(session)
    with pytest.raises(LoadError, match=r"dx.csv, row 6, column 'DX': unknown diagnosis label "
                                        r"'MCI-AD'"):
        load_frames(session, "DEMO", subjects=frames()["subjects"].iloc[:2],
                    visits=frames()["visits"], mapping=report_mapping, strict=True)
    session.rollback()
    assert table_counts(session) == before

    report = load_frames(session, "DEMO", **frames(), mapping=report_mapping)
    session.commit()
    assert report.notes[outside("MCI-AD", report_mapping.path.name)] == 3
    expected = {("subject", "s1"): (HC, "CN"), ("subject", "s2"): (None, "SWEDD"),
                ("subject", "s3"): (None, "MCI-AD"), ("visit", "s1/v1"): (HC, "CN"),
                ("visit", "s1/v2"): (None, "MCI-AD"), ("visit", "s2/v1"): (None, None),
                ("visit", "s3/v1"): (None, "MCI-AD")}
    assert stored(session) == expected
    labels = select(DatasetCondition.source_label)
    assert sorted(session.scalars(labels)) == ["CN"]
    again = load_frames(session, "DEMO", **frames(), mapping=report_mapping)
    assert all(counts.written == 0 for counts in again.tables.values())

    # The mapping now covers the label: harmonise maps the stored raw labels.
    covering = mapping_file(tmp_path, "report",
                            values=COVERED.replace("SWEDD", "MCI-AD: Alzheimer's Disease, SWEDD"))
    result = harmonise_dataset(session, "DEMO", covering)
    session.commit()
    assert result.unmapped_labels == {}
    assert sorted((c.kind, c.subject, c.visit, c.new) for c in result.changes) == [
        ("subject", "s3", None, AD), ("visit", "s1", "v2", AD), ("visit", "s3", "v1", AD)]
    assert sorted(session.scalars(labels)) == ["CN", "MCI-AD"]

    # Back to a mapping without it: with `report` the rows lose the condition and the label is
    # listed; with `error` nothing changes and harmonise stops.
    with pytest.raises(LoadError, match="column 'conditions': stored label 'MCI-AD': no value "
                                        "or rule of the mapping maps it"):
        harmonise_dataset(session, "DEMO", mapping_file(tmp_path, "error"), dry_run=True)
    dry = harmonise_dataset(session, "DEMO", report_mapping, dry_run=True)
    assert (dry.unmapped_labels, len(dry.changes), dry.to_dict()["unmapped_labels"]) \
        == ({"MCI-AD": 3}, 3, {"MCI-AD": 3})
    session.rollback()
    harmonise_dataset(session, "DEMO", report_mapping)
    session.commit()
    assert stored(session) == expected
    assert sorted(session.scalars(labels)) == ["CN"]
