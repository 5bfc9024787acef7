"""Probability helpers, MNIST loading, evaluation and checkpoints.

Conventions: Gaussians are given by mean and VARIANCE (not log-variance); log-densities are
summed over the last dimension, so a (batch, dim) input gives one value per example.
"""

import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from coursekit.data import load_mnist

# ---------------------------------------------------------------------------------------------
# Probability helpers. sample_gaussian, log_normal and log_normal_mixture are graded.
# ---------------------------------------------------------------------------------------------


def sample_gaussian(m: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Draw z ~ N(m, diag(v)) with the reparameterization trick.

    Args:
        m: (batch, ...) means.
        v: (batch, ...) variances, same shape as m.

    Returns:
        z: (batch, ...) one sample per entry, differentiable with respect to m and v.
    """
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError


def log_normal(x: torch.Tensor, m: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Log-density of x under N(m, diag(v)), summed over the last dimension.

    Args:
        x, m, v: (batch_1, ..., batch_k, dim) values, means and variances; leading
            dimensions broadcast against each other.

    Returns:
        (batch_1, ..., batch_k) log N(x; m, diag(v)).
    """
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError


def log_normal_mixture(z: torch.Tensor, m: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Log-density of z under a uniformly weighted mixture of diagonal Gaussians.

    Args:
        z: (batch, dim) points.
        m, v: (batch, mix, dim) component means and variances; a leading 1 broadcasts.

    Returns:
        (batch,) log (1/mix) sum_i N(z; m_i, diag(v_i)), computed stably (see log_mean_exp).
    """
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError


def gaussian_parameters(h: torch.Tensor, dim: int = -1) -> tuple[torch.Tensor, torch.Tensor]:
    """Split h in two halves along `dim` into a mean and a positive variance (softplus)."""
    m, h_v = torch.split(h, h.size(dim) // 2, dim=dim)
    return m, F.softplus(h_v) + 1e-8


def log_bernoulli_with_logits(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """(batch,) log Bern(x; sigmoid(logits)) summed over the last dimension."""
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def kl_cat(q: torch.Tensor, log_q: torch.Tensor, log_p: torch.Tensor | float) -> torch.Tensor:
    """(batch,) KL(q || p) of categoricals given q, log q and log p, summed over the last dim."""
    return (q * (log_q - log_p)).sum(-1)


def kl_normal(qm, qv, pm, pv) -> torch.Tensor:
    """(batch,) analytic KL(N(qm, diag qv) || N(pm, diag pv)), summed over the last dim."""
    per_dim = 0.5 * (pv.log() - qv.log() + (qv + (qm - pm).pow(2)) / pv - 1)
    return per_dim.sum(-1)


def duplicate(x: torch.Tensor, rep: int) -> torch.Tensor:
    """Stack `rep` copies of the batch x (batch, ...) into (rep * batch, ...), copy-major."""
    return x.expand(rep, *x.shape).reshape(-1, *x.shape[1:])


def log_sum_exp(x: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """log sum exp(x) along `dim`, shifted by the maximum so that nothing overflows."""
    top = x.max(dim, keepdim=True).values.detach()
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    return (x - top).exp().sum(dim).log() + top.squeeze(dim)


def log_mean_exp(x: torch.Tensor, dim: int) -> torch.Tensor:
    """log mean exp(x) along `dim`, computed stably with log_sum_exp."""
    return log_sum_exp(x, dim) - math.log(x.size(dim))


# ---------------------------------------------------------------------------------------------
# Data: the whole of MNIST lives in memory as gray levels in [0, 1].
# ---------------------------------------------------------------------------------------------


@dataclass
class MnistData:
    """MNIST as the homework uses it (all tensors on one device)."""

    train_x: torch.Tensor  # (60000, 784) gray levels in [0, 1]
    train_y: torch.Tensor  # (60000,) digits
    test_x: torch.Tensor  # (10000, 784) gray levels in [0, 1]
    test_y: torch.Tensor  # (10000,)
    labelled_x: torch.Tensor  # (100, 784) gray levels: 10 training images per digit (seeded draw)
    labelled_y: torch.Tensor  # (100,)
    test_subset_x: torch.Tensor  # (100, 784) binary: the first 10 test images per digit
    test_subset_y: torch.Tensor  # (100,)


def per_class(labels: torch.Tensor, n: int = 10, seed: int | None = None) -> torch.Tensor:
    """Indices of n examples of each digit 0..9, digit-major: the first n, or a seeded draw."""
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    picks = []
    for d in range(10):
        idx = (labels == d).nonzero().squeeze(1)
        picks.append(idx[:n] if gen is None else idx[torch.randperm(len(idx), generator=gen)[:n]])
    return torch.cat(picks)


def get_mnist_data(device="cpu", root: str | None = None, subset_seed: int = 0) -> MnistData:
    """Load MNIST; `subset_seed` draws the 100 labelled training images (10 per digit) and
    binarizes the test subset (the first 10 test images per digit) once."""
    tr_x, tr_y = load_mnist("train", root)
    te_x, te_y = load_mnist("test", root)
    tr_x = tr_x.reshape(-1, 784).float() / 255
    te_x = te_x.reshape(-1, 784).float() / 255
    lab, sub = per_class(tr_y, seed=subset_seed), per_class(te_y)
    gen = torch.Generator().manual_seed(subset_seed)
    sub_x = torch.bernoulli(te_x[sub], generator=gen)
    tensors = (tr_x, tr_y, te_x, te_y, tr_x[lab], tr_y[lab], sub_x, te_y[sub])
    return MnistData(*(t.to(device) for t in tensors))


# ---------------------------------------------------------------------------------------------
# Evaluation protocol of the handout.
# ---------------------------------------------------------------------------------------------


@torch.no_grad()
def evaluate_lower_bound(model, x: torch.Tensor, run_iwae: bool = True, repeats: int = 100) -> dict:
    """Mean NELBO / KL / Rec over `repeats` evaluations on x; IWAE-m for m in 1, 10, 100, 1000.

    IWAE-m is averaged over max(repeats // m, 1) evaluations. Prints and returns the numbers.
    """
    runs = torch.tensor([[t.item() for t in model.negative_elbo_bound(x)] for _ in range(repeats)])
    nelbo, kl, rec = runs.mean(0).tolist()
    out = {"nelbo": nelbo, "kl": kl, "rec": rec}
    print(f"NELBO: {nelbo:.4f}. KL: {kl:.4f}. Rec: {rec:.4f}")
    if run_iwae:
        for iw in (1, 10, 100, 1000):
            reps = max(repeats // iw, 1)
            niwae = sum(model.negative_iwae_bound(x, iw)[0].item() for _ in range(reps)) / reps
            out[f"iwae_{iw}"] = niwae
            print(f"Negative IWAE-{iw}: {niwae:.4f}")
    return out


@torch.no_grad()
def evaluate_classifier(model, x: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of argmax q(y | x) on (x, y); x are gray levels, not binarized."""
    accuracy = (model.cls(x).argmax(1) == y).float().mean().item()
    print(f"Test set classification accuracy: {accuracy:.4f}")
    return accuracy


# ---------------------------------------------------------------------------------------------
# Checkpoints: checkpoints/<model name>/model-<step>.pt
# ---------------------------------------------------------------------------------------------

CHECKPOINT_DIR = Path(os.environ.get("VAECOURSE_CHECKPOINTS", "checkpoints"))


def checkpoint_path(model, global_step: int) -> Path:
    return CHECKPOINT_DIR / model.name / f"model-{global_step:05d}.pt"


def save_model_by_name(model, global_step: int) -> Path:
    path = checkpoint_path(model, global_step)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    print(f"Saved to {path}")
    return path


def load_model_by_name(model, global_step: int, device="cpu") -> None:
    path = checkpoint_path(model, global_step)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint {path}: train first (--train 1) or check --run")
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    print(f"Loaded from {path}")


def delete_existing(model, overwrite: bool) -> None:
    """Refuse to mix a new run with old checkpoints unless overwrite is set."""
    folder = CHECKPOINT_DIR / model.name
    if folder.exists() and any(folder.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{folder} holds checkpoints; pass --overwrite 1 to replace them")
        for f in folder.iterdir():
            f.unlink()
