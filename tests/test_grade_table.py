"""Tests of grader/grade_table.py: a batch's rows and its CSV."""

import csv
from pathlib import Path

from grader import results
from grader.grade_table import Row, summarize, write_csv
from grader.gradescope_metadata import Submitter


def result(partial: bool) -> results.GradingResult:
    tests = [
        results.TestResult("sample_gaussian", 6, 6, "passed", item="1.1"),
        results.TestResult("log_normal", 8, 2, "failed", item="2.1"),
    ]
    return results.GradingResult("hw_gmvae_iwae_ssvae", "quick", tests=tests, partial=partial)


def test_a_partial_grading_says_so_in_its_status():
    """Does a row graded on some hidden test files only say so, naming them, unlike a grade?"""
    full = summarize("alice", result(partial=False))
    part = summarize("alice", result(partial=True), ["test_utils.py"])
    assert full.status == "graded"
    assert part.status == "partial: only test_utils.py ran (--only); not a grade"
    assert (part.score, part.max_score, part.items) == (8, 14, {"1.1": 6, "2.1": 2})
    assert full.graded and part.graded and not Row("bob").graded


def read_lines(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_identities_give_one_line_per_submitter(tmp_path: Path):
    """Does each submitter get a line with name, email and SID (a group's members sharing its
    score), and a submission missing from the metadata one line with those left empty?"""
    rows = [Row("submission_1", 12, 14, status="graded"), Row("submission_2", 3, 14)]
    rows += [Row("submission_3", 14, 14, status="graded")]
    people = {
        "submission_1": [Submitter("Ada", "ada@x.edu", "1815"), Submitter("Alan", "", "1912")],
        "submission_3": [Submitter("Grace", "grace@x.edu", "1906")],
    }
    write_csv(tmp_path / "grades.csv", rows, people)
    lines = read_lines(tmp_path / "grades.csv")
    assert list(lines[0])[:5] == ["student", "name", "email", "sid", "score"]
    got = [(r["student"], r["name"], r["email"], r["sid"], r["score"]) for r in lines]
    assert got == [
        ("submission_1", "Ada", "ada@x.edu", "1815", "12"),
        ("submission_1", "Alan", "", "1912", "12"),
        ("submission_2", "", "", "", "3"),
        ("submission_3", "Grace", "grace@x.edu", "1906", "14"),
    ]
    write_csv(tmp_path / "plain.csv", rows)  # no export metadata: no identity columns
    assert "name" not in read_lines(tmp_path / "plain.csv")[0]
