"""Tests of grader/release/: the pipeline end to end, and every committed student folder."""

import ast
import contextlib
import inspect
import operator
import sys
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import nbformat
import pytest

from grader.release import REPO, ReleaseError, build, homeworks, main
from grader.release.bundle import list_files
from grader.release.check_markers import find_regions
from grader.release.clear_outputs import clear_notebook
from grader.release.strip_solutions import STUB

HOMEWORKS = homeworks()
MARKERS = ("BEGIN SOLUTION", "END SOLUTION")


@pytest.fixture(scope="module", params=HOMEWORKS)
def released(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generator's output for one homework, built once into a temporary folder."""
    out = tmp_path_factory.mktemp("release") / request.param
    build(request.param, out)
    return out


# ---------------------------------------------------------------------------------------------
# Every real homework
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hw", HOMEWORKS)
def test_committed_folder_equals_generator_output(hw: str, capsys: pytest.CaptureFixture) -> None:
    """Is the committed <repo>/<hw>/ exactly what the generator writes from solutions/<hw>/?"""
    drifted = main(hw, check=True)
    assert drifted == 0, capsys.readouterr().out


def test_no_released_file_holds_a_marker(released: Path) -> None:
    """Is every BEGIN / END SOLUTION marker gone from the release?"""
    leaks = [
        p
        for p in list_files(released)
        if any(m.encode() in (released / p).read_bytes() for m in MARKERS)
    ]
    assert leaks == []


def test_release_has_one_stub_per_region(released: Path) -> None:
    """Does the release hold one raise NotImplementedError stub per region of the solution?"""
    source = REPO / "solutions" / released.name
    for path in list_files(source):
        if path.suffix == ".py":
            regions = find_regions((source / path).read_text(), str(path))
            stubs = (released / path).read_text().count(STUB.split("\n")[0])
            assert stubs == len(regions), path


def _enclosing_function(tree: ast.Module, line: int) -> str | None:
    """Qualified name (Class.method) of the innermost def that contains `line`, if any."""
    best: tuple[int, str] | None = None
    todo: list[tuple[ast.AST, str]] = [(tree, "")]
    while todo:
        node, prefix = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                todo.append((child, name + "."))
                inside = child.lineno <= line <= (child.end_lineno or 0)
                if inside and not isinstance(child, ast.ClassDef):
                    best = max(best or (0, ""), (child.lineno, name))
    return best[1] if best else None


def _stubbed_functions(hw: str) -> list[tuple[str, str]]:
    """(module, qualified name) of every function of solutions/<hw> holding a region."""
    source, found = REPO / "solutions" / hw, []
    for path in list_files(source):
        text = (source / path).read_text() if path.suffix == ".py" else ""
        module = ".".join(path.with_suffix("").parts).removesuffix(".__init__")
        for region in find_regions(text, str(path)):
            name = _enclosing_function(ast.parse(text), region.begin + 1)
            assert name, f"{path}:{region.begin + 1}: a region outside any function"
            found.append((module, name))
    return found


@contextlib.contextmanager
def _imported_from(folder: Path) -> Iterator[None]:
    """Import top-level packages from `folder`, then give sys.modules back as it was."""
    tops = {p.stem for p in folder.iterdir()}
    saved = {k: sys.modules.pop(k) for k in list(sys.modules) if k.split(".")[0] in tops}
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        for name in [k for k in sys.modules if k.split(".")[0] in tops]:
            del sys.modules[name]
        sys.modules.update(saved)


def _call_with_mocks(function: object) -> None:
    """Call `function` with a MagicMock for each required positional parameter (self too)."""
    parameters = inspect.signature(function).parameters.values()
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    function(
        *[mock.MagicMock() for p in parameters if p.kind in positional and p.default is p.empty]
    )


def test_every_stubbed_function_raises_not_implemented(released: Path) -> None:
    """Does calling each stubbed function of the release raise NotImplementedError?"""
    targets = _stubbed_functions(released.name)
    assert targets, f"solutions/{released.name} has no student region"
    with _imported_from(released):
        for module, name in targets:
            function = operator.attrgetter(name)(__import__(module, fromlist=["_"]))
            with pytest.raises(NotImplementedError):
                _call_with_mocks(function)


def test_coursekit_is_shipped_identical(released: Path) -> None:
    """Is <repo>/coursekit/ shipped as <hw>/coursekit/, every .py file identical?"""
    shared = [p for p in list_files(REPO / "coursekit") if p.suffix == ".py"]
    shipped = list_files(released / "coursekit")
    assert shipped == shared
    for path in shared:
        shipped_bytes = (released / "coursekit" / path).read_bytes()
        assert shipped_bytes == (REPO / "coursekit" / path).read_bytes(), path


# ---------------------------------------------------------------------------------------------
# The pipeline on a tiny repository written by the tests
# ---------------------------------------------------------------------------------------------

SOLVED = (
    'def f(x):\n    """Double x."""\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION\n'
)
BINARY = bytes(range(256))


def _notebook_with_outputs() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("# BEGIN SOLUTION\nprint(42)\n# END SOLUTION")
    cell.execution_count = 3
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Print."), cell])


@pytest.fixture
def tiny_repo(tmp_path: Path) -> Path:
    """A repository with one homework (code, a notebook, a binary, artifacts) and coursekit/."""
    repo, files = (
        tmp_path / "repo",
        {
            "solutions/hw_tiny/pkg/__init__.py": b"",
            "solutions/hw_tiny/pkg/mod.py": SOLVED.encode(),
            "solutions/hw_tiny/weights.bin": BINARY,
            "solutions/hw_tiny/pkg/__pycache__/mod.cpython-311.pyc": b"\x00",
            "solutions/hw_tiny/checkpoints/vae/model-00001.pt": b"\x00",
            "solutions/hw_tiny/samples/grid.png": b"\x89PNG",
            "solutions/hw_tiny/q3_results/wgan.pt": b"\x00",
            "solutions/hw_tiny/svhn_vae_results/flow-gaussian_dryrun/model.pt": b"\x00",
            "solutions/hw_tiny/.ipynb_checkpoints/nb-checkpoint.ipynb": b"{}",
            "solutions/hw_tiny/stray.pyc": b"\x00",
            "coursekit/__init__.py": b'"""Shared."""\n',
            "coursekit/seeding.py": b"SEED = 0\n",
            "coursekit/notes.md": b"not shipped\n",
            "requirements-student.txt": b"torch\n",
        },
    )
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    nbformat.write(_notebook_with_outputs(), repo / "solutions/hw_tiny/nb.ipynb")
    return repo


def test_build_writes_exactly_the_release_files(tiny_repo: Path, tmp_path: Path) -> None:
    """Are caches and artifacts left out, coursekit's .py files and the student requirements
    added, the list returned?"""
    written = build("hw_tiny", tmp_path / "out", repo=tiny_repo)
    expected = [
        "coursekit/__init__.py",
        "coursekit/seeding.py",
        "nb.ipynb",
        "pkg/__init__.py",
        "pkg/mod.py",
        "requirements.txt",
        "weights.bin",
    ]
    assert written == [Path(p) for p in expected]
    on_disk = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*"))
    assert [p for p in on_disk if (tmp_path / "out" / p).is_file()] == written


def test_build_strips_clears_and_copies_binaries(tiny_repo: Path, tmp_path: Path) -> None:
    """Is code stubbed, the notebook stripped and cleared, and a binary copied as it is?"""
    out = tmp_path / "out"
    build("hw_tiny", out, repo=tiny_repo)
    assert "raise NotImplementedError" in (out / "pkg/mod.py").read_text()
    assert (out / "weights.bin").read_bytes() == BINARY
    cell = nbformat.read(out / "nb.ipynb", as_version=4).cells[1]
    assert cell.outputs == [] and cell.execution_count is None
    assert cell.source == STUB


def test_clear_notebook_empties_outputs_and_counts() -> None:
    """Does clear_outputs empty every code cell's outputs and execution count, nothing else?"""
    nb = _notebook_with_outputs()
    clear_notebook(nb)
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count is None
    assert nb.cells[1].source.startswith("# BEGIN") and nb.cells[0].source == "Print."


def test_unknown_homework_lists_the_known_ones(tiny_repo: Path, tmp_path: Path) -> None:
    """Does an unknown homework name raise an error that lists the homeworks in solutions/?"""
    with pytest.raises(ReleaseError, match="unknown homework 'hw_nope'.*hw_tiny"):
        main("hw_nope", repo=tiny_repo)


@pytest.mark.parametrize("target", ["solutions", "solutions/hw_tiny/out", "."])
def test_build_refuses_to_write_over_solutions(tiny_repo: Path, target: str) -> None:
    """Is writing into solutions/, inside it or over the repository refused?"""
    with pytest.raises(ReleaseError, match="refusing to write"):
        main("hw_tiny", out=tiny_repo / target, repo=tiny_repo)


def test_build_refuses_a_folder_that_is_not_empty(tiny_repo: Path, tmp_path: Path) -> None:
    """Does build() refuse to mix its output with files already in `out`?"""
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.py").write_text("")
    with pytest.raises(ReleaseError, match="not empty"):
        build("hw_tiny", tmp_path / "out", repo=tiny_repo)


def test_main_replaces_the_folder(tiny_repo: Path, capsys: pytest.CaptureFixture) -> None:
    """Does main() replace <repo>/<hw>, dropping stale files and leaving no temporary folder?"""
    (tiny_repo / "hw_tiny").mkdir()
    (tiny_repo / "hw_tiny" / "stale.py").write_text("")
    assert main("hw_tiny", repo=tiny_repo) == 0
    assert not (tiny_repo / "hw_tiny" / "stale.py").exists()
    assert (tiny_repo / "hw_tiny" / "pkg" / "mod.py").exists()
    assert sorted(p.name for p in tiny_repo.iterdir()) == [
        "coursekit",
        "hw_tiny",
        "requirements-student.txt",
        "solutions",
    ]
    assert (tiny_repo / "hw_tiny").stat().st_mode == (tiny_repo / "coursekit").stat().st_mode
    assert main("hw_tiny", check=True, repo=tiny_repo) == 0


def test_check_reports_each_kind_of_drift(tiny_repo: Path, capsys: pytest.CaptureFixture) -> None:
    """Does check report added, missing and differing files (with a diff) and return 1?"""
    main("hw_tiny", repo=tiny_repo)
    folder = tiny_repo / "hw_tiny"
    (folder / "extra.py").write_text("x = 1\n")
    (folder / "weights.bin").unlink()
    (folder / "pkg" / "mod.py").write_text(SOLVED)
    (folder / "pkg" / "__pycache__").mkdir()
    (folder / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\x00")
    capsys.readouterr()
    assert main("hw_tiny", check=True, repo=tiny_repo) == 1
    out = capsys.readouterr().out
    assert f"added: {folder / 'extra.py'}" in out
    assert f"missing: {folder / 'weights.bin'}" in out
    assert f"differs: {folder / 'pkg' / 'mod.py'}" in out
    assert "-    # BEGIN SOLUTION" in out and "+    raise NotImplementedError" in out
    assert "__pycache__" not in out and "regenerate it with" in out


def test_coursekit_in_solutions_is_refused(tiny_repo: Path, tmp_path: Path) -> None:
    """Is a homework that brings its own coursekit/ refused instead of silently overwritten?"""
    (tiny_repo / "solutions/hw_tiny/coursekit").mkdir()
    (tiny_repo / "solutions/hw_tiny/coursekit/data.py").write_text("")
    with pytest.raises(ReleaseError, match="clash with the shared coursekit"):
        build("hw_tiny", tmp_path / "out", repo=tiny_repo)
