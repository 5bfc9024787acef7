"""Wall time and peak memory of grading the reference: python benchmarks/bench_grading.py

Runs the grader's command line exactly as an instructor would, in a fresh process each time
(start-up, worker start and the trusted side's computations are all counted), and prints, per
homework and tier, the seconds, the score and the peak memory of the whole process tree (the
grader and every worker it started), sampled every 0.2 s: the sum of each process's
proportional set size (Pss, shared pages counted once) and, for comparison, of its resident
set size (RSS, shared pages counted in every process).

    python benchmarks/bench_grading.py                          # quick tier, every homework
    python benchmarks/bench_grading.py --compare-cache          # quick tier with and without
                                                                # the stored reference values
    python benchmarks/bench_grading.py --full --homework hw_vae # also the full tier (minutes)
    python benchmarks/bench_grading.py --concurrent 4           # 4 gradings one after another,
                                                                # then 4 at once: the ratio

The full tier needs the data sets (--data-root or $VAECOURSE_DATA).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOMEWORKS = ("hw_gmvae_iwae_ssvae", "hw_vae", "hw_svhn")


def tree_memory_mb(root: int) -> tuple[float, float]:
    """(Pss, RSS) in MB summed over process `root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    pss = rss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return pss / 1024, rss / 1024


def grade(homework: str, tier: str, data_root: str | None, env: dict | None = None) -> dict:
    """Grade the reference of `homework` once through `python -m grader`; seconds, score and
    peak memory of the process tree."""
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.json"
        cmd = [sys.executable, "-m", "grader", homework, str(REPO / "solutions" / homework)]
        cmd += ["--tier", tier, "--results", str(results)]
        cmd += ["--data-root", data_root] if data_root else []
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=REPO, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL
        )
        peak = [0.0, 0.0]
        while proc.poll() is None:
            pss, rss = tree_memory_mb(proc.pid)
            peak = [max(peak[0], pss), max(peak[1], rss)]
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        payload = json.loads(results.read_text())
    possible = sum(t["max_score"] for t in payload["tests"])
    return {
        "homework": homework,
        "tier": tier,
        "seconds": round(seconds, 1),
        "score": payload["score"],
        "possible": possible,
        "peak_pss_mb": round(peak[0]),
        "peak_rss_mb": round(peak[1]),
    }


def concurrent(homework: str, copies: int) -> dict:
    """`copies` quick-tier gradings one after another, then all at once: seconds of each."""
    start = time.perf_counter()
    for _ in range(copies):
        grade(homework, "quick", None)
    serial = time.perf_counter() - start
    threads = [
        threading.Thread(target=grade, args=(homework, "quick", None)) for _ in range(copies)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    parallel = time.perf_counter() - start
    return {
        "homework": homework,
        "copies": copies,
        "one_after_another_s": round(serial, 1),
        "all_at_once_s": round(parallel, 1),
        "ratio": round(parallel / serial, 2),
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--homework", nargs="+", default=list(HOMEWORKS), help="default: all three")
    p.add_argument("--full", action="store_true", help="also time the full tier (slow)")
    p.add_argument("--full-only", action="store_true", help="time the full tier only")
    p.add_argument(
        "--compare-cache",
        action="store_true",
        help="time the quick tier also with VAECOURSE_REFCACHE=off (every reference value "
        "computed during the grading, as before the cache), in the same run",
    )
    p.add_argument(
        "--concurrent", type=int, default=0, metavar="N", help="N gradings in a row, then at once"
    )
    p.add_argument("--data-root", default=None, help="data folder for the full tier")
    args = p.parse_args()
    rows = []
    for hw in args.homework:
        if args.concurrent:
            rows.append(concurrent(hw, args.concurrent))
            print(json.dumps(rows[-1]), flush=True)
            continue
        runs = [] if args.full_only else [("quick", "on")]
        runs += [("quick", "off")] if args.compare_cache else []
        runs += [("full", "on")] if args.full or args.full_only else []
        for tier, cache in runs:
            row = grade(hw, tier, args.data_root, {"VAECOURSE_REFCACHE": cache})
            row["refcache"] = cache
            rows.append(row)
            print(
                f"{hw:<20} {tier:>5} tier, refcache {cache:>3}: {row['seconds']:7.1f} s  "
                f"score {row['score']:g}/{row['possible']:g}  peak memory of the process tree "
                f"{row['peak_pss_mb']} MB (Pss; RSS {row['peak_rss_mb']} MB)",
                flush=True,
            )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
