"""Grade one submission: stage it, run the homework's hidden tests, always write the results."""

import contextlib
import io
import shutil
import tempfile
import time
import traceback
from pathlib import Path

import pytest

from grader import homeworks
from grader import plugin as plugin_module
from grader.fileio import write_json
from grader.messages import SelfCheck
from grader.plugin import Context, GradingPlugin
from grader.results import GradingResult, TestResult
from grader.sandbox import Limits, Sandbox
from grader.serialize import to_gradescope, to_instructor
from grader.submission import SubmissionProblem, stage

# Torch threads of the trusted process. Its own computations are small (the reference's
# statistics are computed at build time), and a single thread never competes with the worker
# or with other gradings for the cores.
TRUSTED_THREADS = 1
GRADER_FAILED = (
    "The grader itself failed while grading this submission (not your code); course staff "
    "will look at it."
)


def main(
    homework: str,
    submission: Path | None = None,
    *,
    tier: str = "quick",
    results: Path | None = None,
    instructor_results: Path | None = None,
    data_root: str | None = None,
    threads: int = 1,
    timeout: float = 60.0,
    pytest_args: tuple = (),
    verbose: bool = False,
    visibility: str = "visible",
    public_checks: bool = False,
) -> GradingResult:
    """Grade `submission` (folder or .zip; default: the homework folder) on `tier`.

    Writes Gradescope's results.json to `results` (and, with tracebacks, to
    `instructor_results`), atomically, even when the submission crashes, hangs or cannot be
    read, and when the grader itself fails (result.status says which).
    `timeout` bounds each call into the student's code (the full tier's training has its own).
    `visibility` is Gradescope's visibility of the hidden tests; with `public_checks`, the
    results also list the homework's public checks (check.py), worth 0 points, always visible.
    """
    hw = homeworks.get(homework)
    result = GradingResult(hw.name, tier, partial=bool(pytest_args))
    start, workdir = time.time(), Path(tempfile.mkdtemp(prefix="grade-"))
    sandbox, plugin = None, None
    try:
        staged = stage(hw, Path(submission or hw.release), workdir)
        result.notes.extend(staged.notes)
        limits = Limits(threads=threads, timeout=timeout, aliases=hw.aliases)
        sandbox = Sandbox(staged.tree, limits, hw.student_files)
        sandbox.start()  # the worker imports torch while this process does the same
        import torch  # noqa: PLC0415 - after the worker started: both import torch at once

        torch.set_num_threads(TRUSTED_THREADS)
        context = Context(hw.name, tier, staged, sandbox, data_root, visibility)
        plugin = GradingPlugin(context, preflight=(hw.modules, hw.fallbacks, timeout))
        run_pytest(hw.tests, plugin, pytest_args, verbose)
        result.notes.extend(plugin.notes)
        if public_checks:
            result.public = run_public_checks(sandbox, timeout)
    except SubmissionProblem as exc:
        result.status = "not graded"
        result.notes.append(f"submission not graded: {exc}")
    except Exception:  # the grader's own failure is a result too, never a lost one
        result.status = "grader error"
        result.notes.append(GRADER_FAILED)
        result.instructor_notes.append(traceback.format_exc())
    finally:
        if plugin is not None:
            result.tests = sorted(plugin.results + result.public, key=lambda t: t.item)
        if sandbox is not None:
            result.notes.extend(n for n in sandbox.notes if n not in result.notes)
            sandbox.close()
        shutil.rmtree(workdir, ignore_errors=True)
        result.seconds = time.time() - start
        write_json(results, to_gradescope(result))
        write_json(instructor_results, to_instructor(result))
    return result


def run_public_checks(sandbox: Sandbox, timeout: float) -> list[TestResult]:
    """The homework's public checks (check.py) run on the submission in the worker: one
    0-point, visible TestResult each; one failed result if they cannot run at all."""
    outcome = sandbox.call(SelfCheck(), timeout)
    if not outcome.ok:
        return [
            TestResult(
                "public checks (python check.py)", 0.0, 0.0, "failed", outcome.student_message()
            )
        ]
    return [
        TestResult(
            f"public check: {r['name']}",
            0.0,
            0.0,
            "passed" if r["passed"] else "failed",
            str(r["message"]),
            item=str(r["item"]),
        )
        for r in outcome.result.results
    ]


def only_files(patterns: list[str] | None) -> tuple[str, ...]:
    """pytest arguments that collect only the test files matching `patterns` (all if None).

    Unlike -k, which deselects after the grader has registered every test, this narrows what
    pytest collects, so the tests left out are not reported as failed.
    """
    return ("-o", "python_files=" + " ".join(patterns)) if patterns else ()


def run_pytest(tests: Path, plugin: GradingPlugin, extra: tuple, verbose: bool) -> None:
    """Run the hidden tests in `tests` with `plugin` collecting their results."""
    args = [
        str(tests),
        "-p",
        "no:cacheprovider",
        "--strict-markers",
        "-q",
        "-o",
        "addopts=",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        *extra,
    ]
    sink = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with sink:
        code = pytest.main(args, plugins=[plugin, plugin_module])
    if code not in (
        pytest.ExitCode.OK,
        pytest.ExitCode.TESTS_FAILED,
        pytest.ExitCode.NO_TESTS_COLLECTED,
    ):
        raise RuntimeError(f"the hidden tests could not run (pytest exit code {code})")
