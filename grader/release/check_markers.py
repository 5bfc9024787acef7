"""Step: parse the BEGIN / END SOLUTION markers strictly, failing with file, line and text."""

import re
from dataclasses import dataclass

from . import notebooks
from .bundle import Bundle, ReleaseError

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
# A line that mentions a marker in any spelling must be exactly BEGIN or END (plus indentation).
MENTION = re.compile(r"\b(BEGIN|END)\s*SOLUTION\b", re.IGNORECASE)
REMEDY = (
    f"A student region is a '{BEGIN}' line and an '{END}' line, each alone on its line and "
    "indented like the code, in a .py file or a notebook code cell; regions do not nest."
)


class MarkerError(ReleaseError):
    """A solution marker that does not parse: says where (file:line), what and how to fix it."""

    def __init__(self, where: str, line: int, text: str, problem: str) -> None:
        self.where, self.line, self.text, self.problem = where, line, text, problem
        super().__init__(f"{where}:{line}: {problem}: {text.strip()!r}\n{REMEDY}")


@dataclass(frozen=True)
class Region:
    """One student region: line indices (from 0) of its two markers, and their indentation."""

    begin: int
    end: int
    indent: str


def _kind(line: str) -> str | None:
    """'begin' or 'end' for a marker line, 'bad' for a line that only looks like one, else None."""
    stripped = line.strip()
    if stripped == BEGIN:
        return "begin"
    if stripped == END:
        return "end"
    return "bad" if MENTION.search(line) else None


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _problem(kind: str, line: str, opened: int | None, lines: list[str]) -> str | None:
    """What is wrong with a marker line of this kind, given the region open before it."""
    if kind == "bad":
        return "a marker line holds text besides the marker"
    if kind == "begin" and opened is not None:
        return f"BEGIN inside the region opened at line {opened + 1}"
    if kind == "end" and opened is None:
        return "END without a BEGIN before it"
    if kind == "end" and _indent(line) != _indent(lines[opened]):
        return f"END not indented like its BEGIN at line {opened + 1}"
    return None


def find_regions(text: str, where: str) -> list[Region]:
    """The student regions of a source text, in order; `where` names it in error messages."""
    lines = text.split("\n")
    regions: list[Region] = []
    opened: int | None = None
    for i, line in enumerate(lines):
        kind = _kind(line)
        if kind is None:
            continue
        problem = _problem(kind, line, opened, lines)
        if problem:
            raise MarkerError(where, i + 1, line, problem)
        if kind == "begin":
            opened = i
        else:
            regions.append(Region(opened, i, _indent(lines[opened])))
            opened = None
    if opened is not None:
        raise MarkerError(where, opened + 1, lines[opened], "BEGIN without an END after it")
    return regions


def refuse_mentions(text: str, where: str) -> None:
    """Raise if a text where markers are not understood (prose, markdown cells) mentions one."""
    for i, line in enumerate(text.split("\n")):
        if MENTION.search(line):
            raise MarkerError(where, i + 1, line, "a marker where markers are not understood")


def _check_notebook(data: bytes, where: str) -> None:
    for index, cell in enumerate(notebooks.load(data).cells, start=1):
        if cell.cell_type == "code":
            find_regions(cell.source, f"{where}[cell {index}]")
        else:
            refuse_mentions(cell.source, f"{where}[cell {index}]")


def check_markers(bundle: Bundle) -> None:
    """Parse every marker of the release; raise MarkerError at the first one that is wrong."""
    for path, data in sorted(bundle.files.items()):
        where = bundle.origin(path)
        if path.suffix == ".py":
            find_regions(bundle.text(path), where)
        elif path.suffix == ".ipynb":
            _check_notebook(data, where)
        else:
            try:
                refuse_mentions(data.decode("utf-8"), where)
            except UnicodeDecodeError:
                pass  # a binary file: markers cannot be in it
