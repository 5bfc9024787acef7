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


def to_gradescope(result: GradingResult) -> dict:
    """The whole results.json (Gradescope's autograder specification)."""
    notes = "\n".join(result.notes)
    return {
        "score": result.total,
        "execution_time": round(result.seconds, 1),
        "output": f"{result.homework}, {result.tier} tier: {result.total:g} / {result.possible:g}"
        + (f"\n{notes}" if notes else ""),
        "stdout_visibility": "hidden",
        "tests": [test_to_gradescope(t) for t in result.tests],
    }


def to_instructor(result: GradingResult) -> dict:
    """results.json plus what only course staff should see (tracebacks, worker logs)."""
    out = to_gradescope(result)
    for entry, t in zip(out["tests"], result.tests):
        entry["instructor_output"] = t.instructor_output
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
    lines.extend(result.notes)
    return "\n".join(lines)
