"""Items 4.1 and 4.2: ConvVAE.calc_elbo and ConvVAE.sample of conv_vae.py.

The worker builds the provided ConvVAE, small (4 latent dimensions, 4 channels), with weights
made here. calc_elbo is exact where it can be: on a "blind" model, whose last layers' weights
are zero, q(z|x) and the decoder's mean are fixed, so the reconstruction term is one number and
the KL's expectation another. On calibrated seeded weights, its terms and its gradient are
compared with expectations within standard errors, so any order of drawing z, several draws or
a Monte-Carlo KL pass. sample(n) is judged by statistics of many samples. The expected values
come from the provided encode/decode and from formulas written here.
"""

import functools

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from grader import refcache
from grader.checks import (
    Count,
    assert_batch_mean,
    assert_close,
    assert_random,
    assert_same_mean,
    batch_means,
    check_shape,
    fail,
    outputs,
)
from grader.hw_vae import harness
from grader.hw_vae.harness import CONV_ENC_LAST as ENC_LAST
from grader.hw_vae.harness import CONV_KWARGS as KWARGS
from grader.hw_vae.harness import conv_blind_state as blind_state
from grader.hw_vae.harness import conv_calibrated_state as calibrated_state
from grader.hw_vae.harness import conv_images as images
from grader.hw_vae.harness import conv_reference as reference
from grader.messages import Grad

BATCH, REPEATS, REF_REPEATS = 16, 100, 400
PARTS, PART_REPEATS = (4, 12), 12  # the batch split in two, for the batch-mean contract
GRAD_REPEATS, REF_GRAD_REPEATS = 40, 200
SAMPLES_PER_CALL, SAMPLE_CALLS, REF_SAMPLES = 500, 4, 4000
WHAT = "ConvVAE.calc_elbo"


def student(
    sandbox,
    state: dict,
    x: torch.Tensor,
    decoder_std: float = 0.1,
    repeat: int = REPEATS,
    seed: int = 0,
    grad=None,
) -> tuple[dict, list[torch.Tensor]]:
    """The student's calc_elbo: the reply and (nelbo, kl, rec), each (repeat,) (kl and rec
    as returned: `terms` checks that they are batch means)."""
    result = harness.model_call(
        sandbox,
        harness.CONV_VAE,
        "calc_elbo",
        {**KWARGS, "decoder_std": decoder_std},
        state,
        x,
        repeat=repeat,
        seed=seed,
        grad=grad,
    )
    return result, outputs(result, 3, WHAT + " (nelbo, kl, rec)", scalars=(0,))


def terms(values: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """kl and rec of calc_elbo's (nelbo, kl, rec), each checked to be a batch mean."""
    return batch_means(values[1], "kl"), batch_means(values[2], "rec")


@pytest.fixture(scope="module")
def on_fixed_weights(sandbox) -> list[torch.Tensor]:
    """The student's (nelbo, kl, rec) over REPEATS calls on the calibrated weights."""
    return student(sandbox, calibrated_state(), images(BATCH, seed=6), seed=8)[1]


def exact_kl(mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """Batch mean of KL(N(mean, exp(log_std)^2) || N(0, I)), summed over latent dimensions."""
    q = Normal(mean.double(), log_std.double().exp())
    return kl_divergence(q, Normal(0.0, 1.0)).sum(1).mean()


def rec_term(x: torch.Tensor, x_mean: torch.Tensor, decoder_std: float) -> torch.Tensor:
    """(batch,) -log N(x; x_mean, decoder_std^2 I) summed over the 784 pixels."""
    log_p = Normal(x_mean.double(), decoder_std).log_prob(x.double())
    return -log_p.flatten(1).sum(1)


# ------------------------------------------------------------------------- 4.1 calc_elbo


@pytest.mark.item("4.1")
@pytest.mark.points(0.5)
def test_calc_elbo_returns(sandbox, on_fixed_weights):
    """calc_elbo returns (nelbo, kl, rec), three batch means, with nelbo = kl + rec"""
    x, start = images(BATCH, seed=6), 0
    parts = []
    for size in PARTS:
        _, values = student(
            sandbox,
            calibrated_state(),
            x[start : start + size],
            repeat=PART_REPEATS,
            seed=20 + start,
        )
        nelbo, kl, rec = values
        if kl.dim() == rec.dim() == 1:  # other shapes cost the kl and rec tests
            assert_close(nelbo, kl + rec, "nelbo compared with kl + rec", rtol=1e-5, atol=1e-3)
        parts.append(nelbo)
        start += size
    assert_batch_mean(on_fixed_weights[0], parts, list(PARTS), "calc_elbo's nelbo")


@pytest.mark.item("4.1")
@pytest.mark.points(0.75)
@pytest.mark.parametrize("decoder_std", [0.1, 0.25])
def test_calc_elbo_exact_on_a_blind_model(sandbox, decoder_std):
    """rec is -log N(x; mean, decoder_std^2 I) summed over pixels; kl is KL(q || N(0, I))"""
    x = images(BATCH, seed=4)
    kl, rec = terms(student(sandbox, blind_state(), x, decoder_std, repeat=40, seed=5)[1])
    expected = rec_term(x, torch.full_like(x, 0.3), decoder_std).mean()
    assert_close(
        rec,
        expected.expand(len(rec)),
        f"rec with decoder_std={decoder_std} for a "
        "decoder whose mean is 0.3 at every pixel whatever z: -log N(x; 0.3, "
        "decoder_std^2) summed over the 784 pixels (normalising constant included) and "
        "averaged over the batch",
        rtol=1e-5,
        atol=1e-3,
        counts=[Count(BATCH, f"the batch of {BATCH}"), Count(784, "the 784 pixels")],
    )
    bias = blind_state()[f"{ENC_LAST}.bias"]
    want = exact_kl(*bias.reshape(1, -1).chunk(2, dim=1))
    assert_same_mean(
        kl,
        want.expand(2),
        "kl for a q(z|x) with means (0.5, -1, 1.5, 0) and "
        "log-STANDARD-DEVIATIONS (-1.5, -0.5, 0, 0.5)",
        counts=[Count(BATCH, f"the batch of {BATCH}")],
    )


@refcache.cached
def reference_terms() -> tuple[torch.Tensor, torch.Tensor]:
    """The exact kl, and rec (REF_REPEATS,) for fresh z, on the calibrated model."""
    model, x = reference(calibrated_state()), images(BATCH, seed=6)
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        mean, log_std = model.encode(x)  # (BATCH, latent) each
        eps = torch.randn(REF_REPEATS, *mean.shape, generator=gen)
        z = (mean + log_std.exp() * eps).reshape(-1, mean.shape[1])  # (REF_REPEATS BATCH, latent)
        rec = rec_term(x.repeat(REF_REPEATS, 1, 1, 1), model.decode(z), 0.1)
    return exact_kl(mean, log_std), rec.reshape(REF_REPEATS, BATCH).mean(1)


@pytest.mark.item("4.1")
@pytest.mark.points(1)
def test_calc_elbo_on_fixed_weights(on_fixed_weights):
    """On seeded weights, kl is exact and rec averages to E_q[-log p(x|z)], z fresh every call"""
    kl, rec = terms(on_fixed_weights)
    want_kl, want_rec = reference_terms()
    batch = [Count(BATCH, f"the batch of {BATCH}")]
    assert_same_mean(
        kl, want_kl.expand(2), "kl, the batch mean of KL(q(z|x) || N(0, I))", counts=batch
    )
    assert_random(rec, "rec")
    assert_same_mean(
        rec, want_rec, "rec, the batch mean of -log p(x|z) with z ~ q(z|x)", counts=batch
    )


@refcache.cached
def reference_gradient() -> torch.Tensor:
    """(REF_GRAD_REPEATS, 2 latent) gradients of the true negative ELBO's one-sample estimate
    with respect to the encoder's last bias."""
    model, x = reference(calibrated_state()), images(BATCH, seed=9)
    bias = dict(model.named_parameters())[f"{ENC_LAST}.bias"]
    gen = torch.Generator().manual_seed(10)
    grads = []
    for _ in range(REF_GRAD_REPEATS):
        mean, log_std = model.encode(x)
        z = mean + log_std.exp() * torch.randn(mean.shape, generator=gen)
        nelbo = rec_term(x, model.decode(z), 0.1).mean() + exact_kl(mean, log_std)
        (g,) = torch.autograd.grad(nelbo, bias)
        grads.append(g)
    return torch.stack(grads)


@functools.cache
def kl_only_gradient() -> torch.Tensor:
    """(2 latent,) the gradient of the KL term alone w.r.t. the encoder's last bias: what nelbo's
    gradient averages to when z carries no gradient (drawn with .sample() or detached)."""
    model, x = reference(calibrated_state()), images(BATCH, seed=9)
    bias = dict(model.named_parameters())[f"{ENC_LAST}.bias"]
    (g,) = torch.autograd.grad(exact_kl(*model.encode(x)), bias)
    return g.double()


@pytest.mark.item("4.1")
@pytest.mark.points(1)
def test_calc_elbo_gradient(sandbox):
    """nelbo's gradient reaches the encoder through z = mean + std * eps (reparameterized)"""
    grad = Grad(output=0, params=(f"{ENC_LAST}.bias",))
    result, _ = student(
        sandbox, calibrated_state(), images(BATCH, seed=9), repeat=GRAD_REPEATS, seed=11, grad=grad
    )
    if not all(r.grads.connected for r in result.runs):
        fail(
            "calc_elbo's nelbo has no gradient: keep it a function of the networks' outputs, "
            "without .item(), .detach() or torch.no_grad()"
        )
    got = torch.stack([r.grads.params[f"{ENC_LAST}.bias"] for r in result.runs])
    assert_same_mean(
        got,
        reference_gradient(),
        "the gradient of nelbo with respect to the encoder's last bias (means, then log-stds)",
        counts=[Count(BATCH, f"the batch of {BATCH}")],
        known={
            "that is the KL term's gradient alone, as when z carries no gradient: draw "
            "z = mean + exp(log_std) * eps (not .sample()) so that the reconstruction term's "
            "gradient reaches the encoder": kl_only_gradient
        },
    )


# ---------------------------------------------------------------------------- 4.2 sample


def sample_call(sandbox, n: int, repeat: int, seed: int) -> torch.Tensor:
    """The student's sample(n) on the calibrated model, repeat times: (repeat, n, 1, 28, 28)."""
    result = harness.model_call(
        sandbox,
        harness.CONV_VAE,
        "sample",
        {**KWARGS, "decoder_std": 0.3},
        calibrated_state(),
        n,
        repeat=repeat,
        seed=seed,
    )
    (got,) = outputs(result, 1, "ConvVAE.sample(n)")
    check_shape(got[0], (n, 1, 28, 28), f"sample({n})")
    return got


@pytest.mark.item("4.2")
@pytest.mark.points(0.5)
def test_sample_shape_and_fresh(sandbox):
    """sample(n) returns (n, 1, 28, 28) images, different within a call and between calls"""
    got = sample_call(sandbox, 7, repeat=3, seed=12)
    assert_random(got, "sample(7)")
    flat = got[0].flatten(1)
    if (flat[1:] == flat[0]).all(1).any():
        fail(
            "sample(7) returned the same image twice in one call: draw a separate z ~ N(0, I) "
            "for each of the n images"
        )


def statistics(x: torch.Tensor) -> torch.Tensor:
    """(n, 11) per-image statistics of (n, 1, 28, 28) images clipped to [0, 1] (so that clipping
    the means for display is not held against anyone): mean, mean square, mean squared step
    between horizontal neighbours, 4 random projections and their squares."""
    x = x.double().clamp(0, 1)
    flat = x.flatten(1)  # (n, 784)
    steps = (x[..., 1:] - x[..., :-1]).pow(2).flatten(1).mean(1, keepdim=True)
    directions = torch.randn(784, 4, generator=torch.Generator().manual_seed(13), dtype=x.dtype)
    proj = flat @ directions / 28  # (n, 4)
    return torch.cat(
        [flat.mean(1, keepdim=True), flat.pow(2).mean(1, keepdim=True), steps, proj, proj.pow(2)],
        dim=1,
    )


@refcache.cached
def reference_statistics() -> torch.Tensor:
    """(REF_SAMPLES, 11) statistics of the calibrated reference's decoder means at z ~ N(0, I)."""
    model = reference(calibrated_state(), 0.3)
    z = torch.randn(REF_SAMPLES, KWARGS["latent_dim"], generator=torch.Generator().manual_seed(14))
    with torch.no_grad():
        return statistics(model.decode(z))


@pytest.mark.item("4.2")
@pytest.mark.points(1.5)
def test_sample_distribution(sandbox):
    """sample(n) gives the decoder's means at z ~ N(0, I): statistics of 2000 samples agree"""
    got = sample_call(sandbox, SAMPLES_PER_CALL, repeat=SAMPLE_CALLS, seed=15)
    stats = statistics(got.reshape(-1, 1, 28, 28))
    names = (
        ["mean pixel", "mean squared pixel", "mean squared step between neighbours"]
        + [f"random projection {i}" for i in range(4)]
        + [f"square of random projection {i}" for i in range(4)]
    )
    ref = reference_statistics()
    for i, name in enumerate(names):
        assert_same_mean(
            stats[:, i],
            ref[:, i],
            f"the {name} of your samples (the decoder's "
            "means at z ~ N(0, I), without decoder noise)",
            atol=1e-3,
        )
