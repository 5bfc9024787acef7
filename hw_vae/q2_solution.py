"""Objectives of Problem 2: variational estimates of the squared Hellinger distance (f-GAN) and
of the Wasserstein-1 distance, and the Lipschitz penalty that keeps a Wasserstein critic
1-Lipschitz.

Notation of Nowozin et al. (f-GAN): x are samples of P, y are samples of Q, and the critic T
is unbounded. Every function returns a tensor of shape (1,): the objective's value, still
attached to the critic's parameters so that a training loop can maximise (or, for the penalty,
minimise) it with backward().
"""

import torch
from q2_model import Critic


def vf_squared_hellinger(x: torch.Tensor, y: torch.Tensor, critic: Critic) -> torch.Tensor:
    """The f-GAN lower bound on the squared Hellinger distance, estimated on one batch.

    For the squared Hellinger divergence f(u) = (sqrt(u) - 1)^2, Nowozin et al. map the
    unbounded critic through the output activation gf(v) = 1 - exp(-v) and use the conjugate
    f*(t) = t / (1 - t). The objective, which the critic maximises, is

        E_P[gf(T(x))] - E_Q[f*(gf(T(y)))],

    with both expectations estimated by batch means.

    Args:
        x: (batch, 2) samples of P.
        y: (batch, 2) samples of Q.
        critic: maps (batch, 2) points to (batch,) real scores T.

    Returns:
        (1,) the estimate, differentiable with respect to the critic's parameters.
    """
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError


def vf_wasserstein_distance(x: torch.Tensor, y: torch.Tensor, critic: Critic) -> torch.Tensor:
    """The Kantorovich-Rubinstein estimate of the Wasserstein-1 distance on one batch.

    E_P[T(x)] - E_Q[T(y)], which the critic maximises (minus the Lipschitz penalty, see
    lp_reg); for a 1-Lipschitz critic it is at most W1(P, Q).

    Args:
        x: (batch, 2) samples of P.
        y: (batch, 2) samples of Q.
        critic: maps (batch, 2) points to (batch,) real scores T.

    Returns:
        (1,) the estimate, differentiable with respect to the critic's parameters.
    """
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError


def lp_reg(x: torch.Tensor, y: torch.Tensor, critic: Critic) -> torch.Tensor:
    """The Lipschitz penalty of Petzka et al., estimated on one batch.

    For each pair (x_i, y_i) draw its own t_i ~ U[0, 1] and take the point
    x_hat_i = t_i x_i + (1 - t_i) y_i on the segment between them; the penalty is

        mean_i relu(||grad T(x_hat_i)||_2 - 1)^2,

    zero wherever the critic's gradient norm is at most 1 (one-sided, unlike WGAN-GP's
    (||grad|| - 1)^2). The gradient is taken with respect to the points x_hat, with
    create_graph=True, so that the penalty itself can be differentiated with respect to the
    critic's parameters and trained through.

    Args:
        x: (batch, 2) samples of P.
        y: (batch, 2) samples of Q.
        critic: maps (batch, 2) points to (batch,) real scores T.

    Returns:
        (1,) the penalty (not yet multiplied by lambda), differentiable with respect to the
        critic's parameters.
    """
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError
