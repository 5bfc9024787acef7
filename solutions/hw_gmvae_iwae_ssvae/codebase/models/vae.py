"""VAE with a standard normal prior and a Bernoulli decoder (problems 1 and 3)."""

import torch
from torch import nn

from codebase import utils as ut
from codebase.models import nns


class VAE(nn.Module):
    def __init__(self, nn="v1", name="vae", z_dim=2):
        super().__init__()
        self.name = name
        self.z_dim = z_dim
        net = getattr(nns, nn)
        self.enc = net.Encoder(self.z_dim)
        self.dec = net.Decoder(self.z_dim)
        # Prior p(z) = N(0, I), stored as fixed parameters so that it moves with the model
        self.z_prior_m = torch.nn.Parameter(torch.zeros(1), requires_grad=False)
        self.z_prior_v = torch.nn.Parameter(torch.ones(1), requires_grad=False)
        self.z_prior = (self.z_prior_m, self.z_prior_v)

    def negative_elbo_bound(self, x):
        """Negative ELBO of a batch, with one Monte-Carlo sample of z per example.

        Args:
            x: (batch, 784) binary images.

        Returns:
            nelbo, kl, rec: 0-dim tensors, each the batch mean of a per-example value:
            kl = KL(q(z|x) || p(z)) (analytic, see ut.kl_normal), rec = -log p(x|z) with
            z ~ q(z|x), and nelbo = kl + rec.
        """
        # BEGIN SOLUTION
        m, v = self.enc(x)  # (batch, z_dim) each
        z = ut.sample_gaussian(m, v)  # (batch, z_dim)
        rec = -ut.log_bernoulli_with_logits(x, self.dec(z))  # (batch,)
        pm, pv = self.z_prior_m.expand_as(m), self.z_prior_v.expand_as(v)
        kl = ut.kl_normal(m, v, pm, pv)  # (batch,)
        nelbo = kl + rec
        return nelbo.mean(), kl.mean(), rec.mean()
        # END SOLUTION

    def negative_iwae_bound(self, x, iw):
        """Negative IWAE bound of a batch with `iw` importance samples per example.

        Args:
            x: (batch, 784) binary images.
            iw: number of samples z_1..z_iw ~ q(z|x) per example.

        Returns:
            niwae, kl, rec: 0-dim tensors. niwae is the batch mean of
            -log (1/iw) sum_i p(x, z_i) / q(z_i | x) (use ut.log_mean_exp); kl and rec are the
            means over samples and batch of log q(z|x) - log p(z) and of -log p(x|z).
        """
        # BEGIN SOLUTION
        m, v = self.enc(x)
        m, v, xs = ut.duplicate(m, iw), ut.duplicate(v, iw), ut.duplicate(x, iw)  # (iw*batch, .)
        z = ut.sample_gaussian(m, v)  # (iw * batch, z_dim)
        log_px_z = ut.log_bernoulli_with_logits(xs, self.dec(z))  # (iw * batch,)
        log_pz = ut.log_normal(z, self.z_prior_m.expand_as(z), self.z_prior_v.expand_as(z))
        log_qz = ut.log_normal(z, m, v)
        log_w = (log_px_z + log_pz - log_qz).reshape(iw, -1)  # (iw, batch), copy-major
        niwae = -ut.log_mean_exp(log_w, dim=0).mean()
        return niwae, (log_qz - log_pz).mean(), -log_px_z.mean()
        # END SOLUTION

    def loss(self, x):
        nelbo, kl, rec = self.negative_elbo_bound(x)
        summaries = {"train/loss": nelbo, "gen/elbo": -nelbo, "gen/kl_z": kl, "gen/rec": rec}
        return nelbo, summaries

    def sample_sigmoid(self, batch):
        return self.compute_sigmoid_given(self.sample_z(batch))

    def compute_sigmoid_given(self, z):
        return torch.sigmoid(self.dec(z))

    def sample_z(self, batch):
        m, v = self.z_prior_m.expand(batch, self.z_dim), self.z_prior_v.expand(batch, self.z_dim)
        return ut.sample_gaussian(m, v)

    def sample_x(self, batch):
        return self.sample_x_given(self.sample_z(batch))

    def sample_x_given(self, z):
        return torch.bernoulli(self.compute_sigmoid_given(z))
