"""Tests of grader/batch.py: parallel, resumable grading of a folder of submissions."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from submissions import HW, REPO, build

from grader import batch

ONLY = "test_utils.py"  # the hidden tests of utils.py, items 1.1 and 2.1 (14 points): seconds
PARTIAL = f"partial: only {ONLY} ran (--only); not a grade"  # the status of such a row
SLOW = ("codebase/utils.py", "    return m + v.sqrt() * torch.randn_like(m)\n")  # (file, text)
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}


def make_submissions(folder: Path) -> Path:
    """alice and bob: copies of the reference; carol.zip: not a zip; plus a hidden entry."""
    for student in ("alice", "bob"):
        build(folder / student)
    (folder / "carol.zip").write_text("this is not a zip archive")
    (folder / ".DS_Store").write_text("hidden: ignored")
    return folder


def run_batch(subs: Path, out: Path, *extra: str, **popen) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "grader",
        "batch",
        HW,
        str(subs),
        "--out",
        str(out),
        "--csv",
        str(out / "grades.csv"),
        "--only",
        ONLY,
        *extra,
    ]
    return subprocess.run(
        cmd, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=600, **popen
    )


def read_csv(path: Path) -> dict[str, dict]:
    with open(path, newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """Three submissions graded once with --jobs 2: (submissions, out, stderr)."""
    root = tmp_path_factory.mktemp("batch")
    subs, out = make_submissions(root / "subs"), root / "out"
    proc = run_batch(subs, out, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return subs, out, proc.stderr


def test_every_student_gets_results_and_a_csv_row(graded):
    """Do all three students get results.json and one CSV row, with a clear status?"""
    subs, out, stderr = graded
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["alice", "bob", "carol"]
    for student in ("alice", "bob", "carol"):
        for name in ("results.json", "instructor_results.json", "batch.json"):
            json.loads((out / student / name).read_text())
    rows = read_csv(out / "grades.csv")
    assert list(rows) == ["alice", "bob", "carol"]
    assert rows["alice"]["status"] == PARTIAL and rows["alice"]["score"] == "14"
    alice = rows["alice"]
    assert (alice["1.1"], alice["2.1"], alice["max_score"]) == ("6", "8", "14")
    assert rows["carol"]["status"].startswith("not graded:")
    assert "neither a folder nor a .zip" in rows["carol"]["status"]
    assert "carol" in stderr and "2 of 3 students graded on test_utils.py only" in stderr


def test_two_copies_get_identical_grades(graded):
    """Does the same submission graded twice (two copies, in parallel) get the same scores?"""
    _, out, _ = graded
    rows = read_csv(out / "grades.csv")
    same = ("score", "max_score", "status", "1.1", "2.1")
    assert [rows["alice"][k] for k in same] == [rows["bob"][k] for k in same]
    tests = {
        s: [
            (t["name"], t["score"], t["status"])
            for t in json.loads((out / s / "results.json").read_text())["tests"]
        ]
        for s in ("alice", "bob")
    }
    assert tests["alice"] == tests["bob"]


def test_rerun_grades_only_missing_or_changed_students(graded):
    """Does a rerun regrade a student whose results were deleted or whose files changed, only?"""
    subs, out, _ = graded
    (out / "bob" / "results.json").unlink()
    with open(subs / "alice" / "codebase" / "utils.py", "a") as f:
        f.write("\n# resubmitted\n")
    before = {s: (out / s / "batch.json").stat().st_mtime_ns for s in ("alice", "bob", "carol")}
    proc = run_batch(subs, out, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    after = {s: (out / s / "batch.json").stat().st_mtime_ns for s in before}
    assert after["carol"] == before["carol"]
    assert after["alice"] > before["alice"] and after["bob"] > before["bob"]
    assert "1 of 3 students already have up-to-date results" in proc.stderr
    assert "alice:" in proc.stderr and "bob:" in proc.stderr
    assert len(read_csv(out / "grades.csv")) == 3  # rebuilt from every student's results
    assert json.loads((out / "bob" / "results.json").read_text())["score"] == 14


def test_interrupted_batch_leaves_only_complete_results(tmp_path):
    """Does Ctrl-C mid-grading leave no partial results, exit 130, and resume to the end?"""
    subs, out = make_submissions(tmp_path / "subs"), tmp_path / "out"
    # alice's sample_gaussian sleeps, so her grading is surely under way when Ctrl-C comes (a
    # reference grading takes 3 s: on a busy machine the poll below could miss all of it)
    build(subs / "alice", {SLOW[0]: (SLOW[1], "    import time\n    time.sleep(60)\n")})
    cmd = [
        sys.executable,
        "-m",
        "grader",
        "batch",
        HW,
        str(subs),
        "--out",
        str(out),
        "--only",
        ONLY,
        "--jobs",
        "1",
    ]
    # as typed at a terminal: a shell without job control (CI scripts, `nohup ... &`) starts
    # background commands with SIGINT ignored, and then Python never raises KeyboardInterrupt
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=ENV,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not list(out.glob("alice/.partial-*")) and time.monotonic() < deadline:
        time.sleep(0.1)  # wait until alice's grading is under way
    assert proc.poll() is None, "the batch ended before alice's grading was seen under way"
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "rerun the same command to resume" in stderr
    assert not list(out.glob("*/.partial-*")), "a grading's private folder was left behind"
    for results in out.glob("*/results.json"):  # whatever is there is whole and committed
        json.loads(results.read_text())
        assert (results.parent / "batch.json").is_file()
    assert not (out / "alice" / "results.json").exists()  # interrupted: nothing committed
    rows = read_csv(out / "grades.csv")
    assert rows["alice"]["status"].startswith("not graded: no results yet")
    build(subs / "alice")  # the reference again: a changed submission is regraded
    resumed = run_batch(subs, out, "--jobs", "2")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert {s: r["status"] for s, r in read_csv(out / "grades.csv").items()}.keys() == {
        "alice",
        "bob",
        "carol",
    }
    assert read_csv(out / "grades.csv")["alice"]["status"] == PARTIAL


def test_a_failing_grading_is_a_row_and_never_stops_the_batch(tmp_path, monkeypatch):
    """Does a grader crash (child dies, or the thread raises) become a row, retried later?"""
    subs, out = make_submissions(tmp_path / "subs"), tmp_path / "out"

    def fake_child(self, spec: dict, log_path: Path) -> int:
        if spec["student"] == "alice":
            raise OSError("disk full")
        log_path.write_text("Traceback ...\nMemoryError: boom\n")
        return 3

    monkeypatch.setattr(batch.Batch, "_run_child", fake_child)
    rows, finished = batch.grade_all(HW, subs, out=out, jobs=2)
    assert finished and [r.student for r in rows] == ["alice", "bob", "carol"]
    assert rows[0].status == f"{batch.CRASH_PREFIX}: OSError: disk full"
    assert rows[1].status == f"{batch.CRASH_PREFIX} (exit code 3): MemoryError: boom"
    assert json.loads((out / "bob" / "results.json").read_text())["score"] == 0
    assert "bob" in read_csv(out / "grades.csv")
    fp = batch.fingerprint(subs / "bob", {"homework": HW, "tier": "quick", "only": []})
    assert batch.read_marker(out / "bob", fp) is None  # so the next run grades bob again


def test_submissions_are_found_by_name_and_fingerprinted_by_content(tmp_path):
    """Are hidden entries and stray files skipped, and does any change alter the fingerprint?"""
    subs = make_submissions(tmp_path / "subs")
    (subs / "notes.txt").write_text("not a submission")
    (subs / "submission_metadata.yml").write_text("Gradescope's export: ignored\n")
    (subs / "grades").mkdir()  # a results folder inside the submissions is no student
    found = batch.find_submissions(subs, (subs / "grades").resolve())
    assert list(found) == ["alice", "bob", "carol"]
    config = {"homework": HW, "tier": "quick", "only": []}
    fp = batch.fingerprint(found["alice"], config)
    assert fp == batch.fingerprint(found["bob"], config)
    assert fp != batch.fingerprint(found["alice"], {**config, "tier": "full"})
    (found["alice"] / "codebase" / "models" / "vae.py").rename(found["alice"] / "vae.py")
    assert fp != batch.fingerprint(found["alice"], config)
