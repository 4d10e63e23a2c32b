"""What a load did: per table inserted / updated / unchanged, and what it ignored and why."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from load_db.engine.cells import printable


@dataclass
class TableCounts:
    """Rows of one table a load inserted, updated, or found already up to date."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: TableCounts) -> TableCounts:
        return TableCounts(self.inserted + other.inserted, self.updated + other.updated,
                           self.unchanged + other.unchanged)

    @property
    def written(self) -> int:
        return self.inserted + self.updated


@dataclass
class LoadReport:
    """The outcome of a load, printed at the end, stored in load_run and available as JSON."""

    tables: dict[str, TableCounts] = field(default_factory=dict)
    ignored: Counter[str] = field(default_factory=Counter)
    # Rows that were stored but deserve a look (e.g. an image with no visit before it).
    notes: Counter[str] = field(default_factory=Counter)
    # A few examples per reason (file paths, ids), so a user can go and look.
    examples: dict[str, list[str]] = field(default_factory=dict)
    # What an incremental load did with its input files, by FILE_STATES.
    files: Counter[str] = field(default_factory=Counter)
    dry_run: bool = False

    # How an incremental load counts its input files, in the order the summary shows them.
    FILE_STATES = {"read": "read", "unchanged": "unchanged since the last load (not read again)",
                   "gone": "gone since the last load"}

    MAX_EXAMPLES = 5

    def add(self, table: str, counts: TableCounts) -> None:
        """Add the counts of one write to `table`."""
        self.tables[table] = self.tables.get(table, TableCounts()) + counts

    def _keep_examples(self, reason: str, new_examples: list[str]) -> None:
        examples = self.examples.setdefault(reason, [])
        # File names may hold anything (a newline, bytes that are not UTF-8): the report is
        # printed and stored as JSON, so they are kept as escapes.
        examples.extend(printable(example)
                        for example in new_examples[: self.MAX_EXAMPLES - len(examples)])

    def ignore(self, reason: str, example: str | None = None, count: int = 1) -> None:
        """Count `count` input rows left out for `reason`, keeping a few examples."""
        reason = printable(reason)
        self.ignored[reason] += count
        self._keep_examples(reason, [example] if example is not None else [])

    def note(self, reason: str, examples: list[str] | None = None, count: int = 1) -> None:
        """Count `count` stored rows that deserve a look for `reason`."""
        reason = printable(reason)
        self.notes[reason] += count
        self._keep_examples(reason, examples or [])

    def merge(self, other: LoadReport) -> None:
        """Fold another report into this one."""
        for table, counts in other.tables.items():
            self.add(table, counts)
        self.ignored.update(other.ignored)
        self.notes.update(other.notes)
        self.files.update(other.files)
        for reason, examples in other.examples.items():
            self._keep_examples(reason, examples)

    def counts(self, table: str) -> TableCounts:
        return self.tables.get(table, TableCounts())

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON-ready data."""
        return {
            "dry_run": self.dry_run,
            "tables": {name: vars(counts).copy() for name, counts in self.tables.items()},
            "ignored": dict(self.ignored),
            "notes": dict(self.notes),
            "files": dict(self.files),
            "examples": {reason: list(examples) for reason, examples in self.examples.items()},
        }

    def one_line(self) -> str:
        """Return the counts on one line, for a log (the same numbers as `summary`)."""
        parts = [f"{name} +{c.inserted} ~{c.updated} ={c.unchanged}"
                 for name, c in self.tables.items()]
        if self.ignored:
            parts.append(f"ignored {sum(self.ignored.values())}")
        return ("dry run; " if self.dry_run else "") + ("; ".join(parts) or "nothing to load")

    def summary(self) -> str:
        """Return a few human-readable lines."""
        lines = ["dry run: nothing was written"] if self.dry_run else []
        for name, c in self.tables.items():
            lines.append(f"{name}: {c.inserted} inserted, {c.updated} updated, "
                         f"{c.unchanged} unchanged")
        if self.files:
            lines.append("files: " + ", ".join(f"{self.files[state]} {label}" for state, label
                                               in self.FILE_STATES.items()))
        for label, counter in (("ignored", self.ignored), ("note", self.notes)):
            for reason, count in sorted(counter.items()):
                examples = self.examples.get(reason)
                suffix = f" (e.g. {', '.join(examples)})" if examples else ""
                lines.append(f"{label} {count}: {reason}{suffix}")
        return "\n".join(lines) or "nothing to load"
