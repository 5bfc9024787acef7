"""Tests of grader/serialize.py: results.json for Gradescope and course staff, and the table."""

from grader.results import GradingResult, TestResult
from grader.serialize import summary, table, to_gradescope, to_instructor


def result(**fields) -> GradingResult:
    """A grading of three tests: one passed, one failed, one skipped for want of data."""
    tests = [
        TestResult("adds", 2, 2, "passed", item="1.1"),
        TestResult(
            "sums",
            3,
            0,
            "failed",
            "got 5, expected 6",
            item="1.2",
            instructor_output="Traceback ...",
        ),
        TestResult("trains on SVHN", 0, 0, "skipped", "no SVHN images (--data-root)", item="2.1"),
    ]
    return GradingResult("hw_x", "quick", tests=tests, notes=["utils.py: not submitted"], **fields)


def test_gradescope_results_leave_skipped_tests_out():
    """Does results.json list the graded tests only, with the score, notes and statuses?"""
    payload = to_gradescope(result())
    assert [t["name"] for t in payload["tests"]] == ["adds", "sums"]
    assert payload["score"] == 2 and payload["tests"][1]["status"] == "failed"
    assert payload["tests"][1]["output"] == "[failed] got 5, expected 6"
    assert payload["output"].splitlines() == ["hw_x, quick tier: 2 / 5", "utils.py: not submitted"]
    assert "instructor_output" not in payload["tests"][1]


def test_instructor_results_keep_what_staff_need():
    """Do the instructor results add tracebacks, the status and why a test was left out?"""
    payload = to_instructor(result(status="grader error", instructor_notes=["Traceback (x)"]))
    assert payload["tests"][1]["instructor_output"] == "Traceback ..."
    assert payload["status"] == "grader error"
    assert payload["instructor_notes"][0] == "Traceback (x)"
    assert "left out: trains on SVHN: no SVHN images (--data-root)" in payload["instructor_notes"]


def test_summary_says_what_kind_of_run_it_was():
    """Do a run that could not grade and a partial (--only) run say so in their first line?"""
    assert summary(result()) == "hw_x, quick tier: 2 / 5"
    assert summary(result(status="not graded")).endswith("(not graded)")
    assert "partial run" in summary(result(partial=True)) and "not a grade" in table(
        result(partial=True)
    )


def test_table_shows_each_reason_on_one_line():
    """Does the table give every failed test its reason, and the total?"""
    lines = table(result()).splitlines()
    assert any(line.strip().startswith("-> got 5, expected 6") for line in lines)
    assert any("TOTAL" in line and "2/5" in line for line in lines)
