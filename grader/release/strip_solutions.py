"""Step: replace every student region, markers included, with a stub indented like its marker."""

from nbformat import NotebookNode

from . import notebooks
from .bundle import Bundle
from .check_markers import find_regions

# What a student finds in place of each region, every line indented like the BEGIN marker.
STUB = "# TODO: write your solution here (see the docstring).\nraise NotImplementedError"


def strip_text(text: str, where: str, stub: str = STUB) -> str:
    """`text` with each region replaced by `stub`; every other byte is kept as it was."""
    lines = text.split("\n")
    kept: list[str] = []
    start = 0
    for region in find_regions(text, where):
        kept.extend(lines[start : region.begin])
        eol = "\r" if lines[region.begin].endswith("\r") else ""  # keep CRLF files CRLF
        kept.extend(region.indent + stub_line + eol for stub_line in stub.split("\n"))
        start = region.end + 1
    kept.extend(lines[start:])
    return "\n".join(kept)


def strip_notebook(notebook: NotebookNode, where: str, stub: str = STUB) -> bool:
    """Strip the regions of every code cell in place; say whether any cell changed."""
    changed = False
    for index, cell in notebooks.code_cells(notebook):
        stripped = strip_text(cell.source, f"{where}[cell {index}]", stub)
        changed = changed or stripped != cell.source
        cell.source = stripped
    return changed


def strip_solutions(bundle: Bundle) -> None:
    """Stub out the regions of every .py file and notebook of the release."""
    for path in bundle.paths(".py"):
        bundle.set_text(path, strip_text(bundle.text(path), bundle.origin(path)))
    for path in bundle.paths(".ipynb"):
        notebook = notebooks.load(bundle.files[path])
        if strip_notebook(notebook, bundle.origin(path)):
            bundle.files[path] = notebooks.dump(notebook)
