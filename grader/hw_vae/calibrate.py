"""Calibrate the full tier of hw_vae (items 1.6 and 1.7): reference runs, then bands.

    python -m grader.hw_vae.calibrate --seeds 0 1 2      # appends to calibration/runs.jsonl
    python -m grader.hw_vae.calibrate --bands            # rewrites calibration/bands.json

A run trains the reference with the handout's schedule (protocol.SCHEDULE) in this process,
exactly as the worker trains a submission for the same seed, and records the validation ELBO
after every epoch, the final one, and the importance-sampled test log-likelihood (K = 200).
The band of a number is mean +- max(4 sd, floor) over the runs; the floor keeps it from being
narrower than what a few runs can estimate. The validation ELBO needs no band: the handout
fixes its criterion, >= -102 (protocol.ELBO_TARGET).
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from grader.hw_vae import protocol

HERE = Path(__file__).resolve().parent / "calibration"
RUNS, BANDS = HERE / "runs.jsonl", HERE / "bands.json"
KIND = "vae_notebook"  # the runs of items 1.6 and 1.7
FLOORS = {"log_likelihood": 1.5}  # nats


def run_one(seed: int, data) -> dict:
    """Train one reference VAE on the handout's schedule and measure it."""
    start = time.time()
    state, history = protocol.train_reference(data, seed)
    train_seconds = time.time() - start
    start = time.time()
    log_px = protocol.log_likelihood(state, data.test_x, seed)
    return {
        "kind": KIND,
        "seed": seed,
        **protocol.SCHEDULE,
        "threads": torch.get_num_threads(),
        "train_seconds": round(train_seconds, 1),
        "is_seconds": round(time.time() - start, 1),
        "valid_elbo_per_epoch": [round(r["valid_elbo"], 3) for r in history],
        "valid_elbo": round(protocol.average_elbo(state, data.valid_x, seed), 4),
        "test_elbo": round(protocol.average_elbo(state, data.test_x, seed), 4),
        "log_likelihood": round(log_px, 4),
    }


def band(values: list[float], floor: float) -> dict:
    """mean +- max(4 sd, floor) of `values`, with the mean, sd and number of runs."""
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    half = max(4 * sd, floor)
    return {
        "mean": round(mean, 4),
        "sd": round(sd, 4),
        "low": round(mean - half, 4),
        "high": round(mean + half, 4),
        "runs": len(values),
    }


def derive(runs: list[dict]) -> dict:
    """{kind: {number: band}} over the runs of the handout's full schedule."""
    mine = [r for r in runs if r["kind"] == KIND and r["epochs"] == protocol.SCHEDULE["epochs"]]
    return {KIND: {key: band([r[key] for r in mine], floor) for key, floor in FLOORS.items()}}


def write_bands() -> dict:
    """Derive bands.json from runs.jsonl, write it and return it."""
    runs = [json.loads(line) for line in RUNS.read_text().splitlines() if line.strip()]
    bands = derive(runs)
    BANDS.write_text(json.dumps(bands, indent=2) + "\n")
    for kind, numbers in bands.items():
        for key, b in numbers.items():
            print(
                f"{kind} {key}: {b['mean']:.4f} +- {b['sd']:.4f} over {b['runs']} run(s), "
                f"band [{b['low']:.4f}, {b['high']:.4f}]"
            )
    return bands


def main(argv: list[str] | None = None) -> None:
    """`python -m grader.hw_vae.calibrate`: record reference runs, or rewrite the bands."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seeds", nargs="+", type=int, default=[], help="reference runs to make")
    p.add_argument("--bands", action="store_true", help="derive bands.json from runs.jsonl")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    p.add_argument("--out", type=Path, default=RUNS, help="JSON-lines file to append to")
    p.add_argument("--data-root", default=None, help="data folder (default: $VAECOURSE_DATA)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.seeds:
        data = protocol.splits(args.data_root)
        args.out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        record = run_one(seed, data)
        print(json.dumps(record), flush=True)
        with args.out.open("a") as f:
            f.write(json.dumps(record) + "\n")
    if args.bands:
        write_bands()


if __name__ == "__main__":
    main()
