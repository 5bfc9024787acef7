"""Grade a folder of submissions in parallel, resumably, into per-student results and a CSV."""

import functools
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from grader import gradescope_metadata, homeworks
from grader.fileio import PARTIAL, write_atomic
from grader.grade_table import CRASH_PREFIX, Row, write_csv
from grader.gradescope_metadata import Submitter
from grader.results import GradingResult
from grader.serialize import to_gradescope

MARKER = "batch.json"  # written last: its presence with the right fingerprint = complete
RESULTS = ("results.json", "instructor_results.json")
IGNORED = {gradescope_metadata.METADATA}  # Gradescope's export: a folder per submission beside it


def find_submissions(folder: Path, out: Path | None = None) -> dict[str, Path]:
    """{student: submission} for every folder or .zip in `folder`, hidden entries left out
    (and `out`, the results folder, should it be inside `folder`)."""
    found: dict[str, Path] = {}
    for entry in sorted(Path(folder).iterdir()):
        if entry.name.startswith(".") or entry.name in IGNORED or entry.resolve() == out:
            continue
        if not (entry.is_dir() or entry.suffix == ".zip"):
            print(f"ignored {entry}: a submission is a folder or a .zip", file=sys.stderr)
            continue
        student = entry.name.removesuffix(".zip")
        if student in found:
            raise SystemExit(
                f"{found[student]} and {entry} are both student {student!r}: keep one of them"
            )
        found[student] = entry
    return found


def fingerprint(submission: Path, config: dict) -> str:
    """sha256 of the grading configuration and every file of the submission (path + bytes)."""
    h = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    paths = (
        [submission]
        if submission.is_file()
        else sorted(
            p
            for p in submission.rglob("*")
            if p.is_file() and not p.is_symlink() and "__pycache__" not in p.parts
        )
    )
    for p in paths:
        h.update(b"" if p == submission else p.relative_to(submission).as_posix().encode() + b"\0")
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def parse_shard(text: str) -> tuple[int, int]:
    """'K/N' -> (K, N), the K-th of N slices of a class (1 <= K <= N)."""
    k, sep, n = text.partition("/")
    if not (sep and k.strip().isdigit() and n.strip().isdigit()):
        raise ValueError(f"{text!r} is not K/N: write, e.g., 2/3 for the 2nd of 3 slices")
    return check_shard((int(k), int(n)))


def check_shard(shard: tuple[int, int]) -> tuple[int, int]:
    """`shard` = (K, N) if 1 <= K <= N; else a ValueError that says so."""
    k, n = shard
    if not 1 <= k <= n:
        raise ValueError(f"shard {k}/{n}: slices are numbered 1 to N, so K must be in 1..N")
    return shard


def shard_of(student: str, shards: int) -> int:
    """The slice (1 to `shards`) that grades `student`: fixed by a hash of the name alone, so it
    is the same on every machine and does not move when other students are added or removed."""
    digest = hashlib.sha256(student.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shards + 1


def shard_csv(path: Path, shard: tuple[int, int]) -> Path:
    """Where shard K/N writes its rows: grades.csv -> grades.shard-K-of-N.csv, beside it."""
    return path.with_name(f"{path.stem}.shard-{shard[0]}-of-{shard[1]}{path.suffix}")


def read_marker(student_dir: Path, fp: str) -> dict | None:
    """The finished grading recorded in student_dir for fingerprint `fp`, else None."""
    try:
        marker = json.loads((student_dir / MARKER).read_text())
        complete = all((student_dir / name).is_file() for name in RESULTS)
    except (OSError, ValueError):
        return None
    return marker if complete and marker.get("fingerprint") == fp else None


def graded_by(shard: str | None) -> dict:
    """Where a result was made, for OUT/<student>/batch.json: the machine and the shard."""
    return {"host": socket.gethostname(), "shard": shard}


def commit(student_dir: Path, files: dict[str, str], marker: dict) -> None:
    """Replace the results files, then the marker; signals wait until all are in place."""
    signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        (student_dir / MARKER).unlink(missing_ok=True)
        for name, text in files.items():
            write_atomic(student_dir / name, text)
        write_atomic(student_dir / MARKER, json.dumps(marker, indent=2))
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)


class Batch:
    """Runs one `python -m grader.batch_child` per student, at most `jobs` at a time."""

    def __init__(self, config: dict, out: Path, threads: int):
        self.config, self.out, self.threads = config, out, threads
        self.stop = threading.Event()
        self.running: dict[subprocess.Popen, Path] = {}  # child -> its student's folder
        self.lock = threading.Lock()

    def grade(self, student: str, submission: Path, fp: str) -> Row | None:
        """Grade one student in a child process; None when the batch was interrupted."""
        try:
            return self._grade(student, submission, fp)
        except Exception as exc:  # one student's trouble never stops the batch
            return Row(student, status=f"{CRASH_PREFIX}: {type(exc).__name__}: {exc}")

    def _grade(self, student: str, submission: Path, fp: str) -> Row | None:
        student_dir = self.out / student
        student_dir.mkdir(parents=True, exist_ok=True)
        for stale in student_dir.glob(PARTIAL + "*"):  # left by a killed run
            if stale.is_dir():
                shutil.rmtree(stale)
            else:
                stale.unlink()
        spec = {
            **self.config,
            "student": student,
            "submission": str(submission.resolve()),
            "student_dir": str(student_dir.resolve()),
            "fingerprint": fp,
        }
        code = self._run_child(spec, student_dir / "batch.log")
        if code is None:
            return None
        marker = read_marker(student_dir, fp)
        if code == 0 and marker is not None:
            return Row.from_marker(marker)
        return self._record_crash(student, student_dir, code)

    def _run_child(self, spec: dict, log_path: Path) -> int | None:
        env = {
            **os.environ,
            "OMP_NUM_THREADS": str(self.threads),
            "OMP_WAIT_POLICY": "PASSIVE",
            "MKL_NUM_THREADS": str(self.threads),
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(homeworks.ROOT), os.environ.get("PYTHONPATH")])
            ),
        }
        cmd = [sys.executable, "-m", "grader.batch_child", json.dumps(spec)]
        with self.lock:
            if self.stop.is_set():
                return None
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )  # Ctrl-C reaches the batch only
            self.running[proc] = log_path.parent
        code = proc.wait()
        with self.lock:
            self.running.pop(proc, None)
        return None if self.stop.is_set() else code

    def _record_crash(self, student: str, student_dir: Path, code: int) -> Row:
        """A grading that died: a zero with the reason, retried by the next run."""
        log = (student_dir / "batch.log").read_text(errors="replace").strip().splitlines()
        why = f"{CRASH_PREFIX} (exit code {code}): {log[-1][:200] if log else 'no output'}"
        row = Row(student, status=why, notes=f"see {student_dir / 'batch.log'}")
        result = GradingResult(
            self.config["homework"],
            self.config["tier"],
            notes=[
                "Your submission could not be graded automatically; course staff will grade it."
            ],
        )
        files = {
            RESULTS[0]: json.dumps(to_gradescope(result), indent=2),
            RESULTS[1]: json.dumps({**to_gradescope(result), "error": why}, indent=2),
        }
        marker = {"fingerprint": "retry", "graded_by": graded_by(self.config.get("shard"))}
        commit(student_dir, files, {**marker, **asdict(row)})
        return row

    def interrupt(self) -> None:
        """Stop starting gradings; ask running ones to stop (SIGTERM), then kill stragglers."""
        self.stop.set()
        with self.lock:
            running = dict(self.running)
        for proc in running:
            proc.terminate()
        deadline = time.monotonic() + 10
        for proc, student_dir in running.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for partial in student_dir.glob(PARTIAL + "*"):
                shutil.rmtree(partial, ignore_errors=True)


def load_row(student: str, student_dir: Path, fp: str) -> Row:
    """The student's row from OUT/<student>/batch.json; a placeholder if not graded yet."""
    try:
        marker = json.loads((student_dir / MARKER).read_text())
    except (OSError, ValueError):
        return Row(student)
    fresh = marker.get("fingerprint") in (fp, "retry")
    return Row.from_marker({**marker, "student": student}) if fresh else Row(student)


def grade_all(
    homework: str,
    submissions: Path,
    *,
    out: Path | None = None,
    csv_path: Path | None = None,
    jobs: int | None = None,
    tier: str = "quick",
    threads: int = 1,
    timeout: float = 60.0,
    data_root: str | None = None,
    only: list[str] | None = None,
    force: bool = False,
    shard: tuple[int, int] | None = None,
) -> tuple[list[Row], bool]:
    """Grade every submission in `submissions` that has no up-to-date results in `out`.

    `out` defaults to SUBMISSIONS/../grades-HW and `csv_path` to OUT/grades.csv; `jobs` (default:
    the number of CPU cores) gradings run at once, each with `threads` torch threads. `only`
    restricts grading to these hidden test files (as `python -m grader --only`). `shard` (K, N)
    takes only the students of slice K of N (see shard_of) and writes their rows to
    shard_csv(csv_path), never to the class's CSV. Returns the row of every student taken and
    whether the batch ran to the end (False when interrupted).
    """
    hw = homeworks.get(homework)
    submissions = Path(submissions)
    out = Path(out) if out else submissions.resolve().parent / f"grades-{hw.name}"
    config = {"homework": hw.name, "tier": tier, "only": sorted(only or [])}
    found = select(find_submissions(submissions, out.resolve()), shard)
    fps = {s: fingerprint(p, config) for s, p in found.items()}
    todo = [s for s in found if force or read_marker(out / s, fps[s]) is None]
    if len(todo) < len(found):
        print(
            f"{len(found) - len(todo)} of {len(found)} students already have up-to-date "
            f"results in {out}: kept (--force regrades them)",
            file=sys.stderr,
        )
    label = f"{shard[0]}/{shard[1]}" if shard else None
    settings = {"threads": threads, "timeout": timeout, "data_root": data_root, "shard": label}
    batch = Batch({**config, **settings}, out, threads)
    done, finished = _run(batch, todo, found, fps, jobs or os.cpu_count() or 1)
    rows = [done[s] if s in done else load_row(s, out / s, fps[s]) for s in found]
    table = Path(csv_path) if csv_path else out / "grades.csv"
    table = shard_csv(table, shard) if shard else table
    write_csv(table, rows, identities(submissions, found))
    print(f"grade table: {table}", file=sys.stderr)
    return rows, finished


def select(found: dict[str, Path], shard: tuple[int, int] | None) -> dict[str, Path]:
    """The students of slice `shard` = (K, N) of `found` (all of them when None)."""
    if shard is None:
        return found
    k, n = check_shard(shard)
    mine = {s: p for s, p in found.items() if shard_of(s, n) == k}
    print(
        f"shard {k}/{n}: {len(mine)} of the {len(found)} students (slices by a hash of each name)",
        file=sys.stderr,
    )
    return mine


def identities(submissions: Path, found: dict) -> dict[str, list[Submitter]] | None:
    """Each submission's submitters from SUBMISSIONS/submission_metadata.yml (None if there is no
    such file); an unreadable file, or a submission it does not list, is reported on stderr."""
    try:
        people = gradescope_metadata.read(submissions)
    except ValueError as exc:
        print(
            f"warning: {exc}; the name, email and sid columns are left empty (fix the file and "
            "rerun: nothing is regraded)",
            file=sys.stderr,
        )
        return {}
    missing = [s for s in found if people is not None and s not in people]
    if missing:
        print(
            f"warning: submissions not in {gradescope_metadata.METADATA}: {len(missing)} "
            f"(first: {missing[0]}); their name, email and sid are left empty",
            file=sys.stderr,
        )
    return people


def _run(batch: Batch, todo: list, found: dict, fps: dict, jobs: int) -> tuple[dict, bool]:
    """Grade `todo` on `jobs` threads, each waiting on its child; ({student: row}, finished)."""
    done: dict[str, Row] = {}
    bar = tqdm(total=len(todo), unit="student", file=sys.stderr, disable=None)
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        pending = {pool.submit(batch.grade, s, found[s], fps[s]) for s in todo}
        while pending:  # a timed wait: Ctrl-C is handled even if a pool thread received it
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for row in filter(None, (fut.result() for fut in finished)):
                done[row.student] = row
                bar.update()
                bar.write(
                    f"[{len(done)}/{len(todo)}] {row.student}: {row.score:g}/"
                    f"{row.max_score:g}  {row.status}  ({row.seconds:.1f} s)",
                    file=sys.stderr,
                )
        return done, True
    except KeyboardInterrupt:
        bar.write(
            "interrupted: stopping the running gradings; rerun the same command to resume",
            file=sys.stderr,
        )
        batch.interrupt()
        return done, False
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()


def main(homework: str, submissions: Path, **options) -> int:
    """`python -m grader batch`: grade_all(homework, submissions, **options), then a summary on
    stderr. Returns 0 when every student was graded, 1 if a grading failed, 130 if interrupted
    (rerun to resume)."""
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:  # `kill` stops the batch as cleanly as Ctrl-C
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        rows, finished = grade_all(homework, submissions, **options)
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    failed = summary(rows, options.get("only"), options.get("shard"))
    return 130 if not finished else 1 if failed else 0


def summary(rows: list[Row], only: list[str] | None, shard: tuple[int, int] | None) -> int:
    """Print how the batch (or shard) went on stderr; returns the number of failed gradings."""
    say = functools.partial(print, file=sys.stderr)
    whose = f"shard {shard[0]}/{shard[1]}: " if shard else ""
    partial = f" on {', '.join(only)} only (a partial run: not grades)" if only else ""
    graded = sum(r.graded for r in rows)
    say(f"{whose}{graded} of {len(rows)} students{' of this shard' * bool(shard)} graded{partial}")
    for r in rows:
        if not r.graded:
            say(f"  {r.student}: {r.status}")
    failed = sum(r.status.startswith(CRASH_PREFIX) for r in rows)
    if failed:
        say(f"{failed} gradings failed (see OUT/STUDENT/batch.log); a rerun retries them")
    if shard:
        say(
            f"{whose}once every shard has finished, the same command without --shard builds "
            "the class's CSV from their results (it regrades nobody who is up to date)"
        )
    return failed
