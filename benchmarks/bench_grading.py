"""Wall time of grading the reference submission: python benchmarks/bench_grading.py [--full]

Runs the grader's command line exactly as an instructor would, in a fresh process each time
(so start-up, worker start and the reference computations are all counted), and prints the
seconds and the score of each tier. The full tier trains four models and needs MNIST
(--data-root or $VAECOURSE_DATA); it takes tens of minutes, so it runs only with --full.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def grade(homework: str, submission: Path, tier: str, data_root: str | None) -> dict:
    """Grade once through `python -m grader`; return seconds and score."""
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.json"
        cmd = [
            sys.executable,
            "-m",
            "grader",
            homework,
            str(submission),
            "--tier",
            tier,
            "--results",
            str(results),
        ]
        cmd += ["--data-root", data_root] if data_root else []
        start = time.perf_counter()
        subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
        seconds = time.perf_counter() - start
        payload = json.loads(results.read_text())
    possible = sum(t["max_score"] for t in payload["tests"])
    return {
        "tier": tier,
        "seconds": round(seconds, 1),
        "score": payload["score"],
        "possible": possible,
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--homework", default="hw_gmvae_iwae_ssvae", help="default: %(default)s")
    p.add_argument(
        "--submission", type=Path, default=None, help="default: solutions/HOMEWORK (the reference)"
    )
    p.add_argument("--full", action="store_true", help="also time the full tier (slow)")
    p.add_argument("--data-root", default=None, help="data folder for the full tier")
    args = p.parse_args()
    submission = args.submission or REPO / "solutions" / args.homework
    rows = [grade(args.homework, submission, "quick", args.data_root)]
    if args.full:
        rows.append(grade(args.homework, submission, "full", args.data_root))
    for r in rows:
        print(
            f"{args.homework} {r['tier']:>5} tier: {r['seconds']:8.1f} s   "
            f"score {r['score']:g}/{r['possible']:g}"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
