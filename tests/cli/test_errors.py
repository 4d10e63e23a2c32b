"""A command's bad input exits with the engine's bad-input code, and a LoadError becomes one."""
import click
import pytest

from app.cli.errors import BadInput, load_errors_as_exit_codes
from load_db.engine.errors import EXIT_BAD_INPUT, LoadError


def test_bad_input_exits_with_the_engines_bad_input_code():
    assert BadInput("x").exit_code == EXIT_BAD_INPUT == 2


def test_a_load_error_becomes_a_bad_input_naming_file_row_and_column():
    with pytest.raises(click.ClickException) as raised, load_errors_as_exit_codes():
        raise LoadError("not a number", file="subjects.csv", row=3, column="age")
    assert isinstance(raised.value, BadInput)
    assert raised.value.message == ("subjects.csv, row 3, column 'age': not a number "
                                    "(nothing was written)")
