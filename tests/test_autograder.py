"""Tests of grader/autograder.py: the Gradescope zip, unpacked and run the way Gradescope does."""

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from grader import autograder, homeworks
from grader.release.bundle import ReleaseError, list_files

REPO = Path(__file__).resolve().parent.parent
HW = homeworks.HOMEWORKS["hw_gmvae_iwae_ssvae"]
OTHERS = (set(homeworks.HOMEWORKS) | {p.name for p in (REPO / "solutions").iterdir()}) - {HW.name}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m grader autograder HW --out autograder.zip`, built once."""
    out = tmp_path_factory.mktemp("autograder") / "autograder.zip"
    assert autograder.main(HW.name, out=out) == 0
    return out


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def unpack(zip_path: Path, folder: Path) -> None:
    """Extract like unzip does, permission bits included (zipfile alone drops them)."""
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            archive.extract(info, folder)
            (folder / info.filename).chmod((info.external_attr >> 16) & 0o777 or 0o644)


def test_scripts_sit_at_the_root_and_are_executable(bundle: Path) -> None:
    """Are setup.sh and run_autograder at the zip's root, with mode 755?"""
    with zipfile.ZipFile(bundle) as archive:
        for name in ("setup.sh", "run_autograder"):
            mode = archive.getinfo(name).external_attr >> 16
            assert stat.S_ISREG(mode) and mode & 0o777 == 0o755, f"{name}: {oct(mode)}"
            assert archive.read(name).startswith(b"#!/usr/bin/env bash\n"), name


def test_setup_sh_parses_and_pins_cpu_torch(bundle: Path, tmp_path: Path) -> None:
    """Is setup.sh valid bash that installs the pinned torch from the CPU-only index?"""
    unpack(bundle, tmp_path)
    for script in ("setup.sh", "run_autograder"):
        check = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True)
        assert check.returncode == 0, check.stderr.decode()
    setup = (tmp_path / "setup.sh").read_text()
    assert "--index-url https://download.pytorch.org/whl/cpu" in setup
    assert "-r requirements.txt -c .ci/constraints.txt" in setup
    assert "torch==" in (tmp_path / ".ci" / "constraints.txt").read_text()


def test_zip_ships_this_homework_only(bundle: Path) -> None:
    """Are other homeworks, tests/, .git, caches and any grader file not listed left out?"""
    names = _names(bundle)
    for name in names:
        parts = PurePosixPath(name).parts
        assert parts[0] not in ("tests", ".git") and parts[0] not in OTHERS, name
        assert "__pycache__" not in parts and not name.endswith(".pyc"), name
        assert [part for part in parts if part.startswith(".")] in ([], [".ci"]), name
        if parts[0] == "grader":
            assert len(parts) == 2 or parts[1] in ("release", HW.name), name
        if parts[0] == "solutions":
            assert parts[1] == HW.name, name
    tests = {f"grader/{HW.name}/{p}" for p in list_files(HW.tests)}
    assert tests <= set(names), "every hidden test, weight and calibration file ships"
    assert {f"solutions/{HW.name}/{f}" for f in HW.reference_copies} <= set(names)


def test_zip_is_reproducible(bundle: Path, tmp_path: Path) -> None:
    """Does a second build give the same bytes?"""
    again = tmp_path / "again.zip"
    autograder.build(HW.name, again)
    assert again.read_bytes() == bundle.read_bytes()


def grade_with_bundle(bundle: Path, root: Path, homework, *options: str) -> tuple[dict, str]:
    """Unpack `bundle` as Gradescope does under `root`, submit the reference's student files
    and run run_autograder; return results.json and the run's output."""
    unpack(bundle, root / "source")
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    for name in homework.student_files:
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(homework.solution / name, root / "submission" / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable, OMP_NUM_THREADS="1")
    run = subprocess.run(
        [str(root / "run_autograder"), *options],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((root / "results" / "results.json").read_text()), run.stdout


def assert_full_marks(results: dict, output: str) -> None:
    tests = results["tests"]
    assert tests and all({"name", "score", "max_score"} <= set(t) for t in tests)
    assert [t["name"] for t in tests if t["score"] != t["max_score"]] == [], output
    assert results["score"] == sum(t["max_score"] for t in tests) > 0
    public = [t for t in tests if t["name"].startswith("public check: ")]
    assert public and all(t["status"] == "passed" and t["max_score"] == 0 for t in public)
    assert all(t["visibility"] == "visible" for t in public)


def test_run_autograder_grades_a_submission(bundle: Path, tmp_path: Path) -> None:
    """Unpacked as Gradescope does, does run_autograder give the reference full marks in a
    valid results.json, with the grader's files made unreadable to other users?"""
    root = tmp_path / "autograder"
    # One hidden test file only (a few seconds); tests/test_grader.py grades the whole quick tier.
    assert_full_marks(*grade_with_bundle(bundle, root, HW, "--only", "test_utils.py"))
    assert stat.S_IMODE((root / "source" / "grader").stat().st_mode) & 0o077 == 0


@pytest.mark.parametrize("name", sorted(set(homeworks.HOMEWORKS) - {HW.name}))
def test_every_homework_bundle_grades_its_reference(name: str, tmp_path, data_root) -> None:
    """The same, for the other homeworks' bundles and their whole quick tier (hw_svhn's ships
    the SVHN images its training check needs)."""
    out = tmp_path / "autograder.zip"
    assert autograder.main(name, out=out, data_root=str(data_root)) == 0
    homework = homeworks.HOMEWORKS[name]
    results, output = grade_with_bundle(out, tmp_path / "autograder", homework)
    assert_full_marks(results, output)
    graded = sum(t["max_score"] for t in results["tests"])
    assert graded == homework.total("quick"), "every quick-tier test ran, none was left out"


def test_visibility_and_tier_are_options_of_the_bundle(tmp_path: Path, data_root) -> None:
    """Do --visibility and --tier reach run_autograder, and does a full-tier bundle carry the
    data sets it trains on?"""
    out = tmp_path / "full.zip"
    assert (
        autograder.main(
            HW.name, out=out, tier="full", visibility="after_due_date", data_root=str(data_root)
        )
        == 0
    )
    with zipfile.ZipFile(out) as archive:
        script = archive.read("run_autograder").decode()
        names = set(archive.namelist())
    assert "--tier full --visibility after_due_date --public-checks" in script
    assert {f"data/{f}" for f in HW.data_files("full")} <= names
    results, _ = grade_with_bundle(
        out, tmp_path / "ag", HW, "--tier", "quick", "--only", "test_utils.py"
    )
    hidden = [t for t in results["tests"] if not t["name"].startswith("public check: ")]
    assert hidden and all(t["visibility"] == "after_due_date" for t in hidden)


def test_a_full_bundle_needs_its_data(tmp_path: Path) -> None:
    """Does building a full-tier bundle without the data sets fail, saying which file?"""
    with pytest.raises(ReleaseError, match="MNIST/raw/train-images"):
        autograder.main(HW.name, out=tmp_path / "x.zip", tier="full", data_root=str(tmp_path))


def test_run_autograder_writes_results_when_the_grader_cannot_start(
    bundle: Path, tmp_path: Path
) -> None:
    """Does a grader that cannot even start still leave a results.json that scores nothing?"""
    root = tmp_path / "autograder"
    unpack(bundle, root / "source")
    (root / "submission").mkdir()
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON="/bin/false")
    run = subprocess.run(
        [str(root / "source" / "run_autograder")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and "failed before grading" in results["output"]


def test_every_homework_ships_what_its_reference_imports() -> None:
    """Does each bundle hold the solution modules that reference.load imports (hw_vae's full
    tier trains with solutions/hw_vae/vae_mnist.py, a top-level module, not a package)?"""
    from grader.autograder import solution_files
    from grader.homeworks import HOMEWORKS

    shipped = solution_files(HOMEWORKS["hw_vae"])
    assert "solutions/hw_vae/vae_mnist.py" in shipped
    assert "solutions/hw_vae/q1_solution.py" in shipped
