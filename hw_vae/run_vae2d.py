"""Part 5: train VAEs on 2-D data and draw every deliverable.

    python run_vae2d.py                  # Parts A and B, 10 epochs per model
    python run_vae2d.py --part B         # Part B only
    python run_vae2d.py --dry-run        # 1 epoch per model on 2000 points: checks it runs

Part A: one VAE per data set (1 and 2) and decoder ("diagonal" and "scalar"): trained on the
first 80 % of the points, the last 20 % held out. Part B: the diagonal decoder on data set 3:
its first 80 % is the training set, whose last eighth (10 % of the data) is kept apart for
validation, and its last 20 % the test set. Every loss is in bits per dimension (nats / (2 ln 2)).

Writes to --out: partA_curves.png, partA_samples.png, partB_curves.png, partB_samples.png,
partB_latents.png and results.json; prints every final number. A dry run writes them to
--out + _dryrun (vae2d_results_dryrun), never over a real run's.
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402
from vae2d import DECODERS, VAE2D, sample_data_1, sample_data_2, sample_data_3  # noqa: E402

from coursekit.dry_run import flag_help, output_path  # noqa: E402
from coursekit.seeding import seed_everything  # noqa: E402

TERMS = ("nelbo", "kl", "rec")  # the order in which VAE2D.loss returns them
NAMES = {"nelbo": "negative ELBO", "kl": "KL term", "rec": "decoder term"}
TRAIN_FRACTION = 0.8
VALIDATION_B = 8  # Part B validates on the last 1/8 of data set 3's training 80 %
IWAE_POINTS, IWAE_SAMPLES = 100, 100


def train_epoch(
    model: VAE2D,
    x: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    generator: torch.Generator,
) -> dict:
    """One pass over x (N, 2) in a random order; the average of each loss term over it."""
    model.train()
    sums = dict.fromkeys(TERMS, 0.0)
    for idx in torch.randperm(len(x), generator=generator).split(batch_size):
        terms = model.loss(x[idx])
        optimizer.zero_grad()
        terms[0].backward()
        optimizer.step()
        for name, value in zip(TERMS, terms):
            sums[name] += value.item() * len(idx)
    return {name: total / len(x) for name, total in sums.items()}


@torch.no_grad()
def evaluate(model: VAE2D, x: torch.Tensor, batch_size: int = 4096, seed: int = 1234) -> dict:
    """Each loss term averaged over x (N, 2), with seeded draws of z (the training's random
    stream is left as it was)."""
    model.eval()
    sums = dict.fromkeys(TERMS, 0.0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for idx in torch.arange(len(x)).split(batch_size):
            for name, value in zip(TERMS, model.loss(x[idx])):
                sums[name] += value.item() * len(idx)
    return {name: total / len(x) for name, total in sums.items()}


def fit(
    model: VAE2D, train: torch.Tensor, held_out: torch.Tensor, args: argparse.Namespace, desc: str
) -> dict:
    """Adam on model.loss for args.epochs epochs; the loss terms per epoch on both sets."""
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed + 1)
    history = {"train": [], "held_out": []}
    for _ in tqdm(range(args.epochs), desc=desc):
        history["train"].append(train_epoch(model, train, optimizer, args.batch_size, generator))
        history["held_out"].append(evaluate(model, held_out))
    return history


def plot_curves(ax, history: dict, held_out: str, title: str) -> None:
    """The three terms per epoch: solid on the training set, dashed on the held-out set."""
    epochs = range(1, len(history["train"]) + 1)
    for name, color in zip(TERMS, ("C0", "C1", "C2")):
        ax.plot(
            epochs,
            [h[name] for h in history["train"]],
            "-",
            color=color,
            label=f"{NAMES[name]}, train",
        )
        ax.plot(
            epochs,
            [h[name] for h in history["held_out"]],
            "--",
            color=color,
            label=f"{NAMES[name]}, {held_out}",
        )
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel("bits per dimension")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def plot_samples(ax, model: VAE2D, data: torch.Tensor, title: str, n: int = 2000) -> None:
    """Data (grey), samples x ~ p(x|z) (blue) and decoder means mu(z) (orange), z ~ N(0, I)."""
    model.eval()
    ax.scatter(*data[:n].T, s=2, c="0.75", label="data")
    ax.scatter(*model.sample(n, noise=True).T, s=2, c="C0", label="x ~ p(x|z)")
    ax.scatter(*model.sample(n, noise=False).T, s=2, c="C1", label="x = mu(z)")
    ax.set_title(title)
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize=7, markerscale=4)


def save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def split(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    cut = int(TRAIN_FRACTION * len(x))
    return x[:cut], x[cut:]


def part_a(args: argparse.Namespace) -> dict:
    """Both decoders on data sets 1 and 2: curves, held-out losses, samples."""
    results = {}
    curves, curve_axes = plt.subplots(2, 2, figsize=(11, 8))
    samples, sample_axes = plt.subplots(2, 2, figsize=(11, 9))
    for row, (number, make) in enumerate(((1, sample_data_1), (2, sample_data_2))):
        train, test = split(torch.as_tensor(make(args.count), dtype=torch.float32))
        for col, kind in enumerate(DECODERS):
            name = f"data set {number}, {kind} decoder"
            torch.manual_seed(args.seed)
            model = VAE2D(kind, hidden=args.hidden)
            history = fit(model, train, test, args, name)
            history["test"] = history["held_out"][-1]
            results[f"data{number}_{kind}"] = history
            plot_curves(curve_axes[row, col], history, "held-out 20 %", name)
            plot_samples(sample_axes[row, col], model, test, name)
            t = history["test"]
            print(
                f"Part A, {name}: held-out negative ELBO {t['nelbo']:.4f} bits/dim = KL "
                f"{t['kl']:.4f} + decoder {t['rec']:.4f} ("
                f"{'the latent code is used' if t['kl'] > 0.01 else 'KL ~ 0: latent unused'})"
            )
    save(curves, args.out / "partA_curves.png")
    save(samples, args.out / "partA_samples.png")
    return results


@torch.no_grad()
def iwae_against_elbo(model: VAE2D, test: torch.Tensor, seed: int) -> dict:
    """Negative IWAE bounds (bits/dim) of the first IWAE_POINTS test points, averaged."""
    torch.manual_seed(seed)
    x = test[:IWAE_POINTS]
    return {f"iwae_{m}": model.iwae_loss(x, m).mean().item() for m in (1, IWAE_SAMPLES)}


def plot_latents(model: VAE2D, x: torch.Tensor, y: torch.Tensor, path: Path) -> None:
    """z ~ q(z|x) of labelled training points, coloured by their label."""
    with torch.no_grad():
        mu, log_var = model.encode(x)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)  # (n, 2)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for label in range(3):
        ax.scatter(*z[y == label].T, s=2, c=f"C{label}", label=f"label {label}")
    ax.set_title("z ~ q(z|x) of training points")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(markerscale=4)
    save(fig, path)


def part_b(args: argparse.Namespace) -> dict:
    """Diagonal decoder on data set 3: train/validation curves, test losses, samples, latents,
    and IWAE-100 against the ELBO on the first 100 test points."""
    x, y = (torch.as_tensor(a) for a in sample_data_3(args.count))
    x = x.float()
    (train, test), (train_y, _) = split(x), split(y)
    cut = len(train) - len(train) // VALIDATION_B
    train, val, train_y = train[:cut], train[cut:], train_y[:cut]
    torch.manual_seed(args.seed)
    model = VAE2D("diagonal", hidden=args.hidden)
    history = fit(model, train, val, args, "data set 3, diagonal decoder")
    history["test"] = evaluate(model, test)
    history.update(iwae_against_elbo(model, test, args.seed))
    fig, ax = plt.subplots(figsize=(6, 4.5))
    plot_curves(ax, history, "validation", "data set 3, diagonal decoder")
    save(fig, args.out / "partB_curves.png")
    fig, ax = plt.subplots(figsize=(6, 5))
    plot_samples(ax, model, test, "data set 3: samples")
    save(fig, args.out / "partB_samples.png")
    plot_latents(model, train[:5000], train_y[:5000], args.out / "partB_latents.png")
    t = history["test"]
    print(
        f"Part B, test set: negative ELBO {t['nelbo']:.4f} bits/dim = KL {t['kl']:.4f} + "
        f"decoder {t['rec']:.4f}"
    )
    print(
        f"Part B, first {IWAE_POINTS} test points: negative IWAE with {IWAE_SAMPLES} samples "
        f"{history[f'iwae_{IWAE_SAMPLES}']:.4f} bits/dim, negative ELBO (IWAE with 1 sample) "
        f"{history['iwae_1']:.4f} bits/dim"
    )
    return history


def main(argv: list | None = None) -> dict:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--part", choices=("A", "B", "both"), default="both", help="what to run")
    p.add_argument("--epochs", type=int, default=10, help="training epochs per model")
    p.add_argument("--batch-size", type=int, default=128, help="points per step")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    p.add_argument("--hidden", type=int, default=128, help="width of the hidden layers")
    p.add_argument("--count", type=int, default=100000, help="points per data set")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and of z")
    p.add_argument("--out", type=Path, default=Path("vae2d_results"), help="output folder")
    p.add_argument(
        "--dry-run", action="store_true", help=flag_help("1 epoch on 2000 points per model")
    )
    args = p.parse_args(argv)
    args.out = output_path(args.out, args.dry_run)
    if args.dry_run:
        args.epochs, args.count = 1, 2000
    seed_everything(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {"args": vars(args)}
    if args.part in ("A", "both"):
        results["A"] = part_a(args)
    if args.part in ("B", "both"):
        results["B"] = part_b(args)
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"Saved the pictures and results.json in {args.out}")
    return results


if __name__ == "__main__":
    main()
