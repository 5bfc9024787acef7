"""Problem 2.5: estimate the squared Hellinger and Wasserstein distances between p = (0, U) and
q = (theta, U) for theta = 0, 0.1, ..., 2 by training one critic per theta, and plot both.

    python q2_sweep.py                 # 21 thetas x 2 objectives (20-40 minutes on a CPU)
    python q2_sweep.py --dry-run       # 2 thetas x 5 steps: checks that everything runs

Writes OUT/hellinger.png, OUT/wasserstein.png and OUT/estimates.json (OUT is --out, default
q2_results); a dry run writes them to OUT_dryrun instead, so it never overwrites a real run's.
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from q2_model import Critic  # noqa: E402
from q2_sampler import distribution1  # noqa: E402
from q2_solution import lp_reg, vf_squared_hellinger, vf_wasserstein_distance  # noqa: E402
from tqdm import tqdm  # noqa: E402

from coursekit.dry_run import flag_help, output_path  # noqa: E402

THETAS = [round(0.1 * i, 1) for i in range(21)]
OBJECTIVES = ("hellinger", "wasserstein")


def critic_loss(objective: str, x: torch.Tensor, y: torch.Tensor, critic: Critic, lam: float):
    """What SGD minimises: minus the objective, plus lam times the Lipschitz penalty for W1."""
    if objective == "hellinger":
        return -vf_squared_hellinger(x, y, critic)
    return -vf_wasserstein_distance(x, y, critic) + lam * lp_reg(x, y, critic)


def estimate(objective: str, critic: Critic, p, q, batches: int) -> float:
    """The trained critic's objective (without penalty), averaged over fresh batches."""
    vf = vf_squared_hellinger if objective == "hellinger" else vf_wasserstein_distance
    with torch.no_grad():
        return sum(vf(next(p), next(q), critic).item() for _ in range(batches)) / batches


def train_critic(objective: str, theta: float, args: argparse.Namespace) -> float:
    """Train a fresh critic to tell p = (0, U) from q = (theta, U); return its estimate."""
    torch.manual_seed(args.seed)
    gen_p = torch.Generator().manual_seed(args.seed + 1)
    gen_q = torch.Generator().manual_seed(args.seed + 2)
    p = distribution1(0, args.batch_size, generator=gen_p)
    q = distribution1(theta, args.batch_size, generator=gen_q)
    critic = Critic(in_size=2)
    optimizer = torch.optim.SGD(critic.parameters(), lr=args.lr)
    for _ in range(args.steps):
        optimizer.zero_grad()
        critic_loss(objective, next(p), next(q), critic, args.lam).sum().backward()
        optimizer.step()
    return estimate(objective, critic, p, q, args.eval_batches)


def plot(thetas: list, values: list, ylabel: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(thetas, values, "o-")
    ax.set_xlabel(r"$\theta$")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{ylabel} between (0, U) and ($\\theta$, U)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--steps", type=int, default=2500, help="SGD steps per critic")
    parser.add_argument("--batch-size", type=int, default=512, help="points of p and of q per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="SGD learning rate")
    parser.add_argument("--lam", type=float, default=50.0, help="weight of the Lipschitz penalty")
    parser.add_argument("--eval-batches", type=int, default=20, help="batches of each estimate")
    parser.add_argument("--seed", type=int, default=0, help="seed of every critic and sampler")
    parser.add_argument("--out", type=Path, default=Path("q2_results"), help="output folder")
    parser.add_argument(
        "--dry-run", action="store_true", help=flag_help("2 thetas x 5 steps, to check")
    )
    args = parser.parse_args(argv)
    args.out = output_path(args.out, args.dry_run)
    thetas = THETAS
    if args.dry_run:
        thetas, args.steps, args.eval_batches = [0.0, 1.0], 5, 2
    torch.set_num_threads(1)  # small networks: one thread is the fastest on a shared CPU
    runs = [(o, t) for o in OBJECTIVES for t in thetas]
    results = {o: [] for o in OBJECTIVES}
    for objective, theta in tqdm(runs, desc="critics"):
        results[objective].append(train_critic(objective, theta, args))
    args.out.mkdir(parents=True, exist_ok=True)
    plot(thetas, results["hellinger"], "squared Hellinger", args.out / "hellinger.png")
    plot(thetas, results["wasserstein"], "Wasserstein-1", args.out / "wasserstein.png")
    summary = {"theta": thetas, **results, "steps": args.steps, "lam": args.lam}
    (args.out / "estimates.json").write_text(json.dumps(summary, indent=2) + "\n")
    for objective in OBJECTIVES:
        values = " ".join(f"{v:.3f}" for v in results[objective])
        print(f"{objective}: {values}")
    print(f"Saved {args.out / 'hellinger.png'}, {args.out / 'wasserstein.png'} and estimates.json")
    return summary


if __name__ == "__main__":
    main()
