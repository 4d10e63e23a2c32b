"""`flask dataset list|examples|delete`."""
import json

from sqlalchemy import select

from app.models import Dataset, Image, LoadRun, Subject, Visit
from globals import DATA_DIR
from load_db.datasets import discover
from tests.support.examples import count, flask_load


def invoke(app, *args, **options):
    return app.test_cli_runner().invoke(args=["dataset", *args], **options)


def test_list_counts_each_dataset_and_its_last_load(app, seeded):
    assert flask_load(app, "HCP").exit_code == 0
    rows = {row["designation"]: row for row in json.loads(invoke(app, "list", "--json").output)}
    assert len(rows) == 13
    hcp = rows["HCP"]
    assert (hcp["subjects"], hcp["visits"], hcp["images"], hcp["deleted"]) == (12, 12, 11, None)
    assert hcp["last_load"] is not None and rows["ADNI"]["last_load"] is None
    text = invoke(app, "list").output.splitlines()
    assert text[0] == "designation\tsubjects\tvisits\timages\tlast load\tdeleted"
    assert "ADNI\t0\t0\t0\t-\t-" in text
    assert any(line.startswith("HCP\t12\t12\t11\t") and line.endswith("\t-") for line in text)


def test_examples_lists_what_make_run_loads():
    from app import create_app

    runner = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"}).test_cli_runner()
    result = runner.invoke(args=["dataset", "examples"])
    # every package with an example writer and its data under data/, in discovery order
    listed = [f"{package.designation}\t{DATA_DIR / package.data_folder}"
              for package in discover().values()
              if package.write_example and (DATA_DIR / package.data_folder).is_dir()]
    assert result.output.splitlines() == listed
    # make run's bundled examples are among them
    assert {"HCP", "OASIS", "OMI-DB", "OpenPain"} <= {line.split("\t")[0] for line in listed}


def test_delete_is_soft_by_default(app, seeded):
    assert flask_load(app, "HCP").exit_code == 0
    result = invoke(app, "delete", "hcp")
    assert result.exit_code == 0, result.output
    assert result.output == ("dataset 'HCP' marked deleted (its rows are kept; --purge removes "
                             "them)\n")
    hcp = seeded.scalar(select(Dataset).where(Dataset.designation == "HCP"))
    seeded.refresh(hcp)
    assert hcp.deleted_at is not None
    assert count(seeded, Subject, Subject.dataset_id == hcp.id) == 12


def test_purge_asks_then_removes_every_row_of_the_dataset_only(app, seeded):
    for designation in ("HCP", "OpenPain"):
        assert flask_load(app, designation).exit_code == 0
    refused = invoke(app, "delete", "HCP", "--purge", input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert count(seeded, Subject) == 24

    result = invoke(app, "delete", "HCP", "--purge", "--yes")
    assert result.exit_code == 0, result.output
    assert result.output == ("dataset 'HCP' removed: 0 qc_review, 0 header_drift, "
                             "0 gold_standard, 0 series_tag, 0 study_tag, "
                             "0 preprocess_task_file, 0 image_file, 11 image, 12 visit, "
                             "12 subject, 1 scanner, 1 dataset_condition\n")
    seeded.expire_all()
    assert seeded.scalar(select(Dataset).where(Dataset.designation == "HCP")) is None
    assert (count(seeded, Subject), count(seeded, Visit), count(seeded, Image)) == (12, 24, 46)
    assert count(seeded, LoadRun, LoadRun.loader == "load HCP", LoadRun.dataset_id.is_(None)) == 1


def test_deleting_an_unknown_dataset_lists_the_known_ones(app, seeded):
    result = invoke(app, "delete", "NOPE")
    assert result.exit_code == 2
    assert "no dataset 'NOPE' (known: ADNI, AIBL," in result.output
