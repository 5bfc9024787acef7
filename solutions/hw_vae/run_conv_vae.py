"""Part 4: train the convolutional VAE on dequantized MNIST and draw its deliverables.

    python run_conv_vae.py                      # 20 epochs with Adam, cosine-annealed
    python run_conv_vae.py --dry-run            # 2 batches per split, 1 epoch: checks it runs
    python run_conv_vae.py --load OUT/conv_vae.pt --epochs 0   # evaluate and draw only

MNIST's 60000 training images are split (seeded) into 50000 for training and 10000 for
validation; the test set is MNIST's 10000 test images. Writes to --out: curves.png (negative
ELBO, reconstruction and KL per epoch, training and validation), samples.png (100 samples),
interpolations.png (3 pairs of test digits), history.json (every number) and conv_vae.pt.
A dry run writes them to --out + _dryrun (conv_vae_results_dryrun), never over a real run's.
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from conv_vae import ConvVAE  # noqa: E402
from tqdm import tqdm  # noqa: E402

from coursekit.data import load_mnist  # noqa: E402
from coursekit.dry_run import flag_help, output_path  # noqa: E402
from coursekit.images import save_grid  # noqa: E402
from coursekit.metrics import bits_per_dim, pixel_scale_nats  # noqa: E402
from coursekit.seeding import seed_everything  # noqa: E402

DIMS = 28 * 28
TERMS = ("nelbo", "kl", "rec")  # the order in which calc_elbo returns them
VALIDATION = 10000
PAIRS = ((0, 6), (4, 9), (3, 8))  # digits of the 3 interpolated pairs (first test image of each)
STEPS = 10  # points on each interpolation line, both ends included


def dequantize(pixels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """uint8 pixels (batch, 28, 28) -> (batch, 1, 28, 28) floats (pixel + u) / 256, u ~ U[0, 1)."""
    u = torch.rand(pixels.shape, generator=generator)
    return ((pixels.float() + u) / 256).unsqueeze(1)


def to_bits_per_dim(nelbo_nats: float) -> float:
    """A negative ELBO in nats of a density over [0, 1]^784, as bits per dimension of 8-bit pixels.

    x = (k + u) / 256 scales each pixel by 1/256, which multiplies the density by 256 per pixel:
    -log P(k) <= E_u[-log p(x)] + 784 ln 256 (coursekit.metrics.pixel_scale_nats), so the result
    is nelbo / (784 ln 2) + 8.
    """
    return bits_per_dim(nelbo_nats + pixel_scale_nats(DIMS), DIMS)


def train_epoch(
    model: ConvVAE,
    pixels: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    device: torch.device,
    generator: torch.Generator,
) -> dict:
    """One pass over `pixels` (N, 28, 28) uint8 in a random order, fresh dequantization noise.

    Returns the epoch's averages of nelbo, kl and rec (nats per image) over its batches.
    """
    model.train()
    sums = dict.fromkeys(TERMS, 0.0)
    batches = torch.randperm(len(pixels), generator=generator).split(batch_size)
    for idx in tqdm(batches, desc="train", leave=False):
        x = dequantize(pixels[idx], generator).to(device)  # (batch, 1, 28, 28)
        terms = model.calc_elbo(x)
        optimizer.zero_grad()
        terms[0].backward()
        optimizer.step()
        for name, value in zip(TERMS, terms):
            sums[name] += value.item() * len(idx)
    return {name: total / len(pixels) for name, total in sums.items()}


@torch.no_grad()
def evaluate(
    model: ConvVAE, pixels: torch.Tensor, batch_size: int, device: torch.device, seed: int = 1234
) -> dict:
    """Averages of nelbo, kl and rec over `pixels` (N, 28, 28) uint8, in nats per image.

    The dequantization noise and the draws of z are seeded (without disturbing the training's
    random stream), so every epoch is scored on the same noise.
    """
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    sums = dict.fromkeys(TERMS, 0.0)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for idx in torch.arange(len(pixels)).split(batch_size):
            terms = model.calc_elbo(dequantize(pixels[idx], generator).to(device))
            for name, value in zip(TERMS, terms):
                sums[name] += value.item() * len(idx)
    return {name: total / len(pixels) for name, total in sums.items()}


@torch.no_grad()
def interpolations(
    model: ConvVAE, pixels: torch.Tensor, labels: torch.Tensor, device: torch.device, seed: int = 0
) -> torch.Tensor:
    """(len(PAIRS) * (STEPS + 2), 1, 28, 28): per pair, image a, the decoded means at STEPS
    points z = (1 - t) mean(x_a) + t mean(x_b), t = 0 .. 1, then image b."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for a, b in PAIRS:
        idx = torch.stack([(labels == a).nonzero()[0, 0], (labels == b).nonzero()[0, 0]])
        x = dequantize(pixels[idx], generator).to(device)  # (2, 1, 28, 28)
        mean, _ = model.encode(x)  # (2, latent_dim): the posterior means of q(z|x_a), q(z|x_b)
        t = torch.linspace(0, 1, STEPS, device=device).unsqueeze(1)  # (STEPS, 1)
        z = (1 - t) * mean[0] + t * mean[1]  # (STEPS, latent_dim)
        rows.append(torch.cat([x[:1], model.decode(z), x[1:]]).cpu())
    return torch.cat(rows)


def plot_curves(history: dict, path: Path) -> None:
    """Three panels (negative ELBO, reconstruction, KL) of training and validation per epoch."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    titles = {
        "nelbo": "negative ELBO",
        "rec": "reconstruction -E log p(x|z)",
        "kl": "KL(q(z|x) || p(z))",
    }
    epochs = range(1, len(history["train"]) + 1)
    for ax, name in zip(axes, ("nelbo", "rec", "kl")):
        for split in ("train", "validation"):
            ax.plot(epochs, [h[name] for h in history[split]], "o-", label=split)
        ax.set_title(titles[name])
        ax.set_xlabel("epoch")
        ax.set_ylabel("nats per image")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_args(argv: list | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--epochs", type=int, default=20, help="training epochs (0: no training)")
    p.add_argument("--batch-size", type=int, default=128, help="images per step")
    p.add_argument(
        "--lr",
        type=float,
        default=1e-3,
        help="Adam's initial learning rate, annealed to 0 along a cosine over the epochs",
    )
    p.add_argument("--latent-dim", type=int, default=16, help="dimension of z")
    p.add_argument("--decoder-std", type=float, default=0.1, help="fixed std of p(x|z)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split, weights and noise")
    p.add_argument("--data-root", default=None, help="data folder (default: $VAECOURSE_DATA)")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument("--load", type=Path, default=None, help="start from these saved weights")
    p.add_argument("--out", type=Path, default=Path("conv_vae_results"), help="output folder")
    p.add_argument(
        "--dry-run", action="store_true", help=flag_help("1 epoch of 2 batches per split")
    )
    return p.parse_args(argv)


def main(argv: list | None = None) -> dict:
    args = parse_args(argv)
    args.out = output_path(args.out, args.dry_run)
    seed_everything(args.seed)
    device = torch.device(args.device)
    pixels, _ = load_mnist("train", args.data_root)  # (60000, 28, 28) uint8
    order = torch.randperm(len(pixels), generator=torch.Generator().manual_seed(args.seed))
    train, val = pixels[order[:-VALIDATION]], pixels[order[-VALIDATION:]]
    test, test_labels = load_mnist("test", args.data_root)
    if args.dry_run:
        args.epochs = min(args.epochs, 1)
        train, val, test = (s[: 2 * args.batch_size] for s in (train, val, test))
    model = ConvVAE(args.latent_dim, args.decoder_std).to(device)
    if args.load is not None:
        model.load_state_dict(torch.load(args.load, map_location=device, weights_only=True))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(args.epochs, 1))
    generator = torch.Generator().manual_seed(args.seed + 1)
    history = {"train": [], "validation": []}
    for epoch in tqdm(range(1, args.epochs + 1), desc="epochs"):
        history["train"].append(
            train_epoch(model, train, optimizer, args.batch_size, device, generator)
        )
        history["validation"].append(evaluate(model, val, args.batch_size, device))
        schedule.step()
        tr, va = history["train"][-1], history["validation"][-1]
        tqdm.write(
            f"epoch {epoch}: train nelbo {tr['nelbo']:.1f} (kl {tr['kl']:.1f}), "
            f"validation nelbo {va['nelbo']:.1f} (kl {va['kl']:.1f}, rec {va['rec']:.1f})"
        )
    history["test"] = evaluate(model, test, args.batch_size, device)
    history["test"]["bits_per_dim"] = to_bits_per_dim(history["test"]["nelbo"])
    save_outputs(model, history, test, test_labels, args, device)
    return history


def save_outputs(
    model: ConvVAE,
    history: dict,
    test: torch.Tensor,
    test_labels: torch.Tensor,
    args: argparse.Namespace,
    device: torch.device,
) -> None:
    """Print the test numbers; save the curves, samples, interpolations, history and weights."""
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    t = history["test"]
    print(
        f"Test negative ELBO: {t['nelbo']:.2f} nats per image = {t['bits_per_dim']:.4f} "
        f"bits/dim (KL {t['kl']:.2f}, reconstruction {t['rec']:.2f} nats); test ELBO "
        f"{-t['nelbo']:.2f} nats"
    )
    if history["train"]:
        plot_curves(history, out / "curves.png")
    model.eval()
    with torch.no_grad():
        torch.manual_seed(args.seed)
        samples = model.sample(100).clamp(0, 1).cpu()  # (100, 1, 28, 28)
    save_grid(samples, out / "samples.png", 10, 10)
    grid = interpolations(model, test, test_labels, device, args.seed).clamp(0, 1)
    save_grid(grid, out / "interpolations.png", len(PAIRS), STEPS + 2)
    (out / "history.json").write_text(json.dumps(vars(args) | history, indent=2, default=str))
    torch.save(model.state_dict(), out / "conv_vae.pt")
    pairs = ", ".join(f"{a}->{b}" for a, b in PAIRS)
    print(
        f"Saved curves.png, samples.png (100 samples), interpolations.png (rows {pairs}: "
        f"image, {STEPS} decoded points, image), history.json and conv_vae.pt in {out}"
    )


if __name__ == "__main__":
    main()
