"""Tests of coursekit/dry_run.py, and that every run script's dry run is tested against a folder
holding a real run's outputs (tests/dry_runs.py)."""

import re
from pathlib import Path

import pytest
from dry_runs import REAL_OUTPUTS, REPO, changed, plant

from coursekit.dry_run import SUFFIX, dry_run_name, dry_run_path, flag_help, output_path

SCRIPTS = sorted(
    path.relative_to(REPO).as_posix()
    for path in [*REPO.glob("solutions/*/*.py"), *REPO.glob("benchmarks/*.py")]
    if '__name__ == "__main__"' in path.read_text()
)


@pytest.mark.parametrize(
    "path, expected",
    [
        ("q3_results", "q3_results_dryrun"),
        ("svhn_vae_results/flow-gaussian", "svhn_vae_results/flow-gaussian_dryrun"),
        ("samples/vanilla_vae", "samples/vanilla_vae_dryrun"),
        ("/tmp/out/weights.pt", "/tmp/out/weights_dryrun.pt"),
    ],
)
def test_dry_run_path_adds_the_suffix_to_the_last_name(path: str, expected: str) -> None:
    """Does dry_run_path add _dryrun to the last name only, before any extension?"""
    assert dry_run_path(path) == Path(expected)
    assert dry_run_path(Path(path)) == Path(expected)


def test_dry_run_path_of_the_current_folder_is_a_sibling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Is `--out .` sent to a sibling folder named after the current one, not into it?"""
    (tmp_path / "results").mkdir()
    monkeypatch.chdir(tmp_path / "results")
    assert dry_run_path(".") == tmp_path / "results_dryrun"


def test_output_path_changes_nothing_for_a_real_run(capsys: pytest.CaptureFixture) -> None:
    """Does a real run write where it was told, silently, and a dry run say where it writes?"""
    assert output_path("q2_results", dry_run=False) == Path("q2_results")
    assert capsys.readouterr().out == ""
    assert output_path("q2_results", dry_run=True) == Path("q2_results_dryrun")
    assert "dry run: writing to q2_results_dryrun, not q2_results" in capsys.readouterr().out


def test_names_and_help() -> None:
    """Does a dry run's name end in _dryrun, and its flag's help say where it writes?"""
    assert dry_run_name("model=vae_z=10_run=0000") == "model=vae_z=10_run=0000" + SUFFIX
    text = flag_help("one step")
    assert text.startswith("one step; writes to ") and SUFFIX in text and "never over" in text


def test_plant_and_changed_see_a_rewrite_and_a_removal(tmp_path: Path) -> None:
    """Does the test helper notice a planted output that was rewritten or removed?"""
    planted = plant(tmp_path, "solutions/hw_vae/q2_sweep.py")
    assert len(planted) == 3 and changed(planted) == []
    first, second, _ = planted
    first.write_bytes(b"a dry run's plot")
    second.unlink()
    assert changed(planted) == [str(first), str(second)]


def test_every_run_script_with_a_dry_run_is_listed() -> None:
    """Does tests/dry_runs.py list the real outputs of every script that has a --dry-run?"""
    with_dry_run = [
        script
        for script in SCRIPTS
        if re.search(r"dry.run|base_parser", (REPO / script).read_text())
    ]
    assert with_dry_run and sorted(set(with_dry_run) - set(REAL_OUTPUTS)) == []
    assert sorted(set(REAL_OUTPUTS) - set(SCRIPTS)) == [], "listed, but no such script"


@pytest.mark.parametrize("script", sorted(REAL_OUTPUTS))
def test_every_listed_script_is_run_by_a_test(script: str) -> None:
    """Does a test module that runs dry runs through run_dry (in a folder holding the real
    outputs) name each listed script?"""
    name = Path(script).name
    callers = [
        test.name
        for test in (REPO / "tests").glob("test_*.py")
        if "run_dry(" in (text := test.read_text()) and f'"{name}"' in text
    ]
    assert callers, f"no test module that calls run_dry names {name}"
