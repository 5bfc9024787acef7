"""Likelihood and KL helpers of Problem 1: the building blocks of the VAE's loss and of the
importance-sampled log-likelihood.

Conventions (the grader relies on them):
- every function flattens its inputs to (batch, D) first, so images of shape (batch, 1, 28, 28)
  work as they are, and returns one value per example, shape (batch,), summed over the D
  features; nothing is averaged over the batch;
- a Bernoulli is given by its PROBABILITIES mu = p(x = 1), not by logits;
- a diagonal Gaussian is given by its mean and its LOG-VARIANCE log(sigma^2).
"""

import math

import torch

LOG_2PI = math.log(2 * math.pi)


def log_likelihood_bernoulli(mu: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """log p(target) under independent Bernoullis with probabilities mu, one value per example.

    Args:
        mu: (batch, ...) probabilities p(x = 1), in [0, 1]. Entries may be exactly 0 or 1 (a
            sigmoid saturates in float32): where the target agrees with them, the pixel's
            log-likelihood is log 1 = 0, and the result must stay finite there. Clamping mu
            into [eps, 1 - eps] with a tiny eps (such as 1e-7) does that.
        target: (batch, ...) binary values (0. or 1.), the same number of entries per example.

    Returns:
        (batch,) sum over features of target * log(mu) + (1 - target) * log(1 - mu).
    """
    batch_size = mu.size(0)
    mu = mu.reshape(batch_size, -1)  # (batch, D)
    target = target.reshape(batch_size, -1)  # (batch, D)
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError


def log_likelihood_normal(mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))), one value per example.

    Args:
        mu: (batch, ...) means.
        logvar: (batch, ...) log-variances log(sigma^2), any real value.
        z: (batch, ...) points at which the density is evaluated.

    Returns:
        (batch,) sum over features of -1/2 [log(2 pi) + logvar + (z - mu)^2 / exp(logvar)].
    """
    batch_size = mu.size(0)
    mu = mu.reshape(batch_size, -1)  # (batch, D)
    logvar = logvar.reshape(batch_size, -1)  # (batch, D)
    z = z.reshape(batch_size, -1)  # (batch, D)
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError


def log_mean_exp(y: torch.Tensor) -> torch.Tensor:
    """log (1/K) sum_k exp(y[i, k]) for every row i, without overflow or underflow.

    With a_i = max_k y[i, k], compute log (1/K) sum_k exp(y[i, k] - a_i) + a_i: every
    exponent is <= 0 and the largest is exactly 0, so the sum lies in [1, K].

    Args:
        y: (batch, K) values, e.g. K log importance weights per example.

    Returns:
        (batch,) the log of the mean of exp(y) over the K values of each row.
    """
    batch_size = y.size(0)
    y = y.reshape(batch_size, -1)  # (batch, K)
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError


def kl_gaussian_gaussian_analytic(
    mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor, logvar_p: torch.Tensor
) -> torch.Tensor:
    """KL(q || p) between diagonal Gaussians, in closed form, one value per example.

    Args:
        mu_q, logvar_q: (batch, dim) mean and log-variance of q.
        mu_p, logvar_p: (batch, dim) mean and log-variance of p.

    Returns:
        (batch,) sum over dimensions of
        1/2 [logvar_p - logvar_q + (exp(logvar_q) + (mu_q - mu_p)^2) / exp(logvar_p) - 1].
    """
    batch_size = mu_q.size(0)
    mu_q = mu_q.reshape(batch_size, -1)  # (batch, dim)
    logvar_q = logvar_q.reshape(batch_size, -1)  # (batch, dim)
    mu_p = mu_p.reshape(batch_size, -1)  # (batch, dim)
    logvar_p = logvar_p.reshape(batch_size, -1)  # (batch, dim)
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError


def kl_gaussian_gaussian_mc(
    mu_q: torch.Tensor,
    logvar_q: torch.Tensor,
    mu_p: torch.Tensor,
    logvar_p: torch.Tensor,
    num_samples: int = 1,
) -> torch.Tensor:
    """Monte-Carlo estimate of KL(q || p) between diagonal Gaussians, one value per example.

    Draw num_samples independent z ~ q for every example and average log q(z) - log p(z) over
    them. The estimate is random: each call draws fresh samples, its expectation is the exact
    KL, and its variance shrinks as 1 / num_samples.

    Args:
        mu_q, logvar_q: (batch, dim) mean and log-variance of q.
        mu_p, logvar_p: (batch, dim) mean and log-variance of p.
        num_samples: samples per example.

    Returns:
        (batch,) the average over the samples of sum over dimensions of log q(z) - log p(z).
    """
    batch_size = mu_q.size(0)
    # (batch, num_samples, dim) each: every sample of an example sees the same parameters
    mu_q = mu_q.reshape(batch_size, 1, -1).expand(-1, num_samples, -1)
    logvar_q = logvar_q.reshape(batch_size, 1, -1).expand(-1, num_samples, -1)
    mu_p = mu_p.reshape(batch_size, 1, -1).expand(-1, num_samples, -1)
    logvar_p = logvar_p.reshape(batch_size, 1, -1).expand(-1, num_samples, -1)
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError
