"""Tests of grader/release/zip_release.py: the student release handed out as a .zip, complete
with everything its handout runs."""

import re
import shlex
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from grader.release import REPO, ReleaseError, homeworks, main
from grader.release import notebooks as nb
from grader.release.bundle import list_files
from grader.release.check_markers import find_regions
from grader.release.copy_requirements import SOURCE

HOMEWORKS = homeworks()


@pytest.fixture(scope="module", params=HOMEWORKS)
def release_zip(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m grader release HW --out HW.zip`, built once per homework."""
    out = tmp_path_factory.mktemp("release-zip") / f"{request.param}.zip"
    assert main(request.param, out=out) == 0
    return out


def _entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _sources(hw: str) -> dict[str, list[str]]:
    """The Python sources of solutions/<hw>: {origin: texts}, one text per .py file or cell."""
    root, found = REPO / "solutions" / hw, {}
    for path in list_files(root):
        if path.suffix == ".py":
            found[str(path)] = [(root / path).read_text()]
        elif path.suffix == ".ipynb":
            cells = nb.code_cells(nb.load((root / path).read_bytes()))
            found[str(path)] = [cell.source for _, cell in cells]
    return found


def _solution_text(hw: str) -> tuple[list[str], set[str]]:
    """The bodies of every BEGIN/END SOLUTION region of solutions/<hw>, and their lines found
    nowhere outside a region nor in coursekit/ (so that finding one in the release is a leak)."""
    bodies, inside, outside = [], set(), set()
    for path in list_files(REPO / "coursekit"):
        outside.update(line.strip() for line in (REPO / "coursekit" / path).read_text().split("\n"))
    for origin, texts in _sources(hw).items():
        for text in texts:
            lines, start = text.split("\n"), 0
            for region in find_regions(text, origin):
                body = lines[region.begin + 1 : region.end]
                bodies.append("\n".join(body))
                inside.update(line.strip() for line in body)
                outside.update(line.strip() for line in lines[start : region.begin])
                start = region.end + 1
            outside.update(line.strip() for line in lines[start:])
    distinctive = {line for line in inside - outside if len(line) > 8 and line[0] != "#"}
    return [body for body in bodies if body.strip()], distinctive


def test_zip_holds_the_committed_folder(release_zip: Path) -> None:
    """Does the zip hold the files of the committed <hw>/ folder, under <hw>/, and only them?"""
    hw, entries = release_zip.stem, _entries(release_zip)
    committed = {f"{hw}/{path}": (REPO / hw / path).read_bytes() for path in list_files(REPO / hw)}
    assert sorted(entries) == sorted(committed)
    assert [name for name in entries if entries[name] != committed[name]] == []


def test_zip_holds_no_solution(release_zip: Path) -> None:
    """Is every solution region gone: no marker, no region body, no line only a region has?"""
    bodies, distinctive = _solution_text(release_zip.stem)
    assert bodies and distinctive, "the solution should have regions to look for"
    leaks = []
    for name, data in _entries(release_zip).items():
        text = data.decode("utf-8", errors="replace")
        lines = {line.strip() for line in text.split("\n")}
        leaks += [f"{name}: marker" for m in ("BEGIN SOLUTION", "END SOLUTION") if m in text]
        leaks += [f"{name}: region body {b.strip()[:40]!r}" for b in bodies if b in text]
        leaks += [f"{name}: {line!r}" for line in sorted(distinctive & lines)]
    assert leaks == []


def test_zip_holds_nothing_of_the_grader(release_zip: Path) -> None:
    """Are grader/, solutions/, tests/, weights, calibration and hidden tests all left out?"""
    hw, entries = release_zip.stem, _entries(release_zip)
    hidden = {
        path: (REPO / "grader" / hw / path).read_bytes()
        for path in list_files(REPO / "grader" / hw)
    }
    hidden_names = {path.name for path in hidden} - {"__init__.py"}
    for name, data in entries.items():
        path = PurePosixPath(name)
        assert path.parts[0] == hw and path.parts[1] not in ("grader", "solutions", "tests"), name
        assert path.suffix != ".pt" and "calibration" not in path.parts, name
        assert path.name not in hidden_names, f"{name} has the name of a hidden grader file"
        assert data not in hidden.values() or path.name == "__init__.py", name


def test_zip_is_reproducible(release_zip: Path, tmp_path: Path) -> None:
    """Does a second build give the same bytes, and does --check say so?"""
    again = tmp_path / release_zip.name
    assert main(release_zip.stem, out=again) == 0
    assert again.read_bytes() == release_zip.read_bytes()
    assert main(release_zip.stem, out=release_zip, check=True) == 0


def test_zip_check_reports_drift(release_zip: Path, tmp_path: Path) -> None:
    """Does --check fail on a zip that differs from the release, or is missing?"""
    stale = tmp_path / release_zip.name
    stale.write_bytes(release_zip.read_bytes()[:-1])
    assert main(release_zip.stem, out=stale, check=True) == 1
    assert main(release_zip.stem, out=tmp_path / "missing.zip", check=True) == 1


def test_zip_refuses_to_write_into_solutions() -> None:
    """Is a .zip target inside solutions/ refused before anything is written?"""
    target = REPO / "solutions" / f"{HOMEWORKS[0]}.zip"
    with pytest.raises(ReleaseError, match="source of truth"):
        main(HOMEWORKS[0], out=target)
    assert not target.exists()


# ---------------------------------------------------------------------------------------------
# Complete: every file the handout runs or names is in the zip
# ---------------------------------------------------------------------------------------------

FENCED = re.compile(r"^ *```[^\n]*\n(.*?)^ *```", re.DOTALL | re.MULTILINE)
SPAN = re.compile(r"`([^`\n]+)`")
FILE_NAME = re.compile(
    r"[\w./-]+\.(?:py|ipynb|txt)"
)  # what a handout names: code, notebooks, lists


@pytest.fixture(scope="module")
def unpacked(release_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release zip unpacked into a fresh folder: the homework folder a student gets."""
    out = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(release_zip) as archive:
        archive.extractall(out)
    return out / release_zip.stem


def _handout_code(handout: str) -> tuple[list[str], list[str]]:
    """The lines of the handout's fenced code blocks, and its inline code spans."""
    blocks = [line.strip() for block in FENCED.findall(handout) for line in block.splitlines()]
    return blocks, SPAN.findall(FENCED.sub("", handout))


def _run_files(command: str) -> list[str]:
    """The files a shell command runs or reads from the homework folder: the script of
    `python SCRIPT`, the list of `pip install -r LIST`, the notebook of `jupyter notebook NB`."""
    words = shlex.split(command.split("#")[0])
    if len(words) > 1 and re.fullmatch(r"python3?", words[0]) and words[1] != "-m":
        return [words[1]]
    if words[:2] == ["pip", "install"]:
        return [words[i + 1] for i, word in enumerate(words[:-1]) if word == "-r"]
    if words[:1] == ["jupyter"] and len(words) > 2:
        return words[2:3]
    return []


def test_zip_holds_the_student_requirements(unpacked: Path) -> None:
    """Does the homework folder hold requirements.txt, the course's one list of packages, and
    does the handout's setup install it as written, from inside the folder?"""
    assert (unpacked / "requirements.txt").read_bytes() == (REPO / SOURCE).read_bytes()
    blocks, spans = _handout_code((unpacked / "README.md").read_text())
    assert "pip install -r requirements.txt" in blocks + spans


def test_every_command_of_the_handout_finds_its_file(unpacked: Path) -> None:
    """Does every command the handout gives (python SCRIPT, pip install -r LIST, jupyter
    notebook NB) find its file in the homework folder, where the handout runs it?"""
    blocks, spans = _handout_code((unpacked / "README.md").read_text())
    runs = [(command, name) for command in blocks + spans for name in _run_files(command)]
    assert any(name.endswith(".py") for _, name in runs), "the handout should run a script"
    assert [(c, name) for c, name in runs if not (unpacked / name).is_file()] == []


def test_every_file_the_handout_names_is_shipped(unpacked: Path) -> None:
    """Is every file the handout names in code (its file table, the files to submit, the
    scripts it runs) in the homework folder, at that path or, for a short name such as
    `models/vae.py`, under a folder of the release?"""
    _, spans = _handout_code((unpacked / "README.md").read_text())
    names = {word for span in spans for word in re.split(r"[\s,]+", span)}
    named = sorted(name for name in names if FILE_NAME.fullmatch(name))
    shipped = [path.relative_to(unpacked).as_posix() for path in unpacked.rglob("*")]
    missing = [
        name
        for name in named
        if name not in shipped and not any(path.endswith("/" + name) for path in shipped)
    ]
    assert named and missing == []
