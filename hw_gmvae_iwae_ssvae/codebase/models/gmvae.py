"""VAE whose prior is a uniform mixture of k trainable Gaussians (problems 2 and 3.4)."""

import numpy as np
import torch
from torch import nn

from codebase import utils as ut
from codebase.models import nns


class GMVAE(nn.Module):
    def __init__(self, nn="v1", z_dim=2, k=500, name="gmvae"):
        super().__init__()
        self.name = name
        self.k = k
        self.z_dim = z_dim
        net = getattr(nns, nn)
        self.enc = net.Encoder(self.z_dim)
        self.dec = net.Decoder(self.z_dim)
        # Mixture of Gaussians prior: k means and k pre-softplus variances, (1, 2k, z_dim)
        self.z_pre = torch.nn.Parameter(
            torch.randn(1, 2 * self.k, self.z_dim) / np.sqrt(self.k * self.z_dim)
        )
        # Uniform weighting
        self.pi = torch.nn.Parameter(torch.ones(k) / k, requires_grad=False)

    def prior(self):
        """Means and variances of the mixture components, each (1, k, z_dim)."""
        return ut.gaussian_parameters(self.z_pre, dim=1)

    def negative_elbo_bound(self, x):
        """Negative ELBO of a batch, with one Monte-Carlo sample of z per example.

        Args:
            x: (batch, 784) binary images.

        Returns:
            nelbo, kl, rec: 0-dim batch means. The KL term against the mixture prior has no
            closed form: estimate it with the same sample, log q(z|x) - log p(z).
            The prior's parameters are ut.gaussian_parameters(self.z_pre, dim=1).
        """
        # TODO: write your solution here (see the docstring).
        raise NotImplementedError

    def negative_iwae_bound(self, x, iw):
        """Negative IWAE bound of a batch with `iw` importance samples per example.

        Args:
            x: (batch, 784) binary images.
            iw: number of samples z_1..z_iw ~ q(z|x) per example.

        Returns:
            niwae, kl, rec: 0-dim tensors, as in VAE.negative_iwae_bound but with the mixture
            prior.
        """
        # TODO: write your solution here (see the docstring).
        raise NotImplementedError

    def loss(self, x):
        nelbo, kl, rec = self.negative_elbo_bound(x)
        summaries = {"train/loss": nelbo, "gen/elbo": -nelbo, "gen/kl_z": kl, "gen/rec": rec}
        return nelbo, summaries

    def sample_sigmoid(self, batch):
        return self.compute_sigmoid_given(self.sample_z(batch))

    def compute_sigmoid_given(self, z):
        return torch.sigmoid(self.dec(z))

    def sample_z(self, batch):
        m, v = self.prior()  # (1, k, z_dim) each
        idx = torch.multinomial(self.pi, batch, replacement=True)
        return ut.sample_gaussian(m[0, idx], v[0, idx])

    def sample_x(self, batch):
        return self.sample_x_given(self.sample_z(batch))

    def sample_x_given(self, z):
        return torch.bernoulli(self.compute_sigmoid_given(z))
