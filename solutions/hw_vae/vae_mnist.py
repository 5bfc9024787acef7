"""The binarized-MNIST VAE of items 1.6 and 1.7 (provided): networks, loss, training, evaluation.

vae.ipynb, the course's benchmark and the autograder all use this one module. Its loss and its
importance-sampled log-likelihood are built from YOUR helpers in q1_solution.py, so they are
only as right as those helpers. Importing it runs nothing.

Shapes: images are flattened, x: (batch, 784), with 0/1 pixels (uint8 or float); the latent
has L dimensions (100 in the handout).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from q1_solution import (
    kl_gaussian_gaussian_analytic,
    log_likelihood_bernoulli,
    log_likelihood_normal,
    log_mean_exp,
)
from torch import nn
from tqdm import tqdm

from coursekit.data import load_binarized_mnist

LATENT = 100  # L of the handout
ARCHS = ("mlp", "conv")  # the 2020 notebook's MLPs (default) and the 2019 edition's conv nets
HIDDEN = 300  # width of the MLPs' hidden layers
LOGIT_SHIFT = 5.0  # the MLP decoder's output minus 5 are the logits: pixels start mostly off


# ------------------------------------------------------------------------------ networks


class Shift(nn.Module):
    """Adds a constant: x -> x + value (no parameters)."""

    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.value


def mlp_networks(latent: int) -> tuple[nn.Module, nn.Module]:
    """Encoder 784 -> 300 -> 300 -> 2L and decoder L -> 300 -> 300 -> 784, ELU in between."""
    encoder = nn.Sequential(
        nn.Linear(784, HIDDEN),
        nn.ELU(),
        nn.Linear(HIDDEN, HIDDEN),
        nn.ELU(),
        nn.Linear(HIDDEN, 2 * latent),
    )
    decoder = nn.Sequential(
        nn.Linear(latent, HIDDEN),
        nn.ELU(),
        nn.Linear(HIDDEN, HIDDEN),
        nn.ELU(),
        nn.Linear(HIDDEN, 784),
        Shift(-LOGIT_SHIFT),
    )
    return encoder, decoder


def conv_networks(latent: int) -> tuple[nn.Module, nn.Module]:
    """The 2019 edition's convolutional encoder and decoder, on flattened images.

    Encoder: 28 -conv3-> 26 -pool-> 13 -conv3-> 11 -pool-> 5 -conv5-> 1, then Linear(256, 2L).
    Decoder: Linear(L, 256) to a 1 x 1 map, then 5 -up-> 10 -> 12 -up-> 24 -> 26 -> 28.
    """
    encoder = nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 32, 3),
        nn.ELU(),
        nn.AvgPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ELU(),
        nn.AvgPool2d(2),
        nn.Conv2d(64, 256, 5),
        nn.ELU(),
        nn.Flatten(),
        nn.Linear(256, 2 * latent),
    )
    decoder = nn.Sequential(
        nn.Linear(latent, 256),
        nn.ELU(),
        nn.Unflatten(1, (256, 1, 1)),
        nn.Conv2d(256, 64, 5, padding=4),
        nn.ELU(),
        nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.Conv2d(64, 32, 3, padding=2),
        nn.ELU(),
        nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.Conv2d(32, 16, 3, padding=2),
        nn.ELU(),
        nn.Conv2d(16, 1, 3, padding=2),
        nn.Flatten(),
    )
    return encoder, decoder


class VAE(nn.Module):
    """q(z|x) = N(mu(x), diag exp(logvar(x))), p(z) = N(0, I), p(x|z) = Bernoulli(sigmoid(logits)).

    Args:
        latent: L, the dimension of z.
        arch: 'mlp' (default) or 'conv', see mlp_networks and conv_networks.
    """

    def __init__(self, latent: int = LATENT, arch: str = "mlp"):
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"unknown arch {arch!r}; choose one of {', '.join(ARCHS)}")
        self.latent = latent
        networks = mlp_networks if arch == "mlp" else conv_networks
        self.encoder, self.decoder = networks(latent)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (batch, 784) -> mean and log-variance of q(z|x), each (batch, L)."""
        return self.encoder(x.float()).chunk(2, dim=1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (batch, L) -> logits of p(x|z), (batch, 784)."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x: (batch, 784) -> z_mean, z_logvar (batch, L) and the logits of one z ~ q(z|x)."""
        z_mean, z_logvar = self.encode(x)
        # reparameterization: z = mu + sigma * eps, eps ~ N(0, I), differentiable in mu, sigma
        z = z_mean + torch.exp(0.5 * z_logvar) * torch.randn_like(z_mean)  # (batch, L)
        return z_mean, z_logvar, self.decode(z)


# ------------------------------------------------------------------------------ bounds


def elbo(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """(batch,) one-sample ELBO per image: log p(x|z) - KL(q(z|x) || N(0, I)), z ~ q(z|x)."""
    z_mean, z_logvar, logits = model(x)
    zeros = torch.zeros_like(z_mean)  # the prior's mean and log-variance
    kl = kl_gaussian_gaussian_analytic(z_mean, z_logvar, zeros, zeros)  # (batch,)
    log_px_z = log_likelihood_bernoulli(torch.sigmoid(logits), x.float())  # (batch,)
    return log_px_z - kl


@torch.no_grad()
def log_likelihood_is(model: VAE, x: torch.Tensor, num_samples: int = 200) -> torch.Tensor:
    """(batch,) importance-sampled log p(x) with K = num_samples draws from q(z|x) per image.

    log p(x) ~ log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x) (item 1.7).
    """
    batch, k = x.shape[0], num_samples
    z_mean, z_logvar = model.encode(x)  # (batch, L) each
    eps = torch.randn(batch, k, model.latent, device=x.device)
    z = z_mean[:, None] + torch.exp(0.5 * z_logvar)[:, None] * eps  # (batch, K, L)
    z = z.reshape(batch * k, -1)  # (batch * K, L): row b * K + j is sample j of image b
    x_rep = x.float().repeat_interleave(k, dim=0)  # (batch * K, 784), the same row order
    mean_rep, logvar_rep = z_mean.repeat_interleave(k, 0), z_logvar.repeat_interleave(k, 0)
    probs = torch.sigmoid(model.decode(z))  # (batch * K, 784)
    log_px_z = log_likelihood_bernoulli(probs, x_rep).view(batch, k)
    log_qz = log_likelihood_normal(mean_rep, logvar_rep, z).view(batch, k)
    log_pz = log_likelihood_normal(torch.zeros_like(z), torch.zeros_like(z), z).view(batch, k)
    return log_mean_exp(log_px_z + log_pz - log_qz)  # (batch,)


@torch.no_grad()
def average_elbo(model: VAE, x: torch.Tensor, batch_size: int = 1000) -> float:
    """The one-sample ELBO averaged over every image of x: (N, 784) -> a number (item 1.6)."""
    model.eval()
    total = sum(elbo(model, xb).sum().item() for xb in x.split(batch_size))
    return total / len(x)


@torch.no_grad()
def log_likelihoods(
    model: VAE,
    x: torch.Tensor,
    num_samples: int = 200,
    batch_size: int = 50,
    progress: bool = True,
) -> torch.Tensor:
    """log_likelihood_is of every image of x, in chunks: (N, 784) -> (N,) (item 1.7).

    Average them for the handout's number. A chunk decodes batch_size * num_samples latents.
    """
    model.eval()
    chunks = tqdm(x.split(batch_size), desc="log p(x)", disable=not progress, leave=False)
    return torch.cat([log_likelihood_is(model, xb, num_samples) for xb in chunks])


# ------------------------------------------------------------------------------ training


def train_epoch(
    model: VAE,
    optimizer: torch.optim.Optimizer,
    train_x: torch.Tensor,
    batch_size: int,
    progress: bool = True,
) -> float:
    """One pass over train_x (N, 784) in shuffled batches; returns the mean loss (-ELBO)."""
    model.train()
    total = 0.0
    batches = torch.randperm(len(train_x)).split(batch_size)
    for idx in tqdm(batches, desc="train", disable=not progress, leave=False):
        loss = -elbo(model, train_x[idx]).mean()  # KL + NLL, each a batch mean
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(train_x)


def train(
    model: VAE,
    data,
    epochs: int = 20,
    lr: float = 3e-4,
    batch_size: int = 64,
    progress: bool = True,
    report: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Train with Adam on data.train_x; after each epoch, the ELBO on data.valid_x if it has one.

    data: anything with train_x (N, 784) and optionally valid_x (M, 784), 0/1 pixels.
    report: called with each epoch's record (e.g. print), as soon as the epoch ends.
    Returns one record per epoch: epoch, train_loss, valid_elbo (or None) and seconds since
    the start of training.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    valid_x = getattr(data, "valid_x", None)
    start, history = time.perf_counter(), []
    for epoch in range(1, epochs + 1):
        loss = train_epoch(model, optimizer, data.train_x, batch_size, progress)
        with torch.random.fork_rng(devices=[]):  # validating leaves training's draws as they are
            valid = None if valid_x is None else average_elbo(model, valid_x)
        seconds = time.perf_counter() - start
        record = {"epoch": epoch, "train_loss": loss, "valid_elbo": valid, "seconds": seconds}
        history.append(record)
        if report is not None:
            report(record)
    return history


def print_epoch(record: dict) -> None:
    """One line per epoch: what train(report=print_epoch) shows."""
    valid = record["valid_elbo"]
    shown = "" if valid is None else f"  validation ELBO {valid:8.2f}"
    print(
        f"epoch {record['epoch']:2d}  train loss {record['train_loss']:8.2f}{shown}"
        f"  ({record['seconds']:.0f} s)",
        flush=True,
    )


# ------------------------------------------------------------------------------ data


@dataclass
class Splits:
    """The fixed binarized MNIST: uint8 0/1 pixels, (50000, 784), (10000, 784), (10000, 784)."""

    train_x: torch.Tensor
    valid_x: torch.Tensor
    test_x: torch.Tensor


def load_splits(root=None, subset: int = 0) -> Splits:
    """Binarized MNIST from coursekit (root: data folder, default $VAECOURSE_DATA).

    subset > 0 keeps only the first `subset` training images, for smoke runs; the validation
    and test sets always stay whole (see evenly_spaced to evaluate on fewer images).
    """
    train_x, valid_x, test_x = (load_binarized_mnist(s, root) for s in ("train", "valid", "test"))
    return Splits(train_x[:subset] if subset > 0 else train_x, valid_x, test_x)


def evenly_spaced(x: torch.Tensor, n: int) -> torch.Tensor:
    """n rows of x (N, 784) taken at even intervals, or all of x when n <= 0 or n >= N.

    The test split is sorted by digit, so its first rows are all zeros: a smoke run that
    evaluates on fewer images takes them spread over the whole split instead.
    """
    if n <= 0 or n >= len(x):
        return x
    return x[:: len(x) // n][:n]
