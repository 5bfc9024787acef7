"""Command line: `python -m grader HW [SUBMISSION]` grades; `release` and `autograder` package."""

import argparse
import inspect
import sys
from pathlib import Path

from grader import homeworks, run
from grader.serialize import table

USAGE = """\
python -m grader HW [SUBMISSION] [--tier quick|full] [--results FILE]
python -m grader release HW [--check] [--out DIR|FILE.zip]
python -m grader batch HW SUBMISSIONS_DIR [--jobs N] [--csv FILE] [--out DIR]
python -m grader autograder HW [--out FILE.zip]"""


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, except the ones that mean 'not given'."""

    def _get_help_string(self, action):
        if action.default in (None, False) or "default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _default(fn, name: str):
    return inspect.signature(fn).parameters[name].default


def grade_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m grader",
        usage=USAGE,
        description=(
            "Grade a submission of a homework with its hidden tests. The student's code runs in a "
            "separate, limited process; results are written even if it crashes or hangs."
        ),
        formatter_class=_Formatter,
    )
    p.add_argument("homework", help=f"one of: {', '.join(homeworks.HOMEWORKS)}")
    p.add_argument(
        "submission",
        nargs="?",
        type=Path,
        default=None,
        help="a folder or .zip of student files (default: the homework folder)",
    )
    p.add_argument(
        "--tier",
        choices=("quick", "full"),
        default=_default(run.main, "tier"),
        help="quick: function and model checks, no data set; full: also trains",
    )
    p.add_argument("--results", type=Path, default=None, help="write Gradescope's results.json")
    p.add_argument(
        "--instructor-results",
        type=Path,
        default=None,
        help="results.json with tracebacks, for course staff only",
    )
    p.add_argument(
        "--data-root",
        default=None,
        help="data folder for the full tier "
        "(default: $VAECOURSE_DATA, else ~/.cache/vaecourse/data)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=_default(run.main, "threads"),
        help="torch threads of the worker process",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=_default(run.main, "timeout"),
        help="seconds allowed for each call into the student's code",
    )
    p.add_argument("--verbose", action="store_true", help="show pytest's own output")
    p.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="FILE",
        help="for course staff: run only this hidden test file (a name or glob such as "
        "test_utils.py; repeat for more); a partial run, not a grade",
    )
    return p


def release_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m grader release",
        description=(
            "Generate a homework's student folder from solutions/HW (stubs in place of the "
            "marked solution regions)."
        ),
    )
    p.add_argument("homework", help=f"one of: {', '.join(homeworks.HOMEWORKS)}")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: <repo>/HW); a name ending in .zip writes a deterministic "
        "zip of the same files under HW/ instead, to hand out",
    )
    p.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    return p


def autograder_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m grader autograder",
        description=(
            "Build a homework's Gradescope autograder: a zip with setup.sh, run_autograder, the "
            "grader with this homework's hidden tests, its reference solution and student folder. "
            "Upload it to a programming assignment on Gradescope's Ubuntu 22.04 image or newer."
        ),
        formatter_class=_Formatter,
    )
    p.add_argument("homework", help=f"one of: {', '.join(homeworks.HOMEWORKS)}")
    p.add_argument(
        "--out", type=Path, default=None, help="the zip to write (default: ./HW-autograder.zip)"
    )
    return p


def only_files(patterns: list[str] | None) -> tuple[str, ...]:
    """pytest arguments that collect only the test files matching `patterns` (all if None).

    Unlike -k, which deselects after the grader has registered every test, this narrows what
    pytest collects, so the tests left out are not reported as failed.
    """
    return ("-o", "python_files=" + " ".join(patterns)) if patterns else ()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["batch"]:
        from grader import batch

        return batch.main(argv[1:])
    if argv[:1] == ["release"]:
        from grader import release

        args = release_parser().parse_args(argv[1:])
        return release.main(args.homework, out=args.out, check=args.check)
    if argv[:1] == ["autograder"]:
        from grader import autograder

        args = autograder_parser().parse_args(argv[1:])
        return autograder.main(args.homework, out=args.out)
    args = grade_parser().parse_args(argv)
    result = run.main(
        args.homework,
        args.submission,
        tier=args.tier,
        results=args.results,
        instructor_results=args.instructor_results,
        data_root=args.data_root,
        threads=args.threads,
        timeout=args.timeout,
        pytest_args=only_files(args.only),
        verbose=args.verbose,
    )
    print(table(result))
    return 0
