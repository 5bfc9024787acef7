"""Train the SVHN VAE of Problem 2 and draw its pictures: python run_svhn_vae.py --prior flow

Adam (learning rate 2e-4) on the negative ELBO in bits per dimension (svhn_vae/model.py).
Every --eval-every steps it records the mean training bits/dim since the last record and the
bound on the first --eval-images validation and test images, and saves a checkpoint; at the
end it evaluates the whole validation and test sets. Everything goes to --out (default
svhn_vae_results/<prior>-<decoder>/): model.pt, history.json, curves.png (bits/dim of the
three splits over training), samples.png (100 samples, 10 x 10) and interpolations.png (one
row per test pair: the first image, 10 decoded points between the posterior means, the
second image). `--draw CHECKPOINT` only redraws the two pictures of a saved model.pt. A dry
run writes to that folder + _dryrun (svhn_vae_results/gaussian-gaussian_dryrun/), so that it
never overwrites the model.pt of a real run.
"""

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from svhn_vae.data import Splits, svhn_splits  # noqa: E402
from svhn_vae.model import SVHNVAE  # noqa: E402
from tqdm import tqdm  # noqa: E402

from coursekit.dry_run import flag_help, output_path  # noqa: E402
from coursekit.images import save_grid  # noqa: E402
from coursekit.seeding import seed_everything  # noqa: E402

PAIRS, STEPS = 5, 10  # interpolations: 5 test pairs, 10 points from one end to the other
EVAL_SEED = 1234  # noise of the evaluations, the same at every record


def image_batches(
    images: torch.Tensor, batch_size: int, device: str, generator: torch.Generator | None = None
) -> Iterator[torch.Tensor]:
    """Batches (batch, 3, 32, 32) uint8 of `images`, reshuffled every epoch, forever."""
    while True:
        for idx in torch.randperm(len(images), generator=generator).split(batch_size):
            if len(idx) == batch_size:  # drop the last, smaller batch of an epoch
                yield images[idx].to(device)


def train_steps(
    model: SVHNVAE,
    optimizer: torch.optim.Optimizer,
    batches: Iterator[torch.Tensor],
    steps: int,
    progress: bool = True,
) -> torch.Tensor:
    """`steps` Adam steps on model.loss; returns the training bits/dim of each step, (steps,)."""
    model.train()
    losses = torch.zeros(steps)
    with torch.enable_grad(), tqdm(range(steps), disable=not progress, leave=False) as bar:
        for step in bar:
            loss = model.loss(next(batches))  # batch mean of the negative ELBO, bits/dim
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses[step] = loss.detach()
            bar.set_postfix(bpd=f"{loss.item():.3f}")
    return losses


@torch.no_grad()
def evaluate(model: SVHNVAE, images: torch.Tensor, device: str, batch_size: int = 250) -> float:
    """Mean negative ELBO in bits/dim over `images` (N, 3, 32, 32) uint8, one z per image."""
    model.eval()
    total = 0.0
    with torch.random.fork_rng(devices=[]):  # the same noise at every record; training's
        torch.manual_seed(EVAL_SEED)  # random stream is left as it was
        for batch in images.split(batch_size):
            total += model.nelbo_bits_per_dim(batch.to(device)).sum().item()
    return total / len(images)


def fit(model: SVHNVAE, splits: Splits, args: argparse.Namespace, out: Path) -> dict:
    """Train for args.steps steps, recording bits/dim and saving a checkpoint every
    args.eval_every steps; returns the history (also saved as history.json)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    batches = image_batches(splits.train, args.batch_size, args.device)
    name = f"SVHN VAE, {model.prior_kind} prior, {model.decoder_kind} decoder"
    history = {"name": name, "step": [], "train": [], "valid": [], "test": []}
    step = 0
    while step < args.steps:
        chunk = min(args.eval_every, args.steps - step)
        losses = train_steps(model, optimizer, batches, chunk)  # (chunk,)
        step += chunk
        record = {
            "step": step,
            "train": losses.mean().item(),
            "valid": evaluate(model, splits.valid[: args.eval_images], args.device),
            "test": evaluate(model, splits.test[: args.eval_images], args.device),
        }
        for key, value in record.items():
            history[key].append(value)
        print(
            f"step {step}: bits/dim train {record['train']:.4f} (mean of the last {chunk} "
            f"steps), validation {record['valid']:.4f}, test {record['test']:.4f}"
        )
        kinds = {"prior": model.prior_kind, "decoder": model.decoder_kind}
        torch.save({"model": model.state_dict(), "step": step, **kinds}, out / "model.pt")
        plot_curves(history, out / "curves.png")
    history["final"] = {
        split: evaluate(model, getattr(splits, split), args.device) for split in ("valid", "test")
    }
    (out / "history.json").write_text(json.dumps(history, indent=1))
    return history


def plot_curves(history: dict, path: Path) -> None:
    """Bits/dim of train (running mean), validation and test against the training step."""
    fig, ax = plt.subplots(figsize=(6, 4))
    labels = {"train": "train (mean since the last record)", "valid": "validation", "test": "test"}
    for split, label in labels.items():
        ax.plot(history["step"], history[split], marker=".", label=label)
    ax.set(xlabel="training step", ylabel="negative ELBO (bits/dim)", title=history["name"])
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


@torch.no_grad()
def draw(model: SVHNVAE, test: torch.Tensor, out: Path, seed: int = 0) -> None:
    """Save samples.png (10 x 10) and interpolations.png (one row per test pair) into `out`."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    save_grid(model.sample(100, generator=gen), out / "samples.png", 10, 10)
    device = next(model.parameters()).device
    x0, x1 = test[:PAIRS].to(device), test[PAIRS : 2 * PAIRS].to(device)
    path = model.interpolate(x0, x1, STEPS)  # (pairs, steps, 3, 32, 32)
    rows = torch.cat([x0[:, None].float() / 255, path, x1[:, None].float() / 255], dim=1)
    save_grid(rows.flatten(0, 1), out / "interpolations.png", PAIRS, STEPS + 2)
    print(f"Saved samples.png and interpolations.png to {out}")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--prior", default="gaussian", choices=("gaussian", "flow"), help="p(z)")
    p.add_argument(
        "--decoder",
        default="gaussian",
        choices=("gaussian", "pixelcnn"),
        help="p(x | z): diagonal Gaussian, or the bonus's PixelCNN",
    )
    p.add_argument("--steps", type=int, default=20_000, help="training steps")
    p.add_argument("--batch-size", type=int, default=32, help="images per step")
    p.add_argument("--lr", type=float, default=2e-4, help="Adam's learning rate")
    p.add_argument("--eval-every", type=int, default=500, help="record bits/dim every N steps")
    p.add_argument(
        "--eval-images",
        type=int,
        default=1000,
        help="validation and test images of each record (the end uses all)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument("--data-root", default=None, help="data folder (default: $VAECOURSE_DATA)")
    p.add_argument(
        "--subset",
        action="store_true",
        help="train on the 1083-image subset (883 / 100 / 100) even if the full "
        "data set is present",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: svhn_vae_results/<prior>-<decoder>)",
    )
    p.add_argument(
        "--draw",
        type=Path,
        default=None,
        metavar="CHECKPOINT",
        help="only redraw the pictures of this model.pt",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help=flag_help(
            "4 steps of 8 images on the subset; records every 2 steps and the final "
            "evaluation on 16 validation and 16 test images",
            "the output folder + '_dryrun'",
        ),
    )
    return p.parse_args()


def main() -> None:
    args = parse_args()
    seed_everything(args.seed)
    if args.dry_run:
        args.steps, args.batch_size, args.eval_every, args.eval_images = 4, 8, 2, 16
        args.subset = True
    checkpoint = None
    if args.draw is not None:  # the checkpoint says which model it holds
        checkpoint = torch.load(args.draw, map_location=args.device, weights_only=True)
        args.prior, args.decoder = checkpoint["prior"], checkpoint["decoder"]
    out = args.out or Path("svhn_vae_results") / f"{args.prior}-{args.decoder}"
    out = output_path(out, args.dry_run)
    out.mkdir(parents=True, exist_ok=True)
    splits = svhn_splits(args.data_root, subset=args.subset)
    if args.dry_run:  # the final evaluation too: on 16 images of each held-out split
        splits.valid, splits.test = splits.valid[:16], splits.test[:16]
    model = SVHNVAE(args.prior, args.decoder).to(args.device)
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        draw(model, splits.test, out)
        return
    print(
        f"SVHN VAE, prior {args.prior}, decoder {args.decoder}: train / validation / test "
        f"= {splits.sizes()} images ({splits.source} data set)"
    )
    final = fit(model, splits, args, out)["final"]
    print(
        f"Final bits/dim after {args.steps} steps: validation {final['valid']:.4f}, test "
        f"{final['test']:.4f} (every image of both); curves.png, model.pt and history.json "
        f"in {out}"
    )
    draw(model, splits.test, out)


if __name__ == "__main__":
    main()
