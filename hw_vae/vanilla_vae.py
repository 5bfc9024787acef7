"""Part 3 (provided): the vanilla VAE of Kingma & Welling on MNIST, as the handout's eqs. (2)-(6).

Prior p(z) = N(0, I_k) (eq. 2); encoder q(z|x) = N(mu, diag sigma^2) computed by eq. (4), one
tanh hidden layer; decoder a product of 784 Bernoullis whose probabilities come from one tanh
hidden layer (Kingma & Welling, Appendix C.1); ELBO estimated by eq. (6) with r samples.
Pixels are binary: each gray level g in [0, 1] becomes a pixel that is on with probability g.

Shapes: x: (batch, 784) with 0/1 values; z: (batch, k).
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from coursekit.data import load_mnist

PIXELS = 784


class Encoder(nn.Module):
    """Eq. (4): h = tanh(W_q x + b_q), mu = W_mu h + b_mu, log sigma^2 = W_sigma h + b_sigma."""

    def __init__(self, k: int, hidden: int = 500):
        super().__init__()
        self.q = nn.Linear(PIXELS, hidden)  # W_q, b_q
        self.mu = nn.Linear(hidden, k)  # W_mu, b_mu
        self.sigma = nn.Linear(hidden, k)  # W_sigma, b_sigma (of log sigma^2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (batch, 784) -> mu, log sigma^2: (batch, k) each."""
        h = torch.tanh(self.q(x))  # (batch, hidden)
        return self.mu(h), self.sigma(h)


class BernoulliDecoder(nn.Module):
    """p(x|z) = prod_d Bernoulli(x_d; y_d), y = sigmoid(W_y tanh(W_h z + b_h) + b_y)."""

    def __init__(self, k: int, hidden: int = 500):
        super().__init__()
        self.h = nn.Linear(k, hidden)
        self.y = nn.Linear(hidden, PIXELS)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: (..., k) -> the logits of y, (..., 784)."""
        return self.y(torch.tanh(self.h(z)))


class VanillaVAE(nn.Module):
    """The encoder of eq. (4) and a Bernoulli MLP decoder, latent size k."""

    def __init__(self, k: int, hidden: int = 500):
        super().__init__()
        self.k = k
        self.encoder = Encoder(k, hidden)
        self.decoder = BernoulliDecoder(k, hidden)

    def elbo_terms(self, x: torch.Tensor, r: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """The two terms of eq. (6) per image: reconstruction and KL, each (batch,).

        reconstruction = 1/r sum_l log p(x | z_l), z_l = g(eps_l, x) = mu + sigma * eps_l with
        eps_l ~ N(0, I_k); KL = KL(q(z|x) || N(0, I_k)) in closed form. ELBO = rec - KL.
        """
        mu, logvar = self.encoder(x)  # (batch, k) each
        # closed form for a diagonal Gaussian against N(0, I): Kingma & Welling, Appendix B
        kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(-1)  # (batch,)
        eps = torch.randn(x.shape[0], r, self.k, device=x.device)  # (batch, r, k)
        z = mu[:, None] + torch.exp(0.5 * logvar)[:, None] * eps  # (batch, r, k)
        logits = self.decoder(z)  # (batch, r, 784)
        target = x[:, None].expand_as(logits)
        log_px_z = -F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        return log_px_z.sum(-1).mean(-1), kl

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        """n images from the model: z ~ N(0, I_k), then the decoder's probabilities, (n, 784)."""
        z = torch.randn(n, self.k)  # (n, k)
        return torch.sigmoid(self.decoder(z))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Encode x (batch, 784) to the mean of q(z|x) and decode it: probabilities (batch, 784)."""
        mu, _ = self.encoder(x)
        return torch.sigmoid(self.decoder(mu))


@torch.no_grad()
def evaluate(model: VanillaVAE, x: torch.Tensor, r: int = 1, batch_size: int = 1000) -> dict:
    """Reconstruction term, KL term and ELBO of eq. (6), each averaged over the images of x."""
    model.eval()
    rec = kl = 0.0
    for xb in x.split(batch_size):
        rec_b, kl_b = model.elbo_terms(xb, r)
        rec, kl = rec + rec_b.sum().item(), kl + kl_b.sum().item()
    rec, kl = rec / len(x), kl / len(x)
    return {"reconstruction": rec, "kl": kl, "elbo": rec - kl}


@dataclass
class MnistSplits:
    """MNIST for Part 3: gray training images, binarized validation and test images (N, 784)."""

    train_gray: torch.Tensor  # (50000, 784) in [0, 1]; binarized afresh for every batch
    valid_x: torch.Tensor  # (10000, 784) 0/1, binarized once
    test_x: torch.Tensor  # (10000, 784) 0/1, binarized once


def load_splits(root=None, valid: int = 10000, seed: int = 0) -> MnistSplits:
    """MNIST from coursekit's IDX loader: the last `valid` training images validate.

    Validation and test pixels are drawn once, with a generator seeded by `seed`, so that
    every evaluation sees the same binary images.
    """
    train, _ = load_mnist("train", root)
    test, _ = load_mnist("test", root)
    gray = train.reshape(len(train), PIXELS).float() / 255  # (60000, 784)
    test_gray = test.reshape(len(test), PIXELS).float() / 255  # (10000, 784)
    gen = torch.Generator().manual_seed(seed)
    valid_x = torch.bernoulli(gray[-valid:], generator=gen)
    return MnistSplits(gray[:-valid], valid_x, torch.bernoulli(test_gray, generator=gen))
