"""Tests of grader/release/check_markers.py: strict parsing of the solution markers."""

from pathlib import Path, PurePosixPath

import nbformat
import pytest

from grader.release.bundle import Bundle
from grader.release.check_markers import MarkerError, Region, check_markers, find_regions

GOOD = """def f(x):
    \"\"\"Doc.\"\"\"
    # BEGIN SOLUTION
    return x
    # END SOLUTION


def g(x):
    # BEGIN SOLUTION
    return -x
    # END SOLUTION
"""


def test_regions_are_found_with_their_lines_and_indent() -> None:
    """Are both regions of a well-formed file found, with marker lines and indentation?"""
    assert find_regions(GOOD, "good.py") == [Region(2, 4, "    "), Region(8, 10, "    ")]


def test_text_without_markers_has_no_region() -> None:
    """Does a file without markers parse to no region at all?"""
    assert find_regions("x = 1\n# a comment about solutions\n", "plain.py") == []


def test_missing_end_raises() -> None:
    """Is an error raised when END is missing, pointing at the BEGIN that is left open?"""
    text = "def f():\n    # BEGIN SOLUTION\n    return 1\n"
    with pytest.raises(MarkerError, match="without an END") as caught:
        find_regions(text, "f.py")
    assert caught.value.line == 2


def test_nested_begin_raises() -> None:
    """Is an error raised when a BEGIN comes inside an open region?"""
    text = "    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    # END SOLUTION\n    # END SOLUTION\n"
    with pytest.raises(MarkerError, match="inside the region opened at line 1") as caught:
        find_regions(text, "f.py")
    assert caught.value.line == 2


def test_end_without_begin_raises() -> None:
    """Is an error raised for an END with no BEGIN before it?"""
    with pytest.raises(MarkerError, match="END without a BEGIN") as caught:
        find_regions("x = 1\n# END SOLUTION\n", "f.py")
    assert caught.value.line == 2


@pytest.mark.parametrize(
    "line",
    [
        "    # BEGIN SOLUTION (problem 1)",
        "    return x  # END SOLUTION",
        "    #BEGIN SOLUTION",
        "    ## BEGIN SOLUTION",
        "    # begin solution",
        "    # END  SOLUTION",
    ],
)
def test_marker_line_with_extra_text_raises(line: str) -> None:
    """Is a line that looks like a marker but holds something else refused?"""
    with pytest.raises(MarkerError, match="text besides the marker"):
        find_regions(f"def f(x):\n{line}\n    return x\n", "f.py")


def test_end_indented_unlike_begin_raises() -> None:
    """Is an END indented differently from its BEGIN refused?"""
    text = "def f():\n    # BEGIN SOLUTION\n    return 1\n# END SOLUTION\n"
    with pytest.raises(MarkerError, match="not indented like its BEGIN at line 2"):
        find_regions(text, "f.py")


def test_message_names_file_line_and_text() -> None:
    """Does the message give file:line, the offending line's text and a remedy?"""
    text = "a = 1\nb = 2\n    # END SOLUTION\n"
    with pytest.raises(MarkerError) as caught:
        find_regions(text, "solutions/hw/pkg/mod.py")
    message = str(caught.value)
    assert message.startswith("solutions/hw/pkg/mod.py:3: ")
    assert "'# END SOLUTION'" in message
    assert "each alone on its line" in message


def _bundle(files: dict[str, bytes]) -> Bundle:
    bundle = Bundle(repo=Path("/nowhere"), hw="hw")
    bundle.files = {PurePosixPath(k): v for k, v in files.items()}
    return bundle


def test_step_reports_notebook_cell_and_line() -> None:
    """Does the step check notebook code cells and name the cell and line of a bad marker?"""
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title"),
            nbformat.v4.new_code_cell("x = 1\n# BEGIN SOLUTION\ny = 2"),
        ]
    )
    bundle = _bundle({"nb.ipynb": nbformat.writes(nb).encode()})
    with pytest.raises(MarkerError, match=r"solutions/hw/nb\.ipynb\[cell 2\]:2: "):
        check_markers(bundle)


@pytest.mark.parametrize("name", ["README.md", "notes.txt"])
def test_step_refuses_markers_outside_code(name: str) -> None:
    """Is a marker in a file where markers are not stripped refused rather than shipped?"""
    bundle = _bundle({name: b"Intro\n# BEGIN SOLUTION\n", "blob.bin": b"\xff\x00\xfe"})
    with pytest.raises(MarkerError, match=f"solutions/hw/{name}:2: "):
        check_markers(bundle)


def test_step_accepts_well_formed_files() -> None:
    """Does the step pass a release whose markers are all well formed, binaries included?"""
    check_markers(_bundle({"good.py": GOOD.encode(), "blob.bin": b"\xff\x00\xfe"}))
