"""Grade one submission: stage it, run the homework's hidden tests, always write the results."""

import contextlib
import io
import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from grader import homeworks
from grader import plugin as plugin_module
from grader.plugin import Context, GradingPlugin
from grader.results import GradingResult
from grader.sandbox import Limits, Sandbox
from grader.serialize import to_gradescope, to_instructor
from grader.submission import SubmissionProblem, stage


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
) -> GradingResult:
    """Grade `submission` (folder or .zip; default: the homework folder) on `tier`.

    Writes Gradescope's results.json to `results` (and, with tracebacks, to
    `instructor_results`) even when the submission crashes, hangs or cannot be read.
    `timeout` bounds each call into the student's code (the full tier's training has its own).
    """
    hw = homeworks.get(homework)
    result = GradingResult(hw.name, tier)
    start, workdir, sandbox = time.time(), Path(tempfile.mkdtemp(prefix="grade-")), None
    try:
        staged = stage(hw, Path(submission or hw.release), workdir)
        result.notes.extend(staged.notes)
        limits = Limits(threads=threads, timeout=timeout, aliases=hw.aliases)
        sandbox = Sandbox(staged.tree, limits)
        result.notes.extend(sandbox.preflight(hw.modules, hw.fallbacks, timeout))
        plugin = GradingPlugin(Context(hw.name, tier, staged, sandbox, data_root))
        run_pytest(hw.tests, plugin, pytest_args, verbose)
        result.tests = sorted(plugin.results, key=lambda t: t.item)
    except SubmissionProblem as exc:
        result.notes.append(f"submission not graded: {exc}")
    finally:
        if sandbox is not None:
            sandbox.close()
        shutil.rmtree(workdir, ignore_errors=True)
        result.seconds = time.time() - start
        write(results, to_gradescope(result))
        write(instructor_results, to_instructor(result))
    return result


def run_pytest(tests: Path, plugin: GradingPlugin, extra: tuple, verbose: bool) -> None:
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


def write(path: Path | None, payload: dict) -> None:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=2))
