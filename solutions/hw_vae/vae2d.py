"""Part 5: VAEs on two-dimensional data: the three data sets, the two Gaussian decoders' log-
likelihoods, and the model's bounds (ELBO and IWAE) in bits per dimension.

The model: prior p(z) = N(0, I) on a 2-D z; posterior q(z|x) = N(mu(x), diag exp(log_var(x)))
(the encoder gives LOG-VARIANCES); decoder p(x|z) = N(mu(z), Sigma(z)) with either
- "diagonal": Sigma(z) = diag exp(log_var(z)), one variance per coordinate of x, or
- "scalar": Sigma(z) = exp(log_var(z)) I, one variance shared by every coordinate.
Bits per dimension: a value in nats divided by D ln 2, with D = 2 the dimension of x (the data
are real numbers, so there is no dequantization term).
"""

import math

import numpy as np
import torch
from torch import nn

LOG_2PI = math.log(2 * math.pi)
DECODERS = ("diagonal", "scalar")

# ----------------------------------------------------------------------------------- data sets


def sample_data_1(count: int = 100000) -> np.ndarray:
    """Data set 1: (count, 2) points (1, 2) + (5 e_1, e_2), e ~ N(0, I), from seed 0."""
    rng = np.random.RandomState(0)
    return np.array([[1.0, 2.0]]) + rng.randn(count, 2) * np.array([[5.0, 1.0]])


def sample_data_2(count: int = 100000) -> np.ndarray:
    """Data set 2: data set 1 with its noise turned by 45 degrees (anticlockwise) about (1, 2),
    so that the two coordinates are correlated. (count, 2), seed 0."""
    rng = np.random.RandomState(0)
    noise = rng.randn(count, 2) * np.array([[5.0, 1.0]])  # (count, 2)
    c = math.sqrt(0.5)
    rotation = np.array([[c, -c], [c, c]])
    return np.array([[1.0, 2.0]]) + noise @ rotation.T


def sample_data_3(count: int = 100000) -> tuple[np.ndarray, np.ndarray]:
    """Data set 3 (Part B): count // 3 points per cluster, shuffled, seed 0.

    Label 0: a Gaussian blob at (-1.5, 2.5), label 1: one at (1.5, 2.5), both of std 0.2;
    label 2: the lower half of an ellipse, (2 cos t, -sin t) for t evenly spaced in [0, pi],
    plus N(0, 0.2^2) noise. The points are drawn in that order, then permuted.

    Returns:
        x: (3 (count // 3), 2) points; y: (3 (count // 3),) labels in {0, 1, 2}.
    """
    rng = np.random.RandomState(0)
    n = count // 3
    blob_a = np.array([[-1.5, 2.5]]) + rng.randn(n, 2) * 0.2
    blob_b = np.array([[1.5, 2.5]]) + rng.randn(n, 2) * 0.2
    t = np.linspace(0, np.pi, n)
    arc = np.stack([2 * np.cos(t), -np.sin(t)], axis=1) + rng.randn(n, 2) * 0.2
    x = np.concatenate([blob_a, blob_b, arc])
    y = np.repeat(np.arange(3), n)
    perm = rng.permutation(len(x))
    return x[perm], y[perm]


# ------------------------------------------------------------------------ decoder likelihoods


def log_prob_diagonal(x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log N(x; mu, diag exp(log_var)): one variance per coordinate, one value per example.

    Args:
        x: (batch, D) points.
        mu: (batch, D) means.
        log_var: (batch, D) log-variances log(sigma_d^2), any real value.

    Returns:
        (batch,) sum over d of -1/2 [log(2 pi) + log_var_d + (x_d - mu_d)^2 / exp(log_var_d)].
    """
    # BEGIN SOLUTION
    per_dim = -0.5 * (LOG_2PI + log_var + (x - mu).pow(2) * torch.exp(-log_var))  # (batch, D)
    return per_dim.sum(-1)
    # END SOLUTION


def log_prob_scalar(x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log N(x; mu, exp(log_var) I): ONE variance shared by the D coordinates of an example.

    Args:
        x: (batch, D) points.
        mu: (batch, D) means.
        log_var: (batch, 1) the log of the shared variance sigma^2 of each example.

    Returns:
        (batch,) -D/2 [log(2 pi) + log_var] - ||x - mu||^2 / (2 exp(log_var)).
    """
    # BEGIN SOLUTION
    dims = x.shape[-1]
    log_var = log_var.squeeze(-1)  # (batch,)
    squared = (x - mu).pow(2).sum(-1)  # (batch,) ||x - mu||^2
    return -0.5 * (dims * (LOG_2PI + log_var) + squared * torch.exp(-log_var))
    # END SOLUTION


# ------------------------------------------------------------------------------------- model


def mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    """Linear-ReLU-Linear-ReLU-Linear."""
    return nn.Sequential(
        nn.Linear(n_in, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, n_out),
    )


class VAE2D(nn.Module):
    """A VAE for points x in R^data_dim with a latent z in R^latent_dim and a Gaussian decoder.

    Args:
        decoder: "diagonal" (one variance per coordinate of x) or "scalar" (one shared variance).
        hidden: width of the two hidden layers of the encoder and of the decoder.
        latent_dim: dimension of z (2 in the handout).
        data_dim: dimension of x (2 in the handout).
    """

    def __init__(
        self, decoder: str = "diagonal", hidden: int = 128, latent_dim: int = 2, data_dim: int = 2
    ):
        super().__init__()
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
        self.decoder_kind, self.latent_dim, self.data_dim = decoder, latent_dim, data_dim
        self.encoder = mlp(data_dim, hidden, 2 * latent_dim)  # mean and log-variance of q(z|x)
        variances = data_dim if decoder == "diagonal" else 1
        self.decoder = mlp(latent_dim, hidden, data_dim + variances)  # mean and log-variance(s)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (batch, data_dim) -> mu, log_var of q(z|x), each (batch, latent_dim)."""
        mu, log_var = self.encoder(x).chunk(2, dim=-1)
        return mu, log_var

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z: (batch, latent_dim) -> mu (batch, data_dim) and log_var of p(x|z): (batch, data_dim)
        for the diagonal decoder, (batch, 1) for the scalar one."""
        out = self.decoder(z)
        return out[..., : self.data_dim], out[..., self.data_dim :]

    def decoder_log_prob(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x|z) with this model's decoder: x (batch, data_dim), z (batch, latent_dim) ->
        (batch,), computed by log_prob_diagonal or log_prob_scalar."""
        mu, log_var = self.decode(z)
        if self.decoder_kind == "diagonal":
            return log_prob_diagonal(x, mu, log_var)
        return log_prob_scalar(x, mu, log_var)

    def loss(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The negative ELBO of a batch and its two terms, in bits per dimension.

        For every example, draw ONE z ~ q(z|x) by the reparameterization z = mu + sigma * eps
        (so that gradients reach the encoder), then
        - rec = -log p(x|z), the decoder term (use self.decoder_log_prob);
        - kl = KL(q(z|x) || N(0, I)) in closed form, summed over the latent dimensions;
        - nelbo = rec + kl.
        Each is converted from nats to bits per dimension (divided by D ln 2, D = data_dim) and
        averaged over the batch.

        Args:
            x: (batch, data_dim) points.

        Returns:
            (nelbo, kl, rec): three 0-dim tensors in bits per dimension, batch means, with
            nelbo = kl + rec; nelbo is differentiable with respect to every parameter.
        """
        # BEGIN SOLUTION
        mu, log_var = self.encode(x)  # (batch, latent_dim) each
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)  # reparameterized
        rec = -self.decoder_log_prob(x, z)  # (batch,) nats
        # KL(N(m, v) || N(0, 1)) = (m^2 + v - 1 - log v) / 2 per latent dimension
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(-1)  # (batch,) nats
        to_bits = 1 / (x.shape[-1] * math.log(2))
        return (rec + kl).mean() * to_bits, kl.mean() * to_bits, rec.mean() * to_bits
        # END SOLUTION

    def iwae_loss(self, x: torch.Tensor, num_samples: int) -> torch.Tensor:
        """The negative importance-weighted bound (IWAE) of every example, in bits per dimension.

        With z_1 .. z_m drawn independently from q(z|x) (m = num_samples, fresh for every
        example) and log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x), the bound is
        log (1/m) sum_k w_k <= log p(x), computed stably from the log w_k (never exp of a
        large negative number on its own). For m = 1 it is the ELBO; its expectation rises
        with m towards log p(x).

        Args:
            x: (batch, data_dim) points.
            num_samples: m, the number of samples per example.

        Returns:
            (batch,) minus the bound, divided by D ln 2 (D = data_dim): bits per dimension.
        """
        # BEGIN SOLUTION
        mu, log_var = self.encode(x)  # (batch, latent_dim) each
        m, (batch, latent) = num_samples, mu.shape
        eps = torch.randn(m, batch, latent, dtype=mu.dtype, device=mu.device)
        z = mu + torch.exp(0.5 * log_var) * eps  # (m, batch, latent)
        x_rep = x.expand(m, *x.shape).reshape(m * batch, -1)  # (m batch, data_dim)
        log_px = self.decoder_log_prob(x_rep, z.reshape(m * batch, latent)).reshape(m, batch)
        log_pz = (-0.5 * (LOG_2PI + z.pow(2))).sum(-1)  # (m, batch) log N(z; 0, I)
        log_qz = (-0.5 * (LOG_2PI + log_var + eps.pow(2))).sum(-1)  # (m, batch) log q(z|x)
        bound = torch.logsumexp(log_px + log_pz - log_qz, dim=0) - math.log(m)  # (batch,)
        return -bound / (x.shape[-1] * math.log(2))
        # END SOLUTION

    @torch.no_grad()
    def sample(self, n: int, noise: bool = True) -> torch.Tensor:
        """(n, data_dim) points: z ~ N(0, I), then x ~ p(x|z) (noise) or x = mu(z) (no noise)."""
        z = torch.randn(n, self.latent_dim, device=next(self.parameters()).device)
        mu, log_var = self.decode(z)
        if not noise:
            return mu
        return mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)  # (n, 1) broadcasts
