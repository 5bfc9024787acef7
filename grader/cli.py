"""The command line, `python -m grader`: one parser, one subcommand per module's `main`.

    python -m grader [grade] HW [SUBMISSION] [options]  grade one submission (grader.run)
    python -m grader batch HW SUBMISSIONS [options]     grade a class (grader.batch)
    python -m grader release HW [options]               the student folder (grader.release)
    python -m grader autograder HW [options]            a Gradescope bundle (grader.autograder)

This module only wraps: defaults come from the signatures of those `main` functions, so the
command line and the Python API cannot disagree. `grade` is the default subcommand.
"""

import argparse
import inspect
import sys
from pathlib import Path

from grader import autograder, batch, homeworks, release, run
from grader.plugin import VISIBILITIES
from grader.serialize import table

EXIT_CODES = """\
exit status of grade: 0 graded (whatever the score), 2 bad command line, 3 the submission could
not be graded (missing, not a folder or .zip, damaged: results.json says why), 4 the grader
itself failed (results.json says so; course staff should look)"""


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show defaults, except the ones that mean 'not given'; keep the epilog's line breaks."""

    def _get_help_string(self, action):
        if action.default in (None, False) or "default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _defaults(fn) -> dict:
    """{parameter: default} of `fn`'s keyword parameters."""
    params = inspect.signature(fn).parameters.values()
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def _known_homework(name: str) -> str:
    """A homework's name (a trailing path such as hw_vae/ is accepted); unknown ones are a
    usage error."""
    short = name.strip("/").split("/")[-1]
    if short not in homeworks.HOMEWORKS:
        raise argparse.ArgumentTypeError(
            f"unknown homework {name!r}: choose one of {', '.join(homeworks.HOMEWORKS)}"
        )
    return short


def _homework(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "homework", type=_known_homework, help=f"one of: {', '.join(homeworks.HOMEWORKS)}"
    )


def _grading_options(p: argparse.ArgumentParser, d: dict) -> None:
    """Options shared by `grade` and `batch` (d: the defaults of the function they call)."""
    p.add_argument(
        "--tier",
        choices=homeworks.TIERS,
        default=d["tier"],
        help="quick: function and model checks, no data set; full: also trains",
    )
    p.add_argument(
        "--data-root",
        default=None,
        help="data folder for the tiers that read data sets "
        "(default: $VAECOURSE_DATA, else ~/.cache/vaecourse/data)",
    )
    p.add_argument(
        "--threads", type=int, default=d["threads"], help="torch threads of the worker process"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=d["timeout"],
        help="seconds allowed for each call into the student's code",
    )


def _add_grade(sub) -> None:
    d = _defaults(run.main)
    p = sub.add_parser(
        "grade",
        help="grade one submission (the default subcommand)",
        description="Grade a submission of a homework with its hidden tests. The student's code "
        "runs in a separate, limited process; results are written even if it crashes or hangs.",
        epilog=EXIT_CODES,
        formatter_class=_Formatter,
    )
    _homework(p)
    p.add_argument(
        "submission",
        nargs="?",
        type=Path,
        default=None,
        help="a folder or .zip of student files (default: the homework folder)",
    )
    _grading_options(p, d)
    p.add_argument("--results", type=Path, default=None, help="write Gradescope's results.json")
    p.add_argument(
        "--instructor-results",
        type=Path,
        default=None,
        help="results.json with tracebacks, for course staff only",
    )
    p.add_argument("--verbose", action="store_true", help="show pytest's own output")
    p.add_argument(
        "--visibility",
        choices=VISIBILITIES,
        default=_defaults(run.main)["visibility"],
        help="Gradescope visibility of the hidden tests in results.json",
    )
    p.add_argument(
        "--public-checks",
        action="store_true",
        help="also list the homework's public checks (check.py) as 0-point, visible results",
    )
    p.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="FILE",
        help="for course staff: run only this hidden test file (a name or glob such as "
        "test_utils.py; repeat for more); a partial run, not a grade",
    )


def _add_batch(sub) -> None:
    d = _defaults(batch.grade_all)
    p = sub.add_parser(
        "batch",
        help="grade every submission of a folder, in parallel and resumably",
        description="Grade every submission in a folder (a sub-folder or a .zip per student; "
        "the student is its name without .zip) in parallel. Each student gets "
        "OUT/STUDENT/results.json (Gradescope's format), instructor_results.json and "
        "batch.json; a rerun grades only students without up-to-date results, so an "
        "interrupted batch resumes where it stopped. A Gradescope export's "
        "submission_metadata.yml beside the submissions fills the CSV's name, email and sid "
        "columns (one line per submitter of a group submission).",
        epilog="exit status: 0 every student graded, 1 a grading failed (a rerun retries it), "
        "130 interrupted (rerun to resume)",
        formatter_class=_Formatter,
    )
    _homework(p)
    p.add_argument(
        "submissions",
        type=Path,
        help="folder of submissions (Gradescope's export layout works too)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="per-student results (default: SUBMISSIONS/../grades-HW)",
    )
    p.add_argument(
        "--csv",
        type=Path,
        dest="csv_path",
        metavar="FILE",
        help="grade table, rebuilt on every run (default: OUT/grades.csv; a --shard K/N run "
        "writes FILE.shard-K-of-N.csv beside it instead)",
    )
    p.add_argument(
        "--jobs", "-j", type=int, metavar="N", help="gradings at once (default: the CPU cores)"
    )
    _grading_options(p, d)
    p.add_argument(
        "--only",
        nargs="+",
        metavar="FILE",
        help="for course staff: run only these hidden test files (names or globs, such as "
        "test_utils.py); partial grades, their rows' status says so",
    )
    p.add_argument(
        "--force", action="store_true", help="regrade every student, even those up to date"
    )

    def shard(text: str) -> tuple[int, int]:
        try:
            return batch.parse_shard(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    p.add_argument(
        "--shard",
        type=shard,
        metavar="K/N",
        help="grade only the K-th of N slices of the class (K = 1..N; a student's slice is "
        "fixed by a hash of the name), e.g. on N machines sharing SUBMISSIONS and OUT; its rows "
        "go to OUT/grades.shard-K-of-N.csv. Once all N have finished, the same command without "
        "--shard builds the class's CSV without regrading",
    )


def _add_release(sub) -> None:
    p = sub.add_parser(
        "release",
        help="generate a homework's student folder or zip from solutions/HW",
        description="Generate a homework's student folder from solutions/HW (stubs in place of "
        "the marked solution regions).",
        formatter_class=_Formatter,
    )
    _homework(p)
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: <repo>/HW); a name ending in .zip writes a deterministic "
        "zip of the same files under HW/ instead, to hand out",
    )
    p.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")


def _add_autograder(sub) -> None:
    p = sub.add_parser(
        "autograder",
        help="build a homework's Gradescope autograder zip",
        description="Build a homework's Gradescope autograder: a zip with setup.sh, "
        "run_autograder, the grader with this homework's hidden tests, its reference solution "
        "and student folder. Upload it to a programming assignment on Gradescope's Ubuntu "
        "22.04 or 24.04 image.",
        formatter_class=_Formatter,
    )
    _homework(p)
    d = _defaults(autograder.main)
    p.add_argument(
        "--out", type=Path, default=None, help="the zip to write (default: ./HW-autograder.zip)"
    )
    p.add_argument(
        "--tier",
        choices=homeworks.TIERS,
        default=d["tier"],
        help="what Gradescope grades each submission on; full also trains and ships the data "
        "sets inside the bundle (see README for the CPU, memory and timeout settings it needs)",
    )
    p.add_argument(
        "--visibility",
        choices=VISIBILITIES,
        default=d["visibility"],
        help="Gradescope visibility of the hidden tests (the public checks are always visible)",
    )
    p.add_argument(
        "--data-root",
        default=None,
        help="where the data sets to ship are (default: $VAECOURSE_DATA, else "
        "~/.cache/vaecourse/data)",
    )


def parser() -> argparse.ArgumentParser:
    """The whole command line."""
    p = argparse.ArgumentParser(
        prog="python -m grader",
        description=__doc__.split("\n\n")[0],
        epilog="`python -m grader HW ...` is short for `python -m grader grade HW ...`; "
        "`python -m grader SUBCOMMAND --help` lists each one's options.",
    )
    sub = p.add_subparsers(dest="command", metavar="SUBCOMMAND")
    for add in (_add_grade, _add_batch, _add_release, _add_autograder):
        add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv[1:]) and run the subcommand; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"grade", "batch", "release", "autograder"}
    if argv and argv[0] not in commands and not argv[0].startswith("-"):
        argv.insert(0, "grade")
    args = vars(parser().parse_args(argv))
    command = args.pop("command")
    if command is None:
        parser().print_help()
        return 2
    return COMMANDS[command](args)


def _grade(args: dict) -> int:
    patterns = args.pop("only")
    verbose = args.pop("verbose")
    result = run.main(
        args.pop("homework"),
        args.pop("submission"),
        pytest_args=run.only_files(patterns),
        verbose=verbose,
        **args,
    )
    print(table(result))
    if result.instructor_notes:  # the command line is course staff's: show what went wrong
        print("\n".join(result.instructor_notes), file=sys.stderr)
    return result.exit_status


def _release(args: dict) -> int:
    return release.main(args["homework"], out=args["out"], check=args["check"])


def _autograder(args: dict) -> int:
    return autograder.main(args.pop("homework"), **args)


def _batch(args: dict) -> int:
    return batch.main(args.pop("homework"), args.pop("submissions"), **args)


COMMANDS = {"grade": _grade, "batch": _batch, "release": _release, "autograder": _autograder}
