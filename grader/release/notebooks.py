"""Reading and writing the notebooks of a release with nbformat (version 4)."""

from collections.abc import Iterator

import nbformat
from nbformat import NotebookNode

AS_VERSION = 4


def load(data: bytes) -> NotebookNode:
    """Parse a notebook file's bytes, upgrading older formats to version 4."""
    return nbformat.reads(data.decode("utf-8"), as_version=AS_VERSION)


def dump(notebook: NotebookNode) -> bytes:
    """Serialise a notebook as nbformat writes it to disk, ending with a newline."""
    text = nbformat.writes(notebook, version=AS_VERSION)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def code_cells(notebook: NotebookNode) -> Iterator[tuple[int, NotebookNode]]:
    """(index, cell) of every code cell, indices counted from 1 among all cells."""
    for index, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "code":
            yield index, cell
