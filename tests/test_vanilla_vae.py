"""hw_vae's Problem 3: the vanilla VAE (vanilla_vae.py) and its run script's --dry-run."""

import json
import os
from pathlib import Path

import pytest
import torch
from dry_runs import run_dry
from torch.distributions import Bernoulli, Normal, kl_divergence

from grader import reference

REPO = Path(__file__).resolve().parent.parent
HW = REPO / "solutions" / "hw_vae"


@pytest.fixture(scope="module")
def vv():
    (module,) = reference.load("hw_vae", "vanilla_vae")
    return module


def test_encoder_is_equation_4(vv):
    """Is the encoder h = tanh(W_q x + b_q), mu = W_mu h + b_mu, log s^2 = W_s h + b_s?"""
    torch.manual_seed(0)
    enc, x = vv.Encoder(k=3, hidden=8), torch.rand(5, 784).round()
    h = torch.tanh(x @ enc.q.weight.T + enc.q.bias)
    mu, logvar = enc(x)
    torch.testing.assert_close(mu, h @ enc.mu.weight.T + enc.mu.bias)
    torch.testing.assert_close(logvar, h @ enc.sigma.weight.T + enc.sigma.bias)
    assert sum(p.numel() for p in enc.parameters()) == 784 * 8 + 8 + 2 * (8 * 3 + 3)


def test_elbo_terms_are_equation_6(vv):
    """With r samples, are the terms the mean of log p(x|z_l) and the closed-form KL?"""
    torch.manual_seed(1)
    model, x, r = vv.VanillaVAE(k=3, hidden=16), torch.rand(4, 784).round(), 6
    torch.manual_seed(2)
    rec, kl = model.elbo_terms(x, r)
    assert rec.shape == kl.shape == (4,)
    torch.manual_seed(2)
    mu, logvar = model.encoder(x)
    q = Normal(mu, (0.5 * logvar).exp())
    z = mu[:, None] + q.scale[:, None] * torch.randn(4, r, 3)  # g(eps, x), eps ~ N(0, I)
    expected_rec = Bernoulli(logits=model.decoder(z)).log_prob(x[:, None]).sum(-1).mean(1)
    expected_kl = kl_divergence(q, Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(rec, expected_rec, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(kl, expected_kl, rtol=1e-5, atol=1e-5)


def test_samples_and_reconstructions_are_probabilities(vv):
    """Do sample(n) and reconstruct(x) give (n, 784) pixel probabilities?"""
    model = vv.VanillaVAE(k=20, hidden=16)
    for images in (model.sample(7), model.reconstruct(torch.rand(7, 784).round())):
        assert images.shape == (7, 784) and 0 <= images.min() and images.max() <= 1


def test_run_script_dry_run(tmp_path, data_root):
    """Does `run_vanilla_vae.py --dry-run` train k = 3 and 20, print the terms and save its
    outputs in samples/vanilla_vae_dryrun/, leaving a real run's samples/vanilla_vae/ alone?"""
    env = dict(os.environ, VAECOURSE_DATA=str(data_root), OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = run_dry(HW / "run_vanilla_vae.py", cwd=tmp_path, env=env)
    out = tmp_path / "samples" / "vanilla_vae_dryrun"
    assert proc.stdout.count("test: reconstruction term") == 2, proc.stdout
    assert out.name in proc.stdout
    names = {
        f"{kind}_k{k}.{ext}"
        for k in (3, 20)
        for kind, ext in (("samples", "png"), ("reconstructions", "png"), ("results", "json"))
    }
    assert {p.name for p in out.iterdir()} == names
    result = json.loads((out / "results_k20.json").read_text())
    assert result["k"] == 20 and result["test"]["kl"] > 0
