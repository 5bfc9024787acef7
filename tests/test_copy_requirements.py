"""Tests of grader/release/copy_requirements.py and of the file it ships to every homework,
requirements-student.txt."""

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from grader.autograder import PYTORCH_CPU_INDEX
from grader.release import REPO, ReleaseError, build
from grader.release.copy_requirements import SOURCE

LIST = "--extra-index-url https://example.org/cpu\ntorch>=2.4\n"


def _requirements(text: str) -> list[Requirement]:
    """The package lines of a requirements file (comments and pip options left out)."""
    lines = (line.split("#")[0].strip() for line in text.splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def _pins() -> dict[str, str]:
    """.ci/constraints.txt as {canonical name: pinned version}."""
    found = {}
    for requirement in _requirements((REPO / ".ci" / "constraints.txt").read_text()):
        (spec,) = requirement.specifier
        assert spec.operator == "==", requirement
        found[canonicalize_name(requirement.name)] = spec.version
    return found


@pytest.fixture
def tiny_repo(tmp_path: Path) -> Path:
    """A repository with one homework, coursekit/ and the student requirements."""
    repo = tmp_path / "repo"
    for name, text in {
        "solutions/hw_tiny/run.py": "print('hello')\n",
        "coursekit/__init__.py": "",
        SOURCE: LIST,
    }.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    return repo


def test_every_release_ships_the_list_as_requirements_txt(tiny_repo: Path, tmp_path: Path) -> None:
    """Does the release write <repo>/requirements-student.txt, byte for byte, as
    <hw>/requirements.txt, where the handout runs pip?"""
    written = build("hw_tiny", tmp_path / "out", repo=tiny_repo)
    assert Path("requirements.txt") in written
    assert (tmp_path / "out" / "requirements.txt").read_text() == LIST


def test_a_missing_list_stops_the_release(tiny_repo: Path, tmp_path: Path) -> None:
    """Is a repository without requirements-student.txt refused, with the file to write?"""
    (tiny_repo / SOURCE).unlink()
    with pytest.raises(ReleaseError, match=f"no student requirements at .*{SOURCE}"):
        build("hw_tiny", tmp_path / "out", repo=tiny_repo)
    assert not (tmp_path / "out").exists()


def test_a_homeworks_own_list_is_refused(tiny_repo: Path, tmp_path: Path) -> None:
    """Is a solutions/<hw>/requirements.txt refused rather than silently replaced?"""
    (tiny_repo / "solutions/hw_tiny/requirements.txt").write_text("numpy\n")
    with pytest.raises(ReleaseError, match="would clash with the shared"):
        build("hw_tiny", tmp_path / "out", repo=tiny_repo)


def test_student_ranges_admit_every_pinned_version() -> None:
    """Does every range of requirements-student.txt admit the version .ci/constraints.txt pins
    (the set tested on Python 3.10, 3.11 and 3.12)?"""
    pins, outside = _pins(), []
    students = _requirements((REPO / SOURCE).read_text())
    for requirement in students:
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is not None and not requirement.specifier.contains(pin, prereleases=True):
            outside.append(f"{requirement} excludes the pinned {pin}")
    pinned = [r for r in students if canonicalize_name(r.name) in pins]
    assert len(pinned) >= 6 and outside == []


def test_student_list_takes_cpu_torch_and_no_project_tools() -> None:
    """Does the list install torch and torchvision from PyTorch's CPU index (the one the
    autograder uses), and leave out the project's own tools (pytest, ruff)?"""
    text = (REPO / SOURCE).read_text()
    assert f"--extra-index-url {PYTORCH_CPU_INDEX}" in text.splitlines()
    names = {canonicalize_name(r.name) for r in _requirements(text)}
    assert {"torch", "torchvision"} <= names and not names & {"pytest", "ruff"}
