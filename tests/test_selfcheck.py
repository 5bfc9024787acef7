"""Tests of coursekit/selfcheck.py and of each homework's public checks, check.py.

The runner is tested in process on a toy homework. Each real check.py runs as a student runs
it, `python check.py` in a subprocess: on the reference solution, on the released stubs, on the
release with the reference's files, and on the release with a few bugs of tests/catalogue/.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from catalogue import hw_gmvae_iwae_ssvae, hw_svhn, hw_vae
from submissions import build

from coursekit.selfcheck import Checks, fail
from grader import homeworks

REPO = Path(__file__).resolve().parent.parent
HOMEWORKS = ("hw_gmvae_iwae_ssvae", "hw_vae", "hw_svhn")
CATALOGUES = {"hw_gmvae_iwae_ssvae": hw_gmvae_iwae_ssvae, "hw_vae": hw_vae, "hw_svhn": hw_svhn}
# Per homework, one bug per student file: catalogue id -> the item whose checks must fail and a
# pattern its reason must match. No other item may fail: no other item's checks use that file.
BUGS = {
    "hw_gmvae_iwae_ssvae": {
        "vae-rec-mean-over-pixels": ("1.2", r"^rec .* is [\d.]+ but should be [\d.]+: "),  # no sum
        "gmvae-iwae-log-sum-exp": ("3.4", r"niwae .* is [\d.]+ but should be [\d.]+: "),
        "ssvae-kl-z-kl-y-swapped": ("4.2", r"kl_z before kl_y"),
    },
    "hw_vae": {
        "bernoulli-batch-mean": ("1.1", r"has shape \(\), not \(4,\): return one value per"),
        "lp-one-t-per-batch": ("2.4", r"one per pair"),
        "conv-sum-over-batch": ("4.1", r"^rec .* is [\d.]+ but should be [\d.]+: .*batch mean"),
        "iwae-no-log-m": ("5.3", r"^iwae_loss\(x, 7\) .* is -?[\d.]+ at index"),
    },
    "hw_svhn": {
        "fsvae-batch-sum": ("1.2", r"batch mean"),
        "flow-logdet-over-batch": ("2.2", r"one value per example"),
        "logistic-no-edge-bins": ("2.B", r"total probability"),
        "critic-loss-fixed-coefficient": ("3.1", r"critic_loss\(critic, real, fake, 5\)"),
    },
}


@pytest.fixture(autouse=True)
def restore_sys_path() -> Iterator[None]:
    """Checks() puts its homework folder on sys.path: take the toy folders off again."""
    saved = list(sys.path)
    yield
    sys.path[:] = saved


# ------------------------------------------------------------------ the runner, on a toy homework


@pytest.fixture
def toy(tmp_path: Path) -> Checks:
    """A homework of one student file with a working, a stubbed and a crashing function."""
    module = f"toy_{uuid.uuid4().hex}"  # a fresh name: no module cached by an earlier test
    (tmp_path / f"{module}.py").write_text(
        "def done():\n    print('hello from the student')\n    return 1\n\n\n"
        "def todo():\n    raise NotImplementedError\n\n\n"
        "def broken():\n    return 1 / 0\n"
    )
    checks = Checks("toy", tmp_path, {"student": f"{module}.py"})

    @checks.add("1.1", "student")
    def done() -> None:
        """done returns 1"""
        checks.module(module).done()

    @checks.add("1.2", "student")
    def failing() -> None:
        """a failing check"""
        fail("it is wrong: do it right")

    @checks.add("2.1", "student")
    def todo() -> None:
        """todo is written"""
        checks.module(module).todo()

    @checks.add("2.2", "student")
    def broken() -> None:
        """broken runs"""
        checks.module(module).broken()

    return checks


def test_results_are_plain_data(toy: Checks) -> None:
    """Does results() give one JSON-ready dict per check, with the verdict and the reason?"""
    results = toy.results()
    assert json.loads(json.dumps(results)) == results
    assert [(r["item"], r["passed"]) for r in results] == [
        ("1.1", True),
        ("1.2", False),
        ("2.1", False),
        ("2.2", False),
    ]
    assert set(results[0]) == {"item", "part", "name", "passed", "message", "seconds"}
    assert results[1]["message"] == "it is wrong: do it right"


def test_stub_and_crash_name_the_function_and_file(toy: Checks) -> None:
    """Does a stub say what to fill in where, and a crash where it happened?"""
    _, _, stub, crash = toy.results()
    module = toy.parts["student"]
    assert stub["message"] == f"not implemented yet: fill in todo in {module}"
    assert crash["message"].startswith(f"ZeroDivisionError: division by zero (in broken, {module}")
    assert "python check.py -v 2.2" in crash["message"]
    assert "Traceback" in toy.results(["2.2"], verbose=True)[0]["message"]


def test_a_file_that_does_not_compile_fails_its_checks(tmp_path: Path) -> None:
    """Is a syntax error in a student file reported with its line, as the check's reason?"""
    module = f"toy_{uuid.uuid4().hex}"
    (tmp_path / f"{module}.py").write_text("def f(:\n    pass\n")
    checks = Checks("toy", tmp_path, {"student": f"{module}.py"})

    @checks.add("1.1", "student")
    def compiles() -> None:
        """f runs"""
        checks.module(module).f()

    (result,) = checks.results()
    assert not result["passed"]
    assert re.match(
        rf"{module}\.py does not compile: .* at line 1: fix the syntax", result["message"]
    )


@pytest.mark.parametrize(
    "selectors, items",
    [
        ((), ["1.1", "1.2", "2.1", "2.2"]),
        (("2.1",), ["2.1"]),
        (("1",), ["1.1", "1.2"]),
        (("2.", "1.1"), ["1.1", "2.1", "2.2"]),
        (("student",), ["1.1", "1.2", "2.1", "2.2"]),
    ],
)
def test_select_by_item_problem_or_part(toy: Checks, selectors: tuple, items: list) -> None:
    """Do items, problem numbers and part names select the checks they name, in item order?"""
    assert [c.item for c in toy.select(selectors)] == items


def test_select_by_file(toy: Checks) -> None:
    """Does the student file's name select its part?"""
    assert len(toy.select([toy.parts["student"]])) == 4


def test_unknown_selector_lists_the_known_ones(toy: Checks) -> None:
    """Does a selector that matches nothing raise, naming the items and parts there are?"""
    with pytest.raises(
        ValueError, match=r"no check matches '3.1'.*1\.1, 1\.2, 2\.1, 2\.2.*student"
    ):
        toy.select(["3.1"])


def test_main_exit_status_and_table(toy: Checks, capsys: pytest.CaptureFixture) -> None:
    """Does the command line exit 0 when all pass, 1 when one fails, 2 for a bad selector, and
    print a table of verdicts with each failure's reason?"""
    assert toy.main(["1.1"]) == 0
    assert "1 of 1 checks pass" in capsys.readouterr().out
    assert toy.main([]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^1\.1 +done returns 1 +PASS$", out, re.M)
    assert re.search(r"^1\.2 +a failing check +FAIL\n +-> it is wrong: do it right$", out, re.M)
    assert "1 of 4 checks pass, 3 fail (1 not implemented yet)" in out
    with pytest.raises(SystemExit) as exc:
        toy.main(["9"])
    assert exc.value.code == 2


def test_a_repeated_reason_is_printed_once(toy: Checks) -> None:
    """Does a failure with the same reason as the one above say so instead of repeating it?"""
    row = {"item": "1.1", "name": "n", "passed": False, "message": "not implemented yet: f in g"}
    table = toy.table([row, row, {**row, "message": "other"}])
    assert table.count("not implemented yet") == 1
    assert "-> same as above" in table and "-> other" in table


def test_json_output_is_only_json(toy: Checks, capsys: pytest.CaptureFixture) -> None:
    """With --json, is stdout the results alone, what the student's code prints sent to stderr?"""
    assert toy.main(["--json", "1"]) == 1
    out, err = capsys.readouterr()
    assert [r["item"] for r in json.loads(out)] == ["1.1", "1.2"]
    assert "hello from the student" in err


def test_long_reasons_wrap_and_keep_the_remedy(toy: Checks) -> None:
    """Is a reason longer than a line wrapped, not cut, so that its remedy still shows?"""
    reason = "x " * 80 + "the remedy is at the end"
    table = toy.table([{"item": "1.1", "name": "n", "passed": False, "message": reason}])
    assert "the remedy is at the end" in " ".join(table.split())
    assert max(len(line) for line in table.splitlines()) <= 100


# --------------------------------------------------------------------- each homework's check.py


def run_check(folder: Path, *args: str, repo_on_path: bool = False) -> subprocess.CompletedProcess:
    """`python check.py ARGS` in `folder`, as a student runs it (one torch thread)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS="1", **({"PYTHONPATH": str(REPO)} if repo_on_path else {}))
    return subprocess.run(
        [sys.executable, "check.py", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def results_of(run: subprocess.CompletedProcess) -> list[dict]:
    """The results that `python check.py --json` printed."""
    assert run.returncode in (0, 1), run.stdout + run.stderr
    return json.loads(run.stdout)


def release_copy(hw: str, tmp_path: Path, edits: dict | None = None) -> Path:
    """A copy of the committed student folder; with `edits`, holding the reference's student
    files with those edits ({file: (old, new)}), else the stubs."""
    folder = tmp_path / hw
    shutil.copytree(REPO / hw, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder if edits is None else build(folder, edits, hw=hw)


def graded_items(hw: str) -> set[str]:
    """The items of the grader's quick tier: every item of a hidden test but the full tier's."""
    tests = sorted(p for p in (REPO / "grader" / hw).glob("test_*.py") if p.name != "test_full.py")
    return {m for p in tests for m in re.findall(r'mark\.item\("([^"]+)"\)', p.read_text())}


@pytest.mark.parametrize("hw", HOMEWORKS)
def test_reference_passes_every_check(hw: str) -> None:
    """Does the reference solution pass every public check, exit 0, and are there checks of
    every item that the quick tier grades?"""
    run = run_check(REPO / "solutions" / hw, "--json", repo_on_path=True)
    results = results_of(run)
    assert [r["message"] for r in results if not r["passed"]] == []
    assert run.returncode == 0
    assert {r["item"] for r in results} == graded_items(hw)


@pytest.mark.parametrize("hw", HOMEWORKS)
def test_release_with_the_reference_passes(hw: str, tmp_path: Path) -> None:
    """In the released folder, with the reference's files in place of the stubs, does
    `python check.py` run on its own (no repository on the path), pass every check and exit 0?"""
    run = run_check(release_copy(hw, tmp_path, edits={}))
    assert run.returncode == 0, run.stdout + run.stderr
    counts = re.search(r"^(\d+) of (\d+) checks pass \(", run.stdout, re.M)
    assert counts and counts[1] == counts[2], run.stdout


@pytest.mark.parametrize("hw", HOMEWORKS)
def test_stubs_fail_as_not_implemented(hw: str, tmp_path: Path) -> None:
    """Do the released stubs fail every check, exit non-zero, and name a function to fill in,
    in each of the homework's student files?"""
    run = run_check(release_copy(hw, tmp_path), "--json")
    results = results_of(run)
    assert run.returncode == 1
    assert [r for r in results if r["passed"]] == []
    assert all(r["message"].startswith("not implemented yet: fill in ") for r in results)
    named = {r["message"].rsplit(" in ", 1)[1] for r in results}  # the files to fill in
    assert named == set(homeworks.get(hw).student_files)


def test_part_selection_runs_only_that_part(tmp_path: Path) -> None:
    """Does `python check.py ITEM PART` run the checks of that item and that part only?"""
    run = run_check(release_copy("hw_gmvae_iwae_ssvae", tmp_path), "1.1", "ssvae")
    assert run.returncode == 1
    rows = re.findall(r"^(\d\.\d) +.* (PASS|FAIL)$", run.stdout, re.M)
    assert {item for item, _ in rows} == {"1.1", "4.2"}
    assert "fill in sample_gaussian in codebase/utils.py" in run.stdout
    assert "fill in SSVAE.negative_elbo_bound in codebase/models/ssvae.py" in run.stdout


@pytest.mark.parametrize("hw", HOMEWORKS)
def test_catalogue_bugs_are_flagged_on_their_items(hw: str, tmp_path: Path) -> None:
    """With a few realistic bugs of the catalogue (a wrong shape, a missing sum, a batch sum
    where a mean belongs, ...), do the checks of exactly those bugs' items fail, each with a
    reason that says what is wrong?"""
    catalogue = CATALOGUES[hw]
    entries = {e.id: e for e in catalogue.BUGS + getattr(catalogue, "MORE_BUGS", [])}
    edits = {entries[i].file: (entries[i].old, entries[i].new) for i in BUGS[hw]}
    assert len(edits) == len(BUGS[hw]), "one bug per file: submissions.build takes one per file"
    run = run_check(release_copy(hw, tmp_path, edits), "--json")
    results = results_of(run)
    assert run.returncode == 1
    failed = {r["item"] for r in results if not r["passed"]}
    assert failed == {item for item, _ in BUGS[hw].values()}, json.dumps(results, indent=1)
    for bug, (item, pattern) in BUGS[hw].items():
        reasons = [r["message"] for r in results if r["item"] == item and not r["passed"]]
        assert any(re.search(pattern, m) for m in reasons), (bug, reasons)
