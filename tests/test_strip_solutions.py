"""Tests of grader/release/strip_solutions.py: regions become stubs, nothing else changes."""

from pathlib import Path, PurePosixPath

import nbformat
import pytest

from grader.release import notebooks
from grader.release.bundle import Bundle
from grader.release.strip_solutions import STUB, strip_notebook, strip_solutions, strip_text

TODO, RAISE = STUB.split("\n")


def _region(indent: str, body: str = "return 1") -> str:
    return f"{indent}# BEGIN SOLUTION\n{indent}{body}\n{indent}# END SOLUTION\n"


def _stub(indent: str) -> str:
    return f"{indent}{TODO}\n{indent}{RAISE}\n"


def test_stub_is_a_todo_line_then_raise() -> None:
    """Is the stub a TODO line followed by raise NotImplementedError?"""
    assert STUB.split("\n") == [
        "# TODO: write your solution here (see the docstring).",
        "raise NotImplementedError",
    ]


@pytest.mark.parametrize("indent", ["", "    ", "        ", "            ", "\t\t"])
def test_stub_is_indented_like_the_marker(indent: str) -> None:
    """Does every stub line take the BEGIN marker's indentation, at any depth?"""
    assert strip_text(_region(indent), "f.py") == _stub(indent)


def test_code_outside_regions_is_unchanged_byte_for_byte() -> None:
    """Are the bytes before, between and after the regions kept exactly (CRLF, no last EOL)?"""
    before = '"""Mod."""\r\nimport math  \r\n\r\n\r\ndef f(x):\r\n    """Doc \u00e9."""\r\n'
    region = "    # BEGIN SOLUTION\r\n    return math.pi * x\r\n    # END SOLUTION\r\n"
    after = "\r\n\r\nCONSTANT = 3\t# kept\r\nlast = 'no newline'"
    stub = f"    {TODO}\r\n    {RAISE}\r\n"
    assert strip_text(before + region + after, "f.py") == before + stub + after


def test_two_regions_in_one_file() -> None:
    """Are two regions in one file both replaced, and the code between them kept?"""
    text = "def f():\n" + _region("    ") + "\n\nclass A:\n    def g(self):\n"
    text += _region("        ", "return 2") + "\n    x = 3\n"
    expected = "def f():\n" + _stub("    ") + "\n\nclass A:\n    def g(self):\n"
    expected += _stub("        ") + "\n    x = 3\n"
    assert strip_text(text, "f.py") == expected


def test_stubbed_function_raises_not_implemented() -> None:
    """Does a stripped function still compile and raise NotImplementedError when called?"""
    text = 'def f(x):\n    """Doc."""\n' + _region("    ", "return x + 1")
    namespace: dict = {}
    exec(compile(strip_text(text, "f.py"), "f.py", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)


def test_custom_stub_text() -> None:
    """Can the stub text be chosen, still indented like the marker?"""
    assert strip_text(_region("  "), "f.py", stub="pass") == "  pass\n"


def _notebook() -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("Write `f`."),
            nbformat.v4.new_code_cell("def f(x):\n" + _region("    ") + "\nf(2)"),
            nbformat.v4.new_code_cell("import math"),
        ]
    )


def test_notebook_code_cell_is_stripped() -> None:
    """Is a region in a notebook code cell stubbed, other cells left alone?"""
    nb = _notebook()
    assert strip_notebook(nb, "nb.ipynb")
    assert nb.cells[1].source == "def f(x):\n" + _stub("    ") + "\nf(2)"
    assert nb.cells[0].source == "Write `f`." and nb.cells[2].source == "import math"


def test_step_strips_python_and_notebooks_and_keeps_the_rest() -> None:
    """Does the step strip .py files and notebooks and leave other files' bytes alone?"""
    bundle = Bundle(repo=Path("/nowhere"), hw="hw")
    untouched = {"data.bin": b"\x00\xff# BEGIN", "plain.py": b"x = 1\n", "README.md": b"Hi\n"}
    bundle.files = {PurePosixPath(k): v for k, v in untouched.items()}
    bundle.files[PurePosixPath("mod.py")] = _region("").encode()
    bundle.files[PurePosixPath("nb.ipynb")] = notebooks.dump(_notebook())
    strip_solutions(bundle)
    assert bundle.files[PurePosixPath("mod.py")] == _stub("").encode()
    nb = notebooks.load(bundle.files[PurePosixPath("nb.ipynb")])
    assert "BEGIN SOLUTION" not in nb.cells[1].source and RAISE in nb.cells[1].source
    assert all(bundle.files[PurePosixPath(k)] == v for k, v in untouched.items())
