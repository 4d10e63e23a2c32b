"""A BIDS dataset uploaded to object storage loads from the bucket exactly as from disk."""
import pytest
from sqlalchemy import select

from app.models import Image, Scanner, Subject, Visit
from app.storage import get_storage
from globals import DATA_DIR
from load_file.upload import upload_tree
from tests.support.apps import data_counts

EXAMPLE = DATA_DIR / "openpain"


pytestmark = pytest.mark.storage("each")


def snapshot(session):
    """Every loaded row, by natural key, with the values a load decides."""
    return {
        "subjects": sorted(session.execute(select(
            Subject.external_id, Subject.sex, Subject.age_at_baseline, Subject.metadata_json))
            .all()),
        "visits": sorted(session.execute(select(
            Subject.external_id, Visit.external_id, Visit.days_since_baseline, Visit.symptoms)
            .join(Subject)).all()),
        "images": sorted(session.execute(select(
            Image.path, Image.type, Image.file_size, Visit.external_id, Scanner.manufacturer,
            Scanner.field_strength, Image.metadata_json)
            .join(Visit, Image.visit_id == Visit.id).join(Scanner, Image.scanner_id == Scanner.id))
            .all()),
    }


def load_bids(app, *arguments):
    result = app.test_cli_runner().invoke(args=["load-bids", *arguments, "--dataset", "OpenPain"])
    assert result.exit_code == 0, result.output
    return result.output


def test_uploaded_dataset_loads_from_the_bucket_with_the_same_rows_as_from_disk(app, session):
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    upload = upload_tree(get_storage(), EXAMPLE, "OpenPain", workers=2, progress=False)
    assert upload.ok and len(upload.uploaded) == 68

    output = load_bids(app, "--storage-prefix", "OpenPain")
    assert "subject: 12 inserted" in output and "visit: 24 inserted" in output
    assert "image: 46 inserted" in output
    from_bucket = snapshot(session)
    assert (len(from_bucket["subjects"]), len(from_bucket["visits"]), len(from_bucket["images"])) \
        == (12, 24, 46)

    # Loading the same dataset from disk finds every row already there, identical.
    output = load_bids(app, str(EXAMPLE))
    assert "subject: 0 inserted, 0 updated, 12 unchanged" in output
    assert "image: 0 inserted, 0 updated, 46 unchanged" in output
    for table in (Image, Visit, Subject):
        session.execute(table.__table__.delete())
    session.commit()
    load_bids(app, str(EXAMPLE))
    assert snapshot(session) == from_bucket


def test_missing_prefix_or_both_sources_are_clear_errors(app, session):
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    before = data_counts()
    runner = app.test_cli_runner()
    empty = runner.invoke(args=["load-bids", "--storage-prefix", "nothing-here", "--dataset",
                                "OpenPain"])
    assert empty.exit_code == 2
    assert "nothing was written" in empty.output
    both = runner.invoke(args=["load-bids", str(EXAMPLE), "--storage-prefix", "OpenPain",
                               "--dataset", "OpenPain"])
    assert both.exit_code == 2 and "exactly one" in both.output
    bad = runner.invoke(args=["load-bids", "--storage-prefix", "../up", "--dataset", "OpenPain"])
    assert bad.exit_code == 2 and "--storage-prefix" in bad.output
    missing = runner.invoke(args=["load-bids", "no/such/folder", "--dataset", "OpenPain"])
    assert missing.exit_code == 2 and "no/such/folder: no such folder" in missing.output
    assert data_counts() == before
