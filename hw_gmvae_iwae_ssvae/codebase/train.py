"""The training loop shared by run_vae.py, run_gmvae.py and run_ssvae.py (provided)."""

import argparse
import math

import torch
import torch.nn.functional as F
from tqdm import tqdm

from codebase import utils as ut
from coursekit.dry_run import dry_run_name, flag_help
from coursekit.seeding import seed_everything

BATCH_SIZE = 97  # odd on purpose, so that nobody hard-codes 100


def batches(n: int, batch_size: int):
    """Endless shuffled mini-batches of indices into range(n), one epoch after another."""
    while True:
        yield from torch.randperm(n).split(batch_size)


def train(
    model,
    data,
    iter_max: int,
    iter_save: float = math.inf,
    y_status: str = "none",
    lr: float = 1e-3,
    batch_size: int = BATCH_SIZE,
    progress: bool = True,
) -> None:
    """Train `model` with Adam for `iter_max` steps on MNIST, re-binarizing every batch.

    `data` needs train_x (N, 784) gray levels in [0, 1], and for 'semisup' labelled_x (100, 784)
    and labelled_y (100,); the loop calls nothing else of the student's but model.loss.

    y_status 'none' calls model.loss(x); 'semisup' calls model.loss(x, xl, yl) with the 100
    labelled images (re-binarized every step) and their one-hot labels.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    stream = batches(len(data.train_x), batch_size)
    yl = F.one_hot(data.labelled_y, 10).float()
    with tqdm(range(1, iter_max + 1), disable=not progress, mininterval=1.0) as bar:
        for i in bar:
            x = torch.bernoulli(data.train_x[next(stream)])  # (batch, 784), dynamic binarization
            if y_status == "semisup":
                loss, summaries = model.loss(x, torch.bernoulli(data.labelled_x), yl)
            else:
                loss, summaries = model.loss(x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if i % 50 == 0:
                bar.set_postfix(loss=f"{loss.item():.2f}")
            if i % iter_save == 0:
                ut.save_model_by_name(model, i)


def base_parser(description: str, iter_max: int) -> argparse.ArgumentParser:
    """The flags every run script shares (the original course's names)."""
    p = argparse.ArgumentParser(
        description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--iter_max", type=int, default=iter_max, help="number of training steps")
    p.add_argument("--iter_save", type=int, default=10000, help="save a checkpoint every N steps")
    p.add_argument("--run", type=int, default=0, help="run id, also the random seed")
    p.add_argument("--overwrite", type=int, default=0, help="1 replaces earlier checkpoints")
    p.add_argument("--data-root", default=None, help="data folder (default: $VAECOURSE_DATA)")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help=flag_help(
            "one step and a short evaluation",
            "checkpoints/ and samples/ under the run name + '_dryrun'",
        ),
    )
    return p


def start(args, name_fields: dict) -> tuple[str, object]:
    """Seed, load the data and return the run's model name and MNIST."""
    seed_everything(args.run)
    name = "_".join(f"{k}={v}" for k, v in name_fields.items()) + f"_run={args.run:04d}"
    if args.dry_run:  # one step, under its own name so that it never touches a real run's files
        args.iter_max, args.iter_save, args.overwrite = 1, 1, 1
        name = dry_run_name(name)
        print(f"dry run: saving as {name}, apart from the checkpoints and samples of real runs")
    return name, ut.get_mnist_data(root=args.data_root)
