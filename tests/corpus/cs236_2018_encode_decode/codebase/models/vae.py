import torch
from codebase import utils as ut
from codebase.models import nns
from torch import nn
from torch.nn import functional as F

class VAE(nn.Module):
    def __init__(self, nn='v1', name='vae', z_dim=2):
        super().__init__()
        self.name = name
        self.z_dim = z_dim
        nn = getattr(nns, nn)
        self.enc = nn.Encoder(self.z_dim)
        self.dec = nn.Decoder(self.z_dim)

        # Set prior as fixed parameter attached to Module
        self.z_prior_m = torch.nn.Parameter(torch.zeros(1), requires_grad=False)
        self.z_prior_v = torch.nn.Parameter(torch.ones(1), requires_grad=False)
        self.z_prior = (self.z_prior_m, self.z_prior_v)

    def negative_elbo_bound(self, x):
        """
        Computes the Evidence Lower Bound, KL and, Reconstruction costs

        Args:
            x: tensor: (batch, dim): Observations

        Returns:
            nelbo: tensor: (): Negative evidence lower bound
            kl: tensor: (): ELBO KL divergence to prior
            rec: tensor: (): ELBO Reconstruction term
        """
        ################################################################################
        # TODO: Modify/complete the code here
        ################################################################################
        qm, qv = self.enc.encode(x)
        z = ut.sample_gaussian(qm, qv)
        logits = self.dec.decode(z)

        rec = -ut.log_bernoulli_with_logits(x, logits)
        rec = torch.mean(rec)

        # prior N(0, I) with the same shape as the posterior
        pm = torch.zeros(qm.shape)
        pv = torch.ones(qv.shape)
        kl = torch.mean(ut.kl_normal(qm, qv, pm, pv))

        nelbo = kl + rec
        ################################################################################
        # End of code modification
        ################################################################################
        return nelbo, kl, rec

    def negative_iwae_bound(self, x, iw):
        """
        Computes the Importance Weighted Autoencoder Bound
        Additionally, we also compute the ELBO KL and reconstruction terms

        Args:
            x: tensor: (batch, dim): Observations
            iw: int: (): Number of importance weighted samples

        Returns:
            niwae: tensor: (): Negative IWAE bound
            kl: tensor: (): ELBO KL divergence to prior
            rec: tensor: (): ELBO Reconstruction term
        """
        ################################################################################
        # TODO: Modify/complete the code here
        ################################################################################
        qm, qv = self.enc.encode(x)
        # iw copies of the batch, one after the other: row j * batch + i is example i
        qm_iw = ut.duplicate(qm, iw)
        qv_iw = ut.duplicate(qv, iw)
        x_iw = ut.duplicate(x, iw)

        z = ut.sample_gaussian(qm_iw, qv_iw)
        log_px = ut.log_bernoulli_with_logits(x_iw, self.dec.decode(z))
        log_pz = ut.log_normal(z, torch.zeros(z.shape), torch.ones(z.shape))
        log_qz = ut.log_normal(z, qm_iw, qv_iw)

        log_w = (log_px + log_pz - log_qz).reshape(iw, -1)
        niwae = -torch.mean(ut.log_mean_exp(log_w, 0))
        kl = torch.mean(log_qz - log_pz)
        rec = -torch.mean(log_px)
        ################################################################################
        # End of code modification
        ################################################################################
        return niwae, kl, rec

    def loss(self, x):
        nelbo, kl, rec = self.negative_elbo_bound(x)
        loss = nelbo

        summaries = dict((
            ('train/loss', nelbo),
            ('gen/elbo', -nelbo),
            ('gen/kl_z', kl),
            ('gen/rec', rec),
        ))

        return loss, summaries

    def sample_sigmoid(self, batch):
        z = self.sample_z(batch)
        return self.compute_sigmoid_given(z)

    def compute_sigmoid_given(self, z):
        logits = self.dec.decode(z)
        return torch.sigmoid(logits)

    def sample_z(self, batch):
        return ut.sample_gaussian(
            self.z_prior[0].expand(batch, self.z_dim),
            self.z_prior[1].expand(batch, self.z_dim))

    def sample_x(self, batch):
        z = self.sample_z(batch)
        return self.sample_x_given(z)

    def sample_x_given(self, z):
        return torch.bernoulli(self.compute_sigmoid_given(z))
