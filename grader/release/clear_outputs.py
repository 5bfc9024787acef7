"""Step: clear the outputs and execution counts of every notebook, so no result ships."""

from nbformat import NotebookNode

from . import notebooks
from .bundle import Bundle


def clear_notebook(notebook: NotebookNode) -> None:
    """Empty every code cell's outputs and forget its execution count, in place."""
    for _, cell in notebooks.code_cells(notebook):
        cell.outputs = []
        cell.execution_count = None


def clear_outputs(bundle: Bundle) -> None:
    """Clear every notebook of the release."""
    for path in bundle.paths(".ipynb"):
        notebook = notebooks.load(bundle.files[path])
        clear_notebook(notebook)
        bundle.files[path] = notebooks.dump(notebook)
