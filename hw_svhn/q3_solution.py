"""Problem 3: the WGAN-LP objectives on SVHN images, and interpolations of a trained generator.

The critic's objective is the one of hw_vae's Problem 2: vf_wasserstein_distance and lp_reg
from q2_solution.py (copy your completed file from hw_vae over the one here). Those functions
take points of shape (batch, D): flatten the images to (batch, 3072) before passing them; the
provided Critic accepts flat points too.
"""

import torch
from q2_solution import lp_reg, vf_wasserstein_distance


def critic_loss(critic, real: torch.Tensor, fake: torch.Tensor, lp_coeff: float) -> torch.Tensor:
    """The loss that the critic minimises: -vf_wasserstein_distance + lp_coeff * lp_reg.

    The critic maximises E_P[T(real)] - E_Q[T(fake)] (P the data, Q the generator) minus the
    Lipschitz penalty on points between real and fake images; this is minus that.

    Args:
        critic: maps (batch, 3, 32, 32) or (batch, 3072) images to (batch,) scores.
        real: (batch, 3, 32, 32) data images in [-1, 1].
        fake: (batch, 3, 32, 32) generated images (the caller detaches them from the
            generator for a critic step).
        lp_coeff: the penalty's weight lambda (10 in the handout).

    Returns:
        (1,) the loss, differentiable with respect to the critic's parameters.
    """
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError


def generator_loss(critic, fake: torch.Tensor) -> torch.Tensor:
    """The loss that the generator minimises: -E_Q[T(fake)], estimated on the batch.

    Only the term of the Wasserstein objective that depends on the generator remains.

    Args:
        critic: maps (batch, 3, 32, 32) images to (batch,) scores.
        fake: (batch, 3, 32, 32) generated images, attached to the generator's graph.

    Returns:
        (1,) the loss, differentiable with respect to fake (and so the generator).
    """
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError


@torch.no_grad()
def interpolations(
    generator, z0: torch.Tensor, z1: torch.Tensor, alphas: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Interpolate between g(z1) (alpha = 0) and g(z0) (alpha = 1), in two ways.

    Latent space: g(alpha z0 + (1 - alpha) z1). Data space: alpha g(z0) + (1 - alpha) g(z1).

    Args:
        generator: maps (batch, z_dim) to (batch, 3, 32, 32); this puts it in eval mode, so
            that batch norm uses its running statistics and each image is made on its own.
        z0, z1: (z_dim,) two latent points.
        alphas: (A,) the weights, e.g. 0, 0.1, ..., 1.

    Returns:
        latent, data: each (A, 3, 32, 32), row a for alphas[a].
    """
    generator.eval()
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError
