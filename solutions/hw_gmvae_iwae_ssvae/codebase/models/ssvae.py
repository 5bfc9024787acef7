"""Semi-supervised VAE: a label y and a latent z generate x (problem 4)."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from codebase import utils as ut
from codebase.models import nns


class SSVAE(nn.Module):
    def __init__(self, nn="v1", name="ssvae", gen_weight=1, class_weight=100):
        super().__init__()
        self.name = name
        self.z_dim = 64
        self.y_dim = 10
        self.gen_weight = gen_weight
        self.class_weight = class_weight
        net = getattr(nns, nn)
        self.enc = net.Encoder(self.z_dim, self.y_dim)
        self.dec = net.Decoder(self.z_dim, self.y_dim)
        self.cls = net.Classifier(self.y_dim)
        # Prior p(z) = N(0, I), stored as fixed parameters so that it moves with the model
        self.z_prior_m = torch.nn.Parameter(torch.zeros(1), requires_grad=False)
        self.z_prior_v = torch.nn.Parameter(torch.ones(1), requires_grad=False)
        self.z_prior = (self.z_prior_m, self.z_prior_v)

    def negative_elbo_bound(self, x):
        """Negative ELBO of unlabelled images, summing over the 10 labels exactly.

        Args:
            x: (batch, 784) binary images.

        Returns:
            nelbo, kl_z, kl_y, rec: 0-dim batch means (note the order: kl_z before kl_y), with
            kl_y = KL(q(y|x) || uniform), kl_z = E_q(y|x) KL(q(z|x,y) || p(z)) and
            rec = E_q(y|x) [-log p(x|z,y)] using one z ~ q(z|x,y) for each (x, y) pair;
            nelbo = kl_z + kl_y + rec. Use ut.kl_cat and ut.kl_normal.
        """
        # BEGIN SOLUTION
        y_logprob = F.log_softmax(self.cls(x), dim=1)  # (batch, 10)
        y_prob = y_logprob.exp()
        kl_y = ut.kl_cat(y_prob, y_logprob, np.log(1.0 / self.y_dim))  # (batch,)

        # Every (x, y) pair, label-major: row j * batch + i holds image i with label j
        batch = x.size(0)
        y = torch.eye(self.y_dim, device=x.device).repeat_interleave(batch, dim=0)  # (10b, 10)
        xs = ut.duplicate(x, self.y_dim)  # (10 * batch, 784)
        m, v = self.enc(xs, y)  # (10 * batch, z_dim) each
        z = ut.sample_gaussian(m, v)
        kl_z_pairs = ut.kl_normal(m, v, self.z_prior_m.expand_as(m), self.z_prior_v.expand_as(v))
        rec_pairs = -ut.log_bernoulli_with_logits(xs, self.dec(z, y))  # (10 * batch,)

        weights = y_prob.t()  # (10, batch): q(y = j | x_i) at [j, i]
        kl_z = (weights * kl_z_pairs.reshape(self.y_dim, batch)).sum(0)  # (batch,)
        rec = (weights * rec_pairs.reshape(self.y_dim, batch)).sum(0)  # (batch,)
        nelbo = kl_z + kl_y + rec
        return nelbo.mean(), kl_z.mean(), kl_y.mean(), rec.mean()
        # END SOLUTION

    def classification_cross_entropy(self, x, y):
        """Cross-entropy of the classifier on labelled images x with one-hot labels y."""
        return F.cross_entropy(self.cls(x), y.argmax(1))

    def loss(self, x, xl, yl):
        if self.gen_weight > 0:
            nelbo, kl_z, kl_y, rec = self.negative_elbo_bound(x)
        else:
            nelbo = kl_z = kl_y = rec = torch.zeros((), device=x.device)
        ce = self.classification_cross_entropy(xl, yl)
        loss = self.gen_weight * nelbo + self.class_weight * ce
        summaries = {
            "train/loss": loss,
            "class/ce": ce,
            "gen/elbo": -nelbo,
            "gen/kl_z": kl_z,
            "gen/kl_y": kl_y,
            "gen/rec": rec,
        }
        return loss, summaries

    def compute_sigmoid_given(self, z, y):
        return torch.sigmoid(self.dec(z, y))

    def sample_z(self, batch):
        m, v = self.z_prior_m.expand(batch, self.z_dim), self.z_prior_v.expand(batch, self.z_dim)
        return ut.sample_gaussian(m, v)

    def sample_x_given(self, z, y):
        return torch.bernoulli(self.compute_sigmoid_given(z, y))
