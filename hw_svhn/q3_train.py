"""Train the WGAN-LP on SVHN and draw the pictures of Problem 3: python q3_train.py

Writes to --out (default q3_results/): wgan.pt (generator and critic, every --save-every
steps and at the end), samples.png (100 samples), perturbations.png (one z moved along each
of its 100 dimensions) and interpolations.png (latent row above, data row below, alpha = 0,
0.1, ..., 1). `--explore CHECKPOINT` only draws the pictures of a saved wgan.pt. A dry run
writes to --out + _dryrun (q3_results_dryrun/), so that it never overwrites a real wgan.pt.
"""

import argparse
import math
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import torch
from q3_model import Critic, Generator
from q3_sampler import svhn_sampler
from q3_solution import critic_loss, generator_loss, interpolations
from tqdm import tqdm

from coursekit.dry_run import flag_help, output_path
from coursekit.images import save_grid
from coursekit.seeding import seed_everything


def endless(loader: Iterable[torch.Tensor]) -> Iterator[torch.Tensor]:
    """The loader's batches, epoch after epoch."""
    while True:
        yield from loader


def train_wgan(
    generator: Generator,
    critic: Critic,
    batches: Iterator[torch.Tensor],
    steps: int,
    n_critic: int = 5,
    lp_coeff: float = 10.0,
    lr: float = 1e-4,
    betas: tuple[float, float] = (0.5, 0.9),
    progress: bool = True,
    save_every: float = math.inf,
    on_save: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """`steps` generator updates, each after `n_critic` critic updates, with Adam.

    Args:
        batches: (batch, 3, 32, 32) real images in [-1, 1], one batch per critic update.

    Returns:
        (steps, 2) the last critic loss and the generator loss of every step.
    """
    g_opt = torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)
    c_opt = torch.optim.Adam(critic.parameters(), lr=lr, betas=betas)
    history = torch.zeros(steps, 2)
    generator.train()
    with torch.enable_grad(), tqdm(range(steps), disable=not progress) as bar:
        for step in bar:
            for _ in range(n_critic):
                real = next(batches)
                with torch.no_grad():
                    fake = generator(torch.randn(len(real), generator.z_dim))
                loss_c = critic_loss(critic, real, fake, lp_coeff).sum()
                c_opt.zero_grad()
                loss_c.backward()
                c_opt.step()
            loss_g = generator_loss(critic, generator(torch.randn(len(real), generator.z_dim)))
            g_opt.zero_grad()
            loss_g.sum().backward()
            g_opt.step()
            history[step] = torch.stack([loss_c.detach(), loss_g.detach().sum()])
            bar.set_postfix(critic=f"{loss_c.item():.3f}", generator=f"{loss_g.sum().item():.3f}")
            if on_save is not None and (step + 1) % save_every == 0:
                on_save(step + 1)
    return history


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] -> [0, 1] for saving."""
    return (x + 1) / 2


@torch.no_grad()
def draw(generator: Generator, out: Path, eps: float = 3.0, seed: int = 0) -> None:
    """Save samples.png, perturbations.png and interpolations.png of `generator` into `out`."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(100, generator.z_dim, generator=gen)  # (100, z_dim)
    generator.eval()
    save_grid(to_unit(generator(z)), out / "samples.png", 10, 10)
    # row r: g(z_0), then g(z_0 + eps e_i) for the dimensions i = 10 r, ..., 10 r + 9
    moved = z[0].repeat(generator.z_dim, 1) + eps * torch.eye(generator.z_dim)
    rows = torch.cat([z[:1].expand(10, 1, -1), moved.reshape(10, 10, -1)], dim=1)
    save_grid(
        to_unit(generator(rows.reshape(-1, generator.z_dim))), out / "perturbations.png", 10, 11
    )
    latent, data = interpolations(generator, z[1], z[2], torch.linspace(0, 1, 11))
    save_grid(to_unit(torch.cat([latent, data])), out / "interpolations.png", 2, 11)
    print(f"Saved samples.png, perturbations.png and interpolations.png to {out}")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--steps", type=int, default=50_000, help="generator updates")
    p.add_argument("--n-critic", type=int, default=5, help="critic updates per generator update")
    p.add_argument("--lp-coeff", type=float, default=10.0, help="weight of the Lipschitz penalty")
    p.add_argument("--batch-size", type=int, default=64, help="images per batch")
    p.add_argument("--lr", type=float, default=1e-4, help="Adam's learning rate (both nets)")
    p.add_argument("--save-every", type=int, default=5000, help="checkpoint every N steps")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--data-root", default=None, help="data folder (default: $VAECOURSE_DATA)")
    p.add_argument("--out", type=Path, default=Path("q3_results"), help="output folder")
    p.add_argument(
        "--explore",
        type=Path,
        default=None,
        metavar="CHECKPOINT",
        help="only draw the pictures of this wgan.pt",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help=flag_help("2 steps of 2 critic updates on batches of 8, then the pictures"),
    )
    return p.parse_args()


def main() -> None:
    args = parse_args()
    args.out = output_path(args.out, args.dry_run)
    seed_everything(args.seed)
    generator, critic = Generator(), Critic()
    if args.explore is not None:
        generator.load_state_dict(torch.load(args.explore, weights_only=True)["generator"])
        draw(generator, args.out)
        return
    if args.dry_run:
        args.steps, args.n_critic, args.batch_size = 2, 2, 8
    args.out.mkdir(parents=True, exist_ok=True)
    train_loader = svhn_sampler(args.data_root, args.batch_size, args.batch_size)[0]

    def save(step: int) -> None:
        state = {"generator": generator.state_dict(), "critic": critic.state_dict(), "step": step}
        torch.save(state, args.out / "wgan.pt")

    train_wgan(
        generator,
        critic,
        endless(train_loader),
        args.steps,
        args.n_critic,
        args.lp_coeff,
        args.lr,
        save_every=args.save_every,
        on_save=save,
    )
    save(args.steps)
    draw(generator, args.out)


if __name__ == "__main__":
    main()
