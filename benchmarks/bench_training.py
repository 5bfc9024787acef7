"""How much does the provided training loop cost on top of a bare PyTorch loop?

For VAE (z_dim 10), GMVAE (z_dim 10, k 500) and SSVAE (gen_weight 1, class_weight 100,
y_status 'semisup') of solutions/hw_gmvae_iwae_ssvae, this script times seconds per training
step of two loops over the same model class:

* provided: codebase.train.train(...) exactly as the run scripts call it (tqdm on, its output
  swallowed; no checkpoints, since iter_save stays at infinity);
* bare: Adam (lr 1e-3), random batches of 97 images, dynamic binarization with torch.bernoulli,
  model.loss, backward, step, and nothing else.

Each loop trains its own copy of one freshly built model. After a warm-up the two loops run
in alternating blocks of --iters steps (the order flips every round), so both see the same
load on a shared machine; the table gives the median block time per step of each loop, the
ratio of the medians, and the median and range of the ratios of neighbouring block pairs
(each pair ran back to back, so these are the least disturbed by load that comes and goes).
The project's target is provided <= 1.15 x bare. The last line printed is one JSON object.

OMP_WAIT_POLICY defaults to PASSIVE here (set it yourself to override): with libgomp's
default spin-waiting, two torch threads on two cores that other jobs also use make steps
up to 30x slower and block times swing 20x, which drowns the ratio in noise.

    python benchmarks/bench_training.py                  # about 3 minutes on 2 busy cores
    python benchmarks/bench_training.py --models vae --iters 100 --blocks 7
    python benchmarks/bench_training.py --dry-run        # seconds; a smoke test
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib
import io
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when torch loads libgomp

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
HW_DIR = REPO / "solutions" / "hw_gmvae_iwae_ssvae"
TARGET_RATIO = 1.15
BATCH_SIZE = 97
LR = 1e-3

# name -> module, class, constructor arguments, y_status of the provided loop
MODELS: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "vae": ("codebase.models.vae", "VAE", {"z_dim": 10}, "none"),
    "gmvae": ("codebase.models.gmvae", "GMVAE", {"z_dim": 10, "k": 500}, "none"),
    "ssvae": ("codebase.models.ssvae", "SSVAE", {"gen_weight": 1, "class_weight": 100}, "semisup"),
}


@dataclass
class Result:
    """Seconds per step of every block of both loops, for one model."""

    provided: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        p, b = statistics.median(self.provided), statistics.median(self.bare)
        pairs = [pi / bi for pi, bi in zip(self.provided, self.bare)]
        return {
            "provided_s_per_iter": p,
            "bare_s_per_iter": b,
            "ratio": p / b,
            "pair_ratio_median": statistics.median(pairs),
            "pair_ratio_min": min(pairs),
            "pair_ratio_max": max(pairs),
            "within_target": p / b <= TARGET_RATIO,
            "provided_blocks": self.provided,
            "bare_blocks": self.bare,
        }


def homework(module: str) -> ModuleType:
    """Import a module of the homework (its `codebase` package) and of the repo (`coursekit`)."""
    for path in (str(REPO), str(HW_DIR)):
        if path not in sys.path:
            sys.path.insert(0, path)
    return importlib.import_module(module)


def build(name: str) -> torch.nn.Module:
    module, cls, kwargs, _ = MODELS[name]
    return getattr(homework(module), cls)(name=name, **kwargs)


def provided_block(model: torch.nn.Module, data: Any, iters: int, y_status: str) -> None:
    """`iters` steps of the provided loop, as run_*.py call it (progress bar on, not shown)."""
    train = homework("codebase.train").train
    with contextlib.redirect_stderr(io.StringIO()):
        train(model, data, iter_max=iters, y_status=y_status)


def bare_block(model: torch.nn.Module, data: Any, iters: int, y_status: str) -> None:
    """`iters` steps of a plain PyTorch loop doing the same work as the provided one."""
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    n = len(data.train_x)
    yl = F.one_hot(data.labelled_y, 10).float()
    for _ in range(iters):
        x = torch.bernoulli(data.train_x[torch.randint(n, (BATCH_SIZE,))])
        if y_status == "semisup":
            loss, _ = model.loss(x, torch.bernoulli(data.labelled_x), yl)
        else:
            loss, _ = model.loss(x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


Block = Callable[[torch.nn.Module, Any, int, str], None]


def timed(block: Block, model: torch.nn.Module, data: Any, iters: int, y_status: str) -> float:
    """Wall seconds per step of one block."""
    start = time.perf_counter()
    block(model, data, iters, y_status)
    return (time.perf_counter() - start) / iters


def bench_model(name: str, data: Any, iters: int, blocks: int, warmup: int) -> Result:
    """Warm both loops up, then alternate `blocks` timed blocks of each, flipping the order."""
    y_status = MODELS[name][3]
    model = build(name)
    loops = {"provided": (provided_block, model), "bare": (bare_block, copy.deepcopy(model))}
    for block, model in loops.values():
        block(model, data, warmup, y_status)
    result = Result()
    for round_ in range(blocks):
        order = ["provided", "bare"] if round_ % 2 == 0 else ["bare", "provided"]
        for key in order:
            block, model = loops[key]
            getattr(result, key).append(timed(block, model, data, iters, y_status))
    return result


def table(summaries: dict[str, dict[str, Any]]) -> str:
    """An aligned plain-text table of the medians and ratios."""
    head = (
        f"{'model':<7}{'provided ms/it':>16}{'bare ms/it':>12}{'ratio':>8}"
        f"{'pair ratios: median (range)':>30}"
    )
    rows = [head, "-" * len(head)]
    for name, s in summaries.items():
        pairs = (
            f"{s['pair_ratio_median']:.3f} ({s['pair_ratio_min']:.2f}-{s['pair_ratio_max']:.2f})"
        )
        rows.append(
            f"{name:<7}{1e3 * s['provided_s_per_iter']:>16.2f}"
            f"{1e3 * s['bare_s_per_iter']:>12.2f}{s['ratio']:>8.3f}{pairs:>30}"
        )
    return "\n".join(rows)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--models",
        nargs="+",
        choices=list(MODELS),
        default=list(MODELS),
        help="models to time (default: all three)",
    )
    p.add_argument(
        "--iters",
        type=int,
        default=100,
        help="training steps per timed block (default: %(default)s)",
    )
    p.add_argument(
        "--blocks",
        type=int,
        default=5,
        help="timed blocks of each loop, alternated (default: %(default)s)",
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=10,
        help="untimed steps of each loop before timing (default: %(default)s)",
    )
    p.add_argument(
        "--threads", type=int, default=2, help="torch.set_num_threads (default: %(default)s)"
    )
    p.add_argument(
        "--data-root",
        default=None,
        help="folder holding MNIST/ (default: $VAECOURSE_DATA, else ~/.cache/vaecourse/data)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="one block of 2 steps per loop after 1 warm-up step; finishes in "
        "seconds (default: off)",
    )
    args = p.parse_args(argv)
    if args.dry_run:
        args.iters, args.blocks, args.warmup = 2, 1, 1
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    homework("coursekit.seeding").seed_everything(0)
    start = time.perf_counter()
    data = homework("codebase.utils").get_mnist_data(root=args.data_root)
    summaries = {}
    for name in args.models:
        result = bench_model(name, data, args.iters, args.blocks, args.warmup)
        summaries[name] = result.summary()
        if args.dry_run:  # two steps measure nothing: do not judge them against the target
            summaries[name]["within_target"] = None
    print(
        f"threads {args.threads} (OMP_WAIT_POLICY {os.environ['OMP_WAIT_POLICY']}), "
        f"{args.blocks} blocks x {args.iters} steps per loop, batch {BATCH_SIZE}; "
        f"target: provided <= {TARGET_RATIO}x bare"
    )
    print(table(summaries))
    report = {
        "benchmark": "training",
        "threads": args.threads,
        "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
        "iters": args.iters,
        "blocks": args.blocks,
        "warmup": args.warmup,
        "dry_run": args.dry_run,
        "target_ratio": TARGET_RATIO,
        "wall_s": round(time.perf_counter() - start, 1),
        "models": summaries,
    }
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
