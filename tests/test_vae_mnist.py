"""hw_vae's vae_mnist.py, the model and estimators of vae.ipynb (items 1.6 and 1.7), and its
benchmark's --dry-run."""

import json
import math
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from dry_runs import run_dry
from torch.distributions import Bernoulli, Normal, kl_divergence

from grader import reference

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def vm():
    _, module = reference.load("hw_vae", "q1_solution", "vae_mnist")
    return module


def binary_images(n: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.bernoulli(torch.full((n, 784), 0.15), generator=gen).to(torch.uint8)


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_networks_map_images_to_latents_and_back(vm, arch):
    """Do both architectures give (batch, L) means and log-variances and (batch, 784) logits?"""
    torch.manual_seed(0)
    model = vm.VAE(latent=7, arch=arch)
    z_mean, z_logvar = model.encode(binary_images(5))
    assert z_mean.shape == z_logvar.shape == (5, 7)
    assert model.decode(z_mean).shape == (5, 784)


def test_unknown_arch_is_refused(vm):
    """Does VAE(arch=...) name the valid choices when given another?"""
    with pytest.raises(ValueError, match="mlp, conv"):
        vm.VAE(arch="resnet")


def test_elbo_is_bernoulli_log_likelihood_minus_kl(vm):
    """Is elbo() log Bern(x; sigmoid(logits)) - KL(q || N(0, I)) for the z it draws?"""
    torch.manual_seed(1)
    model, x = vm.VAE(latent=4), binary_images(6)
    torch.manual_seed(2)
    got = vm.elbo(model, x)
    torch.manual_seed(2)
    z_mean, z_logvar = model.encode(x)
    z = z_mean + (0.5 * z_logvar).exp() * torch.randn_like(z_mean)
    log_px_z = Bernoulli(logits=model.decode(z)).log_prob(x.float()).sum(1)
    q = Normal(z_mean, (0.5 * z_logvar).exp())
    kl = kl_divergence(q, Normal(torch.zeros(4), torch.ones(4))).sum(1)
    torch.testing.assert_close(got, log_px_z - kl, rtol=1e-5, atol=1e-4)


def test_log_likelihood_is_is_the_importance_sampling_estimate(vm):
    """Is log_likelihood_is log mean_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q, per image?"""
    torch.manual_seed(1)
    model, x, k = vm.VAE(latent=4), binary_images(3), 5
    torch.manual_seed(3)
    got = vm.log_likelihood_is(model, x, num_samples=k)
    torch.manual_seed(3)
    with torch.no_grad():
        z_mean, z_logvar = model.encode(x)
        q = Normal(z_mean[:, None], (0.5 * z_logvar[:, None]).exp())  # batch (3, 1, 4)
        z = z_mean[:, None] + q.scale * torch.randn(3, k, 4)  # (3, K, 4)
        log_w = (
            Bernoulli(logits=model.decode(z)).log_prob(x[:, None].float()).sum(-1)
            + Normal(0.0, 1.0).log_prob(z).sum(-1)
            - q.log_prob(z).sum(-1)
        )  # (3, K)
    expected = log_w.logsumexp(1) - math.log(k)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-4)


def test_validating_leaves_the_training_draws_alone(vm):
    """Does train() give the same weights with or without a validation set, for one seed?"""
    states = []
    for valid in (None, binary_images(50, seed=9)):
        torch.manual_seed(4)
        model = vm.VAE(latent=3)
        data = SimpleNamespace(train_x=binary_images(200), valid_x=valid)
        history = vm.train(model, data, epochs=2, batch_size=64, progress=False)
        assert [r["valid_elbo"] is None for r in history] == [valid is None] * 2
        states.append(model.state_dict())
    for name, value in states[0].items():
        assert torch.equal(value, states[1][name]), name


def test_benchmark_dry_run(tmp_path, data_root):
    """Does `bench_vae_notebook.py --dry-run --save weights.pt` train an epoch, estimate
    log p(x), print JSON and save to weights_dryrun.pt, leaving a real weights.pt alone?"""
    env = dict(os.environ, VAECOURSE_DATA=str(data_root), OMP_NUM_THREADS="1")
    script = REPO / "benchmarks" / "bench_vae_notebook.py"
    proc = run_dry(script, "--save", "weights.pt", cwd=tmp_path, env=env)
    assert "weights_dryrun.pt" in proc.stdout
    assert torch.load(tmp_path / "weights_dryrun.pt", weights_only=True)
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["benchmark"] == "vae_notebook" and len(result["valid_elbo"]) == 1
    assert math.isfinite(result["test_log_likelihood"])
