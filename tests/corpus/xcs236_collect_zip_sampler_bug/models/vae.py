import torch
from torch import nn
import os
script_directory = os.path.dirname(os.path.abspath(__file__))

if 'solution' in script_directory:
    from solution import utils as ut
    from solution.models import nns
else:
    from submission import utils as ut
    from submission.models import nns

class VAE(nn.Module):
    def __init__(self, nn='v1', name='vae', z_dim=2):
        super().__init__()
        self.name = name
        self.z_dim = z_dim
        nn = getattr(nns, nn)
        self.enc = nn.Encoder(self.z_dim) # from ./nns/v1.py
        self.dec = nn.Decoder(self.z_dim) # from ./nns/v1.py

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
        # Outputs should all be tensor scalars
        ################################################################################
        ### START CODE HERE ###
        q_m, q_v = self.enc(x)
        z = ut.sample_gaussian(q_m, q_v)
        rec = -ut.log_bernoulli_with_logits(x, self.dec(z)).mean()
        p_m = self.z_prior_m.to(q_m.device).expand(q_m.shape)
        p_v = self.z_prior_v.to(q_v.device).expand(q_v.shape)
        kl = ut.kl_normal(q_m, q_v, p_m, p_v).mean()
        nelbo = kl + rec
        return nelbo, kl, rec
        ### END CODE HERE ###
        ################################################################################
        # End of code modification
        ################################################################################
        raise NotImplementedError

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
        # Outputs should all be tensor scalars
        ################################################################################
        ### START CODE HERE ###
        x_dup = ut.duplicate(x, iw) # (iw * batch, dim), copy-major
        q_m, q_v = self.enc(x_dup)
        z = ut.sample_gaussian(q_m, q_v)
        log_p_x_given_z = ut.log_bernoulli_with_logits(x_dup, self.dec(z))
        p_m = self.z_prior_m.to(z.device).expand(z.shape)
        p_v = self.z_prior_v.to(z.device).expand(z.shape)
        log_p_z = ut.log_normal(z, p_m, p_v)
        log_q_z = ut.log_normal(z, q_m, q_v)
        log_ratio = (log_p_x_given_z + log_p_z - log_q_z).view(iw, -1) # (iw, batch)
        niwae = -torch.mean(ut.log_mean_exp(log_ratio, 0))
        kl = torch.mean(log_q_z - log_p_z)
        rec = -torch.mean(log_p_x_given_z)
        return niwae, kl, rec
        ### END CODE HERE ###
        ################################################################################
        # End of code modification
        ################################################################################
        raise NotImplementedError

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
        logits = self.dec(z)
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
