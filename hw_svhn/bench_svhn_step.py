"""Seconds per training step of the SVHN VAE (Part 2), with the flow prior and the Gaussian one.

One step is what run_svhn_vae.py does per batch: the negative ELBO in bits/dim of a batch of
uint8 images (dequantized inside the model), backward, and one Adam step (lr 2e-4). The
pixels are uniform random bytes: the time of a step does not depend on their values, and no
data set is needed. After --warmup untimed steps of each model, the models take turns, one
timed step each, --steps times, so that both see the same load on a shared machine; the table
gives the median, minimum and maximum seconds per step, and the last line printed is one JSON
object with every timed step. It writes no file. Multiply by run_svhn_vae.py's --steps for the
time of a training run. The flow prior needs your masks and flow (2.1, 2.2); until then, time
the Gaussian one alone with --priors gaussian.

    python bench_svhn_step.py                      # batch 32, 1 thread, both priors, ~1 min
    python bench_svhn_step.py --threads 2 --steps 20
    python bench_svhn_step.py --priors gaussian    # before the flow is written
    python bench_svhn_step.py --dry-run            # seconds: checks that it runs
"""

import argparse
import json
import os
import statistics
import sys
import time

# Threads that wait for work sleep instead of spinning: with spin-waiting (libgomp's default),
# two threads on two cores shared with other jobs ran many times slower and far noisier.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from svhn_vae.model import SVHNVAE  # noqa: E402

PRIORS = ("flow", "gaussian")
LR = 2e-4  # run_svhn_vae.py's learning rate


def build(prior: str) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    """The SVHNVAE with this prior (Gaussian decoder), and its Adam."""
    try:
        model = SVHNVAE(prior=prior)
        model.loss(torch.zeros(2, 3, 32, 32, dtype=torch.uint8))  # the flow's code runs here
    except NotImplementedError:
        sys.exit(
            f"bench_svhn_step.py: the {prior} prior calls code of yours that is not written "
            "yet (svhn_vae/flow.py, items 2.1 and 2.2); write it, or time the Gaussian prior "
            "alone: python bench_svhn_step.py --priors gaussian"
        )
    return model, torch.optim.Adam(model.parameters(), lr=LR)


def step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor) -> float:
    """One training step on the batch x (batch, 3, 32, 32) uint8; returns its wall seconds."""
    start = time.perf_counter()
    loss = model.loss(x)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return time.perf_counter() - start


def bench(
    batch_size: int, warmup: int, steps: int, priors: tuple[str, ...] = PRIORS
) -> dict[str, list[float]]:
    """Warm each model up, then alternate timed steps; seconds of every timed step, per prior."""
    torch.manual_seed(0)
    x = torch.randint(0, 256, (batch_size, 3, 32, 32), dtype=torch.uint8)
    models = {prior: build(prior) for prior in priors}
    for model, optimizer in models.values():
        for _ in range(warmup):
            step(model, optimizer, x)
    times: dict[str, list[float]] = {prior: [] for prior in priors}
    for _ in range(steps):
        for prior, (model, optimizer) in models.items():
            times[prior].append(step(model, optimizer, x))
    return times


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=32, help="images per step (default: 32)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per model (default: 3)")
    p.add_argument("--steps", type=int, default=10, help="timed steps per model (default: 10)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default: 1)")
    p.add_argument(
        "--priors",
        nargs="+",
        choices=PRIORS,
        default=list(PRIORS),
        help="the priors to time (default: both)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="batch 2, 1 warm-up step and 1 timed step: checks that it runs (writes no file)",
    )
    return p.parse_args()


def main() -> None:
    args = parse_args()
    if args.dry_run:
        args.batch_size, args.warmup, args.steps = 2, 1, 1
    torch.set_num_threads(args.threads)
    times = bench(args.batch_size, args.warmup, args.steps, tuple(args.priors))
    print(
        f"SVHN VAE training step (forward, backward, Adam): batch {args.batch_size}, "
        f"{args.threads} thread(s), {args.steps} timed steps per prior after {args.warmup}"
    )
    print(f"{'prior':<10}{'median s/step':>15}{'min':>8}{'max':>8}")
    for prior, t in times.items():
        print(f"{prior:<10}{statistics.median(t):>15.3f}{min(t):>8.3f}{max(t):>8.3f}")
    summary = {prior: statistics.median(t) for prior, t in times.items()}
    print(
        json.dumps(
            {
                "benchmark": "svhn_step",
                "batch_size": args.batch_size,
                "threads": args.threads,
                "dry_run": args.dry_run,
                "median_s_per_step": summary,
                "steps_s": times,
            }
        )
    )


if __name__ == "__main__":
    main()
