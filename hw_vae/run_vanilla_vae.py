"""Part 3: train the vanilla VAE on MNIST for k = 3 and k = 20, stopping on the validation ELBO.

    python run_vanilla_vae.py                     # k = 3 and k = 20, up to 50 epochs each
    python run_vanilla_vae.py --k 20 --epochs 10  # one latent size, a shorter run
    python run_vanilla_vae.py --dry-run           # one batch, tiny evaluation: checks it runs

For each k it prints the validation ELBO after every epoch, then the test set's
reconstruction term and KL term of eq. (6), and writes to OUT (default samples/vanilla_vae):
samples_k{k}.png (100 random samples), reconstructions_k{k}.png (10 random test images, top,
and their encode-decode, bottom) and results_k{k}.json (the numbers and the curve). A dry run
writes them to OUT_dryrun (samples/vanilla_vae_dryrun), never over a real run's.
"""

import argparse
import copy
import json
import math
from pathlib import Path

import torch
from tqdm import tqdm
from vanilla_vae import VanillaVAE, evaluate, load_splits

from coursekit.dry_run import flag_help, output_path
from coursekit.images import save_grid
from coursekit.seeding import seed_everything


def train_epoch(model, optimizer, gray: torch.Tensor, args, progress: bool = True) -> float:
    """One epoch of Adam on -ELBO (eq. 6, r samples); pixels binarized afresh per batch."""
    model.train()
    batches = torch.randperm(len(gray)).split(args.batch_size)
    if args.dry_run:
        batches = batches[:1]
    total = 0.0
    for idx in tqdm(batches, desc="train", disable=not progress, leave=False):
        x = torch.bernoulli(gray[idx])  # (batch, 784) 0/1
        rec, kl = model.elbo_terms(x, args.r)
        loss = (kl - rec).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return -total / sum(len(idx) for idx in batches)


def fit(model, data, args) -> list[dict]:
    """Train until the validation ELBO has not improved for `patience` epochs; keep the best."""
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    best, best_state, waited, history = -math.inf, None, 0, []
    for epoch in range(1, args.epochs + 1):
        train_elbo = train_epoch(model, optimizer, data.train_gray, args)
        valid = evaluate(model, data.valid_x, args.r)["elbo"]
        history.append({"epoch": epoch, "train_elbo": train_elbo, "valid_elbo": valid})
        print(
            f"k={model.k:2d} epoch {epoch:3d}  train ELBO {train_elbo:8.2f}  "
            f"validation ELBO {valid:8.2f}",
            flush=True,
        )
        if valid > best + args.min_delta:
            best, best_state, waited = valid, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited >= args.patience:
                print(
                    f"k={model.k:2d} stopped: no gain over {args.min_delta} nats "
                    f"in {args.patience} epochs"
                )
                break
    model.load_state_dict(best_state)
    return history


def save_pictures(model, test_x: torch.Tensor, out: Path, seed: int) -> None:
    """samples_k{k}.png and reconstructions_k{k}.png (10 random test images over their decodes)."""
    k = model.k
    save_grid(model.sample(100).view(-1, 1, 28, 28), out / f"samples_k{k}.png", rows=10, cols=10)
    pick = torch.randperm(len(test_x), generator=torch.Generator().manual_seed(seed))[:10]
    x = test_x[pick]  # (10, 784)
    pair = torch.cat([x, model.reconstruct(x)]).view(-1, 1, 28, 28)  # (20, 1, 28, 28)
    save_grid(pair, out / f"reconstructions_k{k}.png", rows=2, cols=10)


def run_one(k: int, data, args) -> dict:
    """Train, evaluate on the test set and save the pictures for latent size k."""
    seed_everything(args.seed)
    model = VanillaVAE(k, args.hidden)
    history = fit(model, data, args)
    test = evaluate(model, data.test_x, args.r)
    print(
        f"k={k:2d} test: reconstruction term {test['reconstruction']:.2f}  "
        f"KL term {test['kl']:.2f}  ELBO {test['elbo']:.2f}  "
        f"(best epoch {max(history, key=lambda h: h['valid_elbo'])['epoch']})"
    )
    save_pictures(model, data.test_x, args.out, args.seed)
    result = {
        "k": k,
        "test": test,
        "history": history,
        "args": {key: str(v) if isinstance(v, Path) else v for key, v in vars(args).items()},
    }
    (args.out / f"results_k{k}.json").write_text(json.dumps(result, indent=1))
    return result


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--k", type=int, nargs="+", default=[3, 20], help="latent sizes to train")
    p.add_argument("--hidden", type=int, default=500, help="tanh units of encoder and decoder")
    p.add_argument("--r", type=int, default=1, help="samples z per image in eq. (6)")
    p.add_argument("--epochs", type=int, default=50, help="most epochs per k")
    p.add_argument("--patience", type=int, default=3, help="epochs without gain before stopping")
    p.add_argument("--min-delta", type=float, default=0.1, help="smallest gain (nats) that counts")
    p.add_argument("--batch-size", type=int, default=100, help="images per step")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, batches and pictures")
    p.add_argument("--out", type=Path, default=Path("samples/vanilla_vae"), help="output folder")
    p.add_argument("--data-root", default=None, help="data folder (default: $VAECOURSE_DATA)")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help=flag_help("one batch, 1 epoch, small evaluation"),
    )
    return p.parse_args(argv)


def main(argv=None) -> list[dict]:
    args = parse(argv)
    args.out = output_path(args.out, args.dry_run)
    if args.dry_run:
        args.epochs = 1
    data = load_splits(args.data_root, seed=args.seed)
    if args.dry_run:  # a few hundred images are enough to check that everything runs
        data.valid_x, data.test_x = data.valid_x[:200], data.test_x[:200]
    args.out.mkdir(parents=True, exist_ok=True)
    return [run_one(k, data, args) for k in args.k]


if __name__ == "__main__":
    main()
