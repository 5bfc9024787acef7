"""Wall time of `python -m grader batch` on K copies of the reference, for several --jobs.

    python benchmarks/bench_batch.py                       # 20 copies, --jobs 1 then 2, quick tier
    python benchmarks/bench_batch.py --copies 4 --jobs 1 2 4 --only test_utils.py

Each --jobs value grades the same K copies from scratch (a fresh output folder) in a fresh
process, exactly as an instructor would run it, so start-up and every grading's own worker are
counted. Prints one row per --jobs value (wall seconds, seconds per student, speed-up over the
first value), checks that every copy got the same score, and ends with one JSON line.
"""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader import homeworks  # noqa: E402 - needs the repository on sys.path


def make_copies(homework: str, folder: Path, copies: int) -> Path:
    """`copies` folders student000, student001, ... each holding the reference's student files."""
    hw = homeworks.get(homework)
    for i in range(copies):
        for f in hw.student_files:
            dest = folder / f"student{i:03d}" / f
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(hw.solution / f, dest)
    return folder


def time_batch(homework: str, subs: Path, out: Path, jobs: int, args) -> tuple[float, list]:
    """Seconds of one `python -m grader batch` run, and the (score, max_score) of every row."""
    cmd = [
        sys.executable,
        "-m",
        "grader",
        "batch",
        homework,
        str(subs),
        "--out",
        str(out),
        "--jobs",
        str(jobs),
        "--tier",
        args.tier,
        "--threads",
        str(args.threads),
    ]
    cmd += ["--only", *args.only] if args.only else []
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"batch --jobs {jobs} failed:\n{proc.stderr[-3000:]}")
    with open(out / "grades.csv", newline="") as f:
        scores = [(r["score"], r["max_score"]) for r in csv.DictReader(f)]
    return seconds, scores


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--homework", default="hw_gmvae_iwae_ssvae", help="default: %(default)s")
    p.add_argument("--copies", type=int, default=20, help="submissions to grade (default: 20)")
    p.add_argument(
        "--jobs",
        type=int,
        nargs="+",
        default=[1, 2],
        help="--jobs values to time, in this order (default: 1 2)",
    )
    p.add_argument("--tier", choices=("quick", "full"), default="quick", help="default: quick")
    p.add_argument("--threads", type=int, default=1, help="torch threads per grading (default: 1)")
    p.add_argument(
        "--only",
        nargs="+",
        metavar="FILE",
        help="grade only these hidden test files (default: all of the tier)",
    )
    args = p.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spin-waiting threads skew the timings
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        subs = make_copies(args.homework, Path(tmp) / "submissions", args.copies)
        for jobs in args.jobs:
            seconds, scores = time_batch(args.homework, subs, Path(tmp) / f"out-{jobs}", jobs, args)
            rows.append({"jobs": jobs, "seconds": round(seconds, 2), "scores": sorted(set(scores))})
    base = rows[0]["seconds"]
    print(
        f"{args.homework}, {args.tier} tier, {args.copies} copies of the reference, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'jobs':>4} {'wall s':>9} {'s/student':>10} {'speed-up':>9}  scores")
    for r in rows:
        r["speedup"] = round(base / r["seconds"], 2)
        scores = ", ".join(f"{s}/{m}" for s, m in r["scores"])
        print(
            f"{r['jobs']:>4} {r['seconds']:>9.1f} {r['seconds'] / args.copies:>10.2f} "
            f"{r['speedup']:>8.2f}x  {scores}"
        )
    same = len({s for r in rows for s in r["scores"]}) == 1
    print("every copy got the same score" if same else "SCORES DIFFER between copies or runs")
    print(
        json.dumps(
            {
                "benchmark": "batch",
                "homework": args.homework,
                "tier": args.tier,
                "copies": args.copies,
                "cpus": os.cpu_count(),
                "same_scores": same,
                "runs": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
