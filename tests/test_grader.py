"""The grader graded: full marks for the reference, zero for the stubs, clean verdicts otherwise."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from submissions import HW, REPO, SOLUTION, build, scores_by_item

from grader import homeworks, run
from grader.serialize import table


def submission(tmp_path: Path, edits: dict | None = None) -> Path:
    return build(tmp_path / "submission", edits)


@pytest.mark.parametrize("hw", sorted(homeworks.HOMEWORKS))
def test_reference_earns_full_marks_through_the_cli(hw, tmp_path, data_root):
    """Does `python -m grader HW SUBMISSION` give the reference every point of the registry's
    quick tier, exit 0 and write results.json?"""
    submission = build(tmp_path / "submission", hw=hw)  # the reference's student files
    results = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "grader", hw, str(submission), "--results", str(results)]
        + ["--data-root", str(data_root)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    payload = json.loads(results.read_text())
    failed = [t["name"] for t in payload["tests"] if t["status"] != "passed"]
    assert not failed, proc.stdout
    points = homeworks.get(hw).points("quick")
    assert payload["score"] == sum(t["max_score"] for t in payload["tests"]) == sum(points.values())
    assert {t["number"] for t in payload["tests"]} == set(points)
    assert "TOTAL" in proc.stdout


@pytest.mark.parametrize("hw", sorted(homeworks.HOMEWORKS))
def test_stubs_earn_zero_with_a_clear_reason_per_test(hw, tmp_path, data_root):
    """Do the released stubs score 0 of the quick tier, each test saying it is not implemented?"""
    result = run.main(hw, results=tmp_path / "results.json", data_root=str(data_root))
    assert result.total == 0 and result.possible == homeworks.get(hw).total("quick"), table(result)
    for t in result.tests:
        assert t.status == "failed", table(result)
        assert "not implemented yet" in t.output, t.output
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 0


def test_syntax_error_costs_only_that_file(tmp_path):
    """Does a syntax error in vae.py fail the VAE's items and leave every other item intact?"""
    sub = submission(
        tmp_path, {"codebase/models/vae.py": ("class VAE(nn.Module):", "class VAE(nn.Module)")}
    )
    result = run.main(HW, sub)
    scores = scores_by_item(result)
    for item, (got, top) in scores.items():
        expected_zero = item in ("1.2", "3.2")
        assert (got == 0) if expected_zero else (got == top), table(result)
    vae_outputs = {t.output for t in result.tests if t.item in ("1.2", "3.2")}
    assert all("SyntaxError" in o for o in vae_outputs), vae_outputs


def test_missing_file_is_reported_and_its_stub_graded(tmp_path):
    """Is a missing gmvae.py named in the notes, with only the GMVAE's items lost?"""
    sub = submission(tmp_path)
    (sub / "codebase/models/gmvae.py").unlink()
    result = run.main(HW, sub)
    assert any("gmvae.py" in n and "not in the submission" in n for n in result.notes)
    scores = scores_by_item(result)
    assert scores["3.4"][0] == 0 and scores["1.1"] == (6, 6) and scores["4.2"] == (15, 15)


def test_hanging_function_times_out_alone(tmp_path):
    """Does an infinite loop in sample_gaussian time out its own tests while the rest pass?"""
    hang = "    while True:\n        pass\n    return m + v.sqrt() * torch.randn_like(m)"
    sub = submission(
        tmp_path, {"codebase/utils.py": ("    return m + v.sqrt() * torch.randn_like(m)", hang)}
    )
    result = run.main(HW, sub, timeout=8)
    for t in result.tests:
        if t.item == "1.1":
            assert t.status == "timeout" and "infinite loop" in t.output, table(result)
        else:
            assert t.status == "passed", table(result)


def test_unreadable_submission_still_writes_results(tmp_path):
    """Does a submission that is not a folder or zip give a note, a results.json and exit 3?"""
    bogus = tmp_path / "submission.txt"
    bogus.write_text("not python")
    results = tmp_path / "results.json"
    result = run.main(HW, bogus, results=results)
    assert result.tests == [] and "neither a folder nor a .zip" in result.notes[0]
    assert result.status == "not graded" and result.exit_status == 3
    assert json.loads(results.read_text())["score"] == 0


def test_cli_exit_status_says_whether_it_graded(tmp_path):
    """Does the command line exit 3 for a missing submission, 2 for an unknown homework, and
    write a results.json saying why?"""
    results = tmp_path / "results.json"
    cmd = [sys.executable, "-m", "grader", HW, str(tmp_path / "nowhere"), "--results", str(results)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "does not exist" in json.loads(results.read_text())["output"]
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "hw_nope"], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 2 and "unknown homework 'hw_nope'" in proc.stderr


def test_a_grader_failure_is_a_result(tmp_path, monkeypatch):
    """Does an exception on the trusted side write results.json that blames the grader, keep
    the traceback for course staff, and give exit status 4?"""

    def broken(*args, **kwargs):
        raise RuntimeError("the grader's own bug")

    monkeypatch.setattr(run, "run_pytest", broken)
    results, instructor = tmp_path / "results.json", tmp_path / "instructor.json"
    result = run.main(HW, results=results, instructor_results=instructor)
    assert result.status == "grader error" and result.exit_status == 4
    payload = json.loads(results.read_text())
    assert "grader itself failed" in payload["output"] and "RuntimeError" not in payload["output"]
    staff = json.loads(instructor.read_text())
    assert "the grader's own bug" in "".join(staff["instructor_notes"])


@pytest.mark.slow
def test_full_tier_trains_the_reference_vae(tmp_path, data_root):
    """Does the reference VAE, trained on the handout's schedule, pass items 1.3 and 3.3?"""
    result = run.main(
        HW,
        SOLUTION,
        tier="full",
        data_root=str(data_root),
        pytest_args=("-k", "test_vae_"),
        results=tmp_path / "results.json",
    )
    full = [t for t in result.tests if t.item in ("1.3", "3.3")]
    assert len(full) == 4 and all(t.passed for t in full), table(result)
