"""Train the FSVAE on SVHN and draw its class-by-style grid: python run_fsvae.py

Every --iter_save steps it saves a checkpoint (checkpoints/<name>/model-<step>.pt) and the grid
(samples/<name>-<step>.png): stop once the rows show recognisable digits. `--grid CHECKPOINT`
only draws the grid of a saved model. A dry run names its checkpoints and grids <name>_dryrun,
so that it never overwrites, nor deletes, those of a real run.
"""

import argparse
from pathlib import Path

import torch
from codebase import utils as ut
from codebase.models.fsvae import FSVAE
from codebase.svhn import get_svhn_data, subset_with_fake_labels
from codebase.train import train

from coursekit.dry_run import dry_run_name, flag_help
from coursekit.images import save_grid
from coursekit.seeding import seed_everything

ROWS, COLUMNS = 10, 20  # the 10 classes, and 20 styles z_0 .. z_19 shared by every row


@torch.no_grad()
def class_by_style_grid(model: FSVAE, columns: int = COLUMNS, seed: int = 0) -> torch.Tensor:
    """(10 * columns, 3, 32, 32) images clip(mu(y = i, z_j), 0, 1), row i = class i, row-major.

    The z_j ~ p(z) are drawn once from `seed`, so that every column keeps one style.
    """
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(columns, model.z_dim, generator=gen)  # (columns, z_dim)
    z = z.repeat(ROWS, 1)  # (10 * columns, z_dim): row i holds z_0 .. z_{columns-1}
    y = torch.eye(ROWS).repeat_interleave(columns, dim=0)  # (10 * columns, 10): class i in row i
    mu = model.compute_mean_given(z, y)  # (10 * columns, 3072)
    return mu.clamp(0, 1).reshape(-1, 3, 32, 32)


def save_class_grid(model: FSVAE, path: str | Path) -> Path:
    path = save_grid(class_by_style_grid(model), path, ROWS, COLUMNS)
    print(f"Saved the {ROWS} x {COLUMNS} class-by-style grid to {path}")
    return path


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--iter_max", type=int, default=1_000_000, help="number of training steps")
    p.add_argument(
        "--iter_save", type=int, default=10_000, help="save a checkpoint and the grid every N steps"
    )
    p.add_argument("--run", type=int, default=0, help="run id, also the random seed")
    p.add_argument("--overwrite", type=int, default=0, help="1 replaces earlier checkpoints")
    p.add_argument(
        "--split", default="extra", choices=("train", "extra"), help="SVHN split to train on"
    )
    p.add_argument("--data-root", default=None, help="data folder (default: $VAECOURSE_DATA)")
    p.add_argument(
        "--grid",
        type=Path,
        default=None,
        metavar="CHECKPOINT",
        help="only draw the grid of this checkpoint, no training",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help=flag_help(
            "5 steps on the bundled 1083-image subset, with made-up labels",
            "checkpoints/ and samples/ under the run name + '_dryrun'",
        ),
    )
    return p.parse_args()


def main() -> None:
    args = parse_args()
    seed_everything(args.run)
    name = f"model=fsvae_run={args.run:04d}"
    name = dry_run_name(name) if args.dry_run else name
    model = FSVAE(name=name)
    if args.grid is not None:
        model.load_state_dict(torch.load(args.grid, map_location="cpu", weights_only=True))
        save_class_grid(model, Path("samples") / f"{args.grid.parent.name}-grid.png")
        return
    if args.dry_run:  # a few steps under their own name, so that they never touch a real run's
        args.iter_max, args.iter_save, args.overwrite = 5, 5, 1
        data = subset_with_fake_labels(args.data_root)
        print(f"dry run: saving as {name}, apart from the checkpoints and grids of real runs")
        print("dry run: the SVHN subset has no labels, so these labels are random")
    else:
        data = get_svhn_data(args.split, args.data_root)
    ut.delete_existing(model, args.overwrite)

    def on_save(step: int) -> None:
        ut.save_model_by_name(model, step)
        save_class_grid(model, Path("samples") / f"{name}-{step:07d}.png")

    losses = train(model, data.x, data.y, args.iter_max, args.iter_save, on_save=on_save)
    print(f"Final training NELBO: {losses[-min(100, len(losses)) :].mean():.2f}")


if __name__ == "__main__":
    main()
