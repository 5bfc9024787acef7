"""Calibrate the full tier: run the handout's protocol on the reference solution, N seeds.

    python -m grader.hw_gmvae_iwae_ssvae.calibrate --kinds vae gmvae --seeds 0 1 2 3 4

Each run appends one JSON line to calibration/runs.jsonl (kind, seed, seconds, numbers); the
bands that the full tier checks are derived from that file by grader/hw_gmvae_iwae_ssvae/bands.py.
Seed 0's weights also become the quick tier's reference weights (--save-weights).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from grader import reference
from grader.hw_gmvae_iwae_ssvae import protocol

HERE = Path(__file__).resolve().parent
RUNS = HERE / "calibration" / "runs.jsonl"
WEIGHTS = HERE / "weights"
LABELLED = "seeded-10-per-digit"  # which 100 labelled images the SSVAE runs used


def run_one(kind: str, seed: int, data, save_weights: bool, iters: int | None) -> dict:
    """Train `kind` with the reference on the handout's schedule (or `iters`), evaluate it."""
    sys.path.insert(0, str(reference.SOLUTIONS / protocol.HW))
    try:
        start = time.time()
        state = protocol.train(kind, data, seed, iters=iters, progress=True)
        seconds = time.time() - start
    finally:
        sys.path.remove(str(reference.SOLUTIONS / protocol.HW))
    numbers = protocol.evaluate(kind, state, data)
    record = {
        "kind": kind,
        "seed": seed,
        "labelled": LABELLED,
        "iters": iters or protocol.MODELS[kind][3],
        "threads": torch.get_num_threads(),
        "train_seconds": round(seconds, 1),
        **numbers,
    }
    if save_weights:
        WEIGHTS.mkdir(exist_ok=True)
        torch.save(
            {k: v.half() if v.is_floating_point() else v for k, v in state.items()},
            WEIGHTS / f"{kind}.pt",
        )
    return record


def main() -> None:
    """`python -m grader.hw_gmvae_iwae_ssvae.calibrate`: run and record the calibration."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--kinds", nargs="+", default=list(protocol.MODELS), help="models to train")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4], help="seeds")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    p.add_argument("--iters", type=int, default=None, help="override the handout's steps")
    p.add_argument("--save-weights", action="store_true", help="ship seed 0 as quick-tier weights")
    p.add_argument("--out", type=Path, default=RUNS, help="JSON-lines file to append to")
    p.add_argument("--data-root", default=None, help="data folder (default: $VAECOURSE_DATA)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = protocol.mnist(args.data_root)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for kind in args.kinds:
            record = run_one(kind, seed, data, args.save_weights and seed == 0, args.iters)
            print(json.dumps(record), flush=True)
            with args.out.open("a") as f:
                f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
