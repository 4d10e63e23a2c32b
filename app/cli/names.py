"""`flask names DATASET [--manual FILE]`: predicted RADIFOX-style names, and manual ones."""
from __future__ import annotations

from pathlib import Path

import click

from app.cli.arguments import dataset_argument
from app.cli.reporting import echo_json, json_option


class BadNames(click.ClickException):
    """A manual-names file or a dataset that cannot be used: bad input, exit code 2."""

    exit_code = 2


@click.command("names")
@dataset_argument()
@click.option("--manual", "manual_file", type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path),
              help="CSV with columns path (an image's storage key) and name: names given by "
                   "hand, which take precedence over predictions (both are kept).")
@json_option
def names_command(dataset: str, manual_file: Path | None, as_json: bool) -> None:
    """Predict the type name of every image of DATASET from its sidecar or header; with
    --manual, set names given by hand too. One transaction: a bad file changes nothing."""
    from app.extensions import db
    from app.names import NameFilterError
    from app.names.store import apply_manual_names, predict_names, read_manual_names

    try:
        predicted = predict_names(db.session, dataset)
        manual = 0
        if manual_file is not None:
            rows = read_manual_names(manual_file)
            try:
                manual = apply_manual_names(db.session, dataset, rows)
            except NameFilterError as exc:
                raise NameFilterError(f"{manual_file}, {exc}") from None
    except NameFilterError as exc:
        db.session.rollback()
        raise BadNames(f"{exc} (nothing was written)") from None
    db.session.commit()
    if as_json:
        echo_json({"predicted": predicted, "manual": manual})
    else:
        click.echo(f"predicted names changed: {predicted}, manual names set: {manual}")
