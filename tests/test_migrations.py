"""Migrations build exactly the models' schema and tear it down again, on both databases."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app.extensions import db
from tests.support.apps import make_app


def test_upgrade_matches_models_and_downgrade_removes_every_table(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        assert set(inspect(db.engine).get_table_names()) == set(db.metadata.tables) | {
            "alembic_version"}

        result = app.test_cli_runner().invoke(args=["db", "check"])
        assert result.exit_code == 0, result.output

        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        db.engine.dispose()


def _check_of_image_type(engine) -> str:
    checks = inspect(engine).get_check_constraints("image")
    return next(check["sqltext"] for check in checks if check["name"] == "ck_image_type")


def test_the_mammogram_migration_rewrites_the_image_type_check(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="318aa87e258e")
        assert "Mammogram" not in _check_of_image_type(db.engine)
        upgrade(revision="e4b1c2d3f5a6")
        check = _check_of_image_type(db.engine)
        assert all(kind in check for kind in ("'T1'", "'DWI'", "'rsfMRI'", "'FieldMap'",
                                              "'Mammogram'"))
        downgrade(revision="318aa87e258e")
        assert "Mammogram" not in _check_of_image_type(db.engine)
        downgrade(revision="base")
        db.engine.dispose()


def test_the_image_measure_copies_migration_fills_the_rows_already_stored(empty_database_url):
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from app.models import Dataset, Image, Measure, Subject

    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="c5d8e2a4b6f1")
        with db.engine.begin() as connection:
            def add(model, **values):
                return connection.execute(insert(model.__table__).values(**values)
                                          .returning(model.__table__.c.id)).scalar_one()
            dataset = add(Dataset, designation="DS", description="", storage_prefix="DS")
            subject = add(Subject, dataset_id=dataset, external_id="s1")
            image = add(Image, dataset_id=dataset, subject_id=subject, type="DWI", path="a",
                        search_condition_id=None, search_sex="female", search_age_at_scan=61.5,
                        qc_state="blacklisted", deleted_at=datetime(2026, 1, 2, tzinfo=UTC))
            measure = add(Measure, designation="SCORE", kind="number")
            connection.exec_driver_sql(
                "INSERT INTO image_measure (image_id, measure_id, value_number, day) "
                f"VALUES ({image}, {measure}, 21, 0)")
        upgrade(revision="d8a4f6c2e9b3")
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql(
                "SELECT dataset_id, type, search_condition_id, search_sex, search_age_at_scan "
                "FROM image_measure").all() == [(dataset, "DWI", None, "female", 61.5)]
        # Then what decides whether the image is shown: its subject, QC state and deletion.
        upgrade(revision="f3b7d1e5a9c2")
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql(
                "SELECT subject_id, qc_state, deleted_at IS NOT NULL FROM image_measure"
            ).all() == [(subject, "blacklisted", True)]
        assert "subject_id" in {column for index in inspect(db.engine).get_indexes(
            "image_measure") if index["name"] == "ix_image_measure_search"
            for column in index["column_names"]}
        downgrade(revision="d8a4f6c2e9b3")
        assert "subject_id" not in {column["name"] for column in inspect(db.engine).get_columns(
            "image_measure")}
        downgrade(revision="base")
        db.engine.dispose()
