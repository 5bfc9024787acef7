"""Fully supervised VAE on SVHN: a label y and a latent z generate an image x (bonus problem).

p(z) = N(0, I), p(x | y, z) = N(mu(y, z), 0.1 I) with only the mean learned, and
q(z | x, y) a diagonal Gaussian. Being conditioned on an observed y, it is a conditional VAE:
its ELBO bounds log p(x | y).
"""

import torch
from torch import nn

from codebase import utils as ut
from codebase.models import nns

X_VARIANCE = 0.1  # the fixed variance of every pixel under p(x | y, z)


class FSVAE(nn.Module):
    def __init__(self, nn="v2", name="fsvae"):
        super().__init__()
        self.name = name
        self.z_dim = 10
        self.y_dim = 10
        net = getattr(nns, nn)
        self.enc = net.Encoder(self.z_dim, self.y_dim)
        self.dec = net.Decoder(self.z_dim, self.y_dim)
        # Prior p(z) = N(0, I), stored as fixed parameters so that it moves with the model
        self.z_prior_m = torch.nn.Parameter(torch.zeros(1), requires_grad=False)
        self.z_prior_v = torch.nn.Parameter(torch.ones(1), requires_grad=False)
        self.z_prior = (self.z_prior_m, self.z_prior_v)

    def negative_elbo_bound(self, x, y):
        """Negative ELBO of log p(x | y) for a batch, with one Monte-Carlo sample of z.

        Args:
            x: (batch, 3072) images with values in [0, 1] (continuous, not binarized).
            y: (batch, 10) one-hot labels.

        Returns:
            nelbo, kl_z, rec: 0-dim tensors, each the batch mean of a per-example value:
            kl_z = KL(q(z|x,y) || p(z)) (analytic, ut.kl_normal), rec = -log N(x; mu(y, z),
            0.1 I) summed over the 3072 pixels with z ~ q(z|x,y) (ut.log_normal; the variance
            is X_VARIANCE), and nelbo = kl_z + rec.
        """
        # TODO: write your solution here (see the docstring).
        raise NotImplementedError

    def loss(self, x, y):
        nelbo, kl_z, rec = self.negative_elbo_bound(x, y)
        summaries = {"train/loss": nelbo, "gen/elbo": -nelbo, "gen/kl_z": kl_z, "gen/rec": rec}
        return nelbo, summaries

    def compute_mean_given(self, z, y):
        """mu(y, z): (batch, 3072); clip(mu, 0, 1) is the usual stand-in for a sample."""
        return self.dec(z, y)

    def sample_z(self, batch):
        m, v = self.z_prior_m.expand(batch, self.z_dim), self.z_prior_v.expand(batch, self.z_dim)
        return ut.sample_gaussian(m, v)
