"""A class's grade table: one row per graded submission, written as CSV (one line per person)."""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from grader.fileio import write_atomic
from grader.gradescope_metadata import Submitter
from grader.results import GradingResult

CRASH_PREFIX = "not graded: the grader failed"
PARTIAL_PREFIX = "partial:"  # the status of a row graded on some hidden test files only (--only)
IDENTITY = ("name", "email", "sid")  # columns filled from a Gradescope export's metadata


@dataclass
class Row:
    """One submission's line of the CSV (and the body of OUT/<student>/batch.json)."""

    student: str
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    status: str = "not graded: no results yet (interrupted? rerun the command to finish)"
    items: dict = field(default_factory=dict)  # handout item -> points earned
    notes: str = ""

    @classmethod
    def from_marker(cls, marker: dict) -> "Row":
        """The row recorded in a student's batch.json."""
        return cls(**{k: marker[k] for k in cls.__dataclass_fields__ if k in marker})

    @property
    def graded(self) -> bool:
        """Whether the hidden tests ran on it (fully, or partially for course staff)."""
        return self.status == "graded" or self.status.startswith(PARTIAL_PREFIX)


def summarize(student: str, result: GradingResult, only: list[str] | None = None) -> Row:
    """The CSV row of one grading: total, status, points per handout item, notes. A partial
    grading (`only`: the hidden test files it ran) says so in its status: it is not a grade."""
    reasons = [
        n.split(":", 1)[1].strip() for n in result.notes if n.startswith("submission not graded:")
    ]
    items: dict = {}
    for t in result.tests:
        key = t.item or t.name
        items[key] = round(items.get(key, 0.0) + t.score, 4)
    if result.status == "not graded":
        status = "not graded: " + (reasons[0] if reasons else "the submission could not be read")
    elif result.status == "grader error":
        status = f"{CRASH_PREFIX}: see instructor_results.json"
    elif not result.tests:
        status = "not graded: no hidden test ran"
    elif result.partial:
        files = ", ".join(only) if only else "some hidden test files"
        status = f"{PARTIAL_PREFIX} only {files} ran (--only); not a grade"
    else:
        status = "graded"
    notes = "; ".join(n for n in result.notes if not n.startswith("submission not graded:"))
    return Row(
        student, result.total, result.possible, round(result.seconds, 1), status, items, notes
    )


def _item_key(item: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in item.split("."))


def write_csv(
    path: Path, rows: list[Row], identities: dict[str, list[Submitter]] | None = None
) -> None:
    """student, [name, email, sid,] score, max_score, seconds, status, one column per handout
    item, notes. With `identities` ({student: submitters}, from submission_metadata.yml), each
    submitter of a submission gets its own line (a group's members share its score), and a
    submission the metadata does not know gets one line with those three columns empty."""
    items = sorted({i for r in rows for i in r.items}, key=_item_key)
    who = list(IDENTITY) if identities is not None else []
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["student", *who, "score", "max_score", "seconds", "status", *items, "notes"])
    for r in rows:
        people = (identities.get(r.student) or [Submitter()]) if identities is not None else [None]
        for person in people:
            writer.writerow(
                [
                    r.student,
                    *([person.name, person.email, person.sid] if person else []),
                    f"{r.score:g}",
                    f"{r.max_score:g}",
                    r.seconds,
                    r.status,
                    *(f"{r.items[i]:g}" if i in r.items else "" for i in items),
                    r.notes,
                ]
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, buf.getvalue())
