"""Pure functions turning results into Gradescope's results.json and a terminal table."""

import textwrap

from grader.results import GradingResult, TestResult

GRADESCOPE_STATUS = {"passed": "passed"}  # every other status is a failure for Gradescope


def test_to_gradescope(t: TestResult) -> dict:
    """One entry of Gradescope's `tests` list."""
    return {
        "name": t.name,
        "number": t.item,
        "score": t.score,
        "max_score": t.max_score,
        "status": GRADESCOPE_STATUS.get(t.status, "failed"),
        "output": t.output if t.status == "passed" else f"[{t.status}] {t.output}".strip(),
        "visibility": t.visibility,
    }


def graded(result: GradingResult) -> list[TestResult]:
    """The tests that count: a skipped test (it cannot run here, e.g. no data set for it) is
    left out of the student's results, not shown as a failed 0/0 (its reason goes to course
    staff)."""
    return [t for t in result.tests if t.status != "skipped"]


def summary(result: GradingResult) -> str:
    """The first line of the results: homework, tier, score, and what kind of run it was."""
    line = f"{result.homework}, {result.tier} tier: {result.total:g} / {result.possible:g}"
    if result.status != "graded":
        line += f" ({result.status})"
    if result.partial:
        line += " (partial run: only some hidden test files ran; not a grade)"
    return line


def to_gradescope(result: GradingResult) -> dict:
    """The whole results.json (Gradescope's autograder specification)."""
    return {
        "score": result.total,
        "execution_time": round(result.seconds, 1),
        "output": "\n".join([summary(result), *result.notes]),
        "stdout_visibility": "hidden",
        "tests": [test_to_gradescope(t) for t in graded(result)],
    }


def to_instructor(result: GradingResult) -> dict:
    """results.json plus what only course staff should see (tracebacks, worker logs, the tests
    left out and why)."""
    out = to_gradescope(result)
    for entry, t in zip(out["tests"], graded(result)):
        entry["instructor_output"] = t.instructor_output
    left_out = [f"left out: {t.name}: {t.output}" for t in result.tests if t.status == "skipped"]
    out["status"] = result.status
    out["instructor_notes"] = [*result.instructor_notes, *left_out]
    return out


def table(result: GradingResult, width: int = 100) -> str:
    """A plain-text table: item, test, points, verdict and a one-line reason."""
    lines = [f"{'item':<5} {'test':<48} {'points':>9}  verdict"]
    for t in result.tests:
        name = textwrap.shorten(t.name, 48, placeholder="...")
        lines.append(f"{t.item:<5} {name:<48} {t.score:>4g}/{t.max_score:<4g}  {t.status}")
        if t.status != "passed" and t.output:
            reason = textwrap.shorten(t.output.replace("\n", " "), width - 8, placeholder="...")
            lines.append(f"{'':6}-> {reason}")
    lines.append(f"{'':5} {'TOTAL':<48} {result.total:>4g}/{result.possible:<4g}")
    if result.status != "graded" or result.partial:
        lines.append(summary(result))
    lines.extend(result.notes)
    return "\n".join(lines)
