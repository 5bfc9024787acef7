"""Tests of grader/release/zip_release.py: the student release handed out as a .zip."""

import zipfile
from pathlib import Path, PurePosixPath

import pytest

from grader.release import REPO, ReleaseError, homeworks, main
from grader.release import notebooks as nb
from grader.release.bundle import list_files
from grader.release.check_markers import find_regions

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
