"""Items 5.1-5.3: the decoder likelihoods, VAE2D.loss and VAE2D.iwae_loss of vae2d.py.

5.1 is compared exactly with torch.distributions. The bounds run on the provided VAE2D (hidden
width 32) with weights made here and with the trusted decoder likelihoods, so that a bug of 5.1
costs 5.1 only. On "blind" weights (last layers' weights zero) every term is a known number; on
calibrated seeded weights, expectations over many calls are compared with references within
standard errors, so any layout or order of the samples passes. Expected values come from the
provided encode/decode and formulas written here.
"""

import functools
import math

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
from grader.hw_vae.harness import VAE2D_DEC_LAST as DEC_LAST
from grader.hw_vae.harness import VAE2D_ENC_LAST as ENC_LAST
from grader.hw_vae.harness import vae2d_blind_state as blind_state
from grader.hw_vae.harness import vae2d_calibrated_state as calibrated_state
from grader.hw_vae.harness import vae2d_kwargs as kwargs
from grader.hw_vae.harness import vae2d_points as points
from grader.hw_vae.harness import vae2d_reference as reference
from grader.messages import Grad

BITS = 1 / (2 * math.log(2))  # nats -> bits per dimension of 2-D points
BATCH, REPEATS, REF_REPEATS = 24, 100, 400
GRAD_REPEATS, REF_GRAD_REPEATS = 40, 200
IWAE_M = (1, 64)
PARTS, PART_REPEATS = (6, 18), 12  # the batch split in two, for the batch-mean contract


def decoder_log_prob(kind: str, x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor):
    """(...,) log p(x|z) from the decoder's outputs; log_var (..., 1) for the scalar decoder."""
    std = (0.5 * log_var.double()).exp().expand_as(mu)
    return Normal(mu.double(), std).log_prob(x.double()).sum(-1)


def blind_decoder_log_prob(kind: str, x: torch.Tensor) -> torch.Tensor:
    """(batch,) log p(x|z) of x (batch, 2) under the `kind` decoder of blind_state, the
    same whatever z."""
    bias = blind_state(kind, [0.0] * 4)[f"{DEC_LAST}.bias"]
    mu, log_var = bias[:2].expand(len(x), 2), bias[2:].expand(len(x), -1)
    return decoder_log_prob(kind, x, mu, log_var)


def exact_kl(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """(batch,) KL(N(mu, diag exp(log_var)) || N(0, I))."""
    q = Normal(mu.double(), (0.5 * log_var.double()).exp())
    return kl_divergence(q, Normal(0.0, 1.0)).sum(-1)


# ---------------------------------------------------------------- 5.1 decoder likelihoods


def likelihood_inputs(kind: str, seed: int) -> list[torch.Tensor]:
    """x, mu, log_var: (16, 2) each, log_var (16, 1) for the scalar decoder; log-variances in
    [-4, 4]."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(16, 2, generator=gen, dtype=torch.float64) * 3
    mu = torch.randn(16, 2, generator=gen, dtype=torch.float64) * 2
    width = 2 if kind == "diagonal" else 1
    log_var = torch.rand(16, width, generator=gen, dtype=torch.float64) * 8 - 4
    return [x, mu, log_var]


@pytest.mark.item("5.1")
@pytest.mark.points(1.5)
@pytest.mark.parametrize("kind", ["diagonal", "scalar"])
def test_decoder_log_prob(sandbox, kind):
    """log_prob_<kind>(x, mu, log_var) is log N(x; mu, Sigma), one value per example"""
    name = f"log_prob_{kind}"
    for seed in (0, 1):
        x, mu, log_var = likelihood_inputs(kind, seed)
        (got,) = outputs(harness.vae2d_function_call(sandbox, name, x, mu, log_var), 1, name)
        check_shape(got[0], (16,), f"{name}'s result (one value per example)")
        what = (
            "one variance per coordinate, log_var (batch, 2)"
            if kind == "diagonal"
            else "ONE variance shared by both coordinates, log_var (batch, 1)"
        )
        assert_close(
            got[0],
            decoder_log_prob(kind, x, mu, log_var),
            f"{name}(x, mu, log_var) with {what}",
            rtol=1e-6,
            atol=1e-6,
        )


# ---------------------------------------------------------------------- 5.2 VAE2D.loss


def loss_call(
    sandbox,
    kind: str,
    state: dict,
    x: torch.Tensor,
    repeat: int = REPEATS,
    seed: int = 0,
    grad=None,
) -> tuple[dict, list[torch.Tensor]]:
    """The reply and (nelbo, kl, rec), each (repeat, ...), of the student's VAE2D.loss(x)
    on `state` with the trusted decoder likelihoods: nelbo checked to be one number per
    call, kl and rec as returned (see `terms`)."""
    result = harness.model_call(
        sandbox,
        harness.VAE2D,
        "loss",
        kwargs(kind),
        state,
        x,
        repeat=repeat,
        seed=seed,
        grad=grad,
        patches=harness.TRUSTED_DECODERS,
    )
    return result, outputs(result, 3, "VAE2D.loss (nelbo, kl, rec)", scalars=(0,))


def terms(values: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """kl and rec of loss's (nelbo, kl, rec), each checked to be a batch mean."""
    return batch_means(values[1], "kl"), batch_means(values[2], "rec")


@pytest.fixture(scope="module")
def on_fixed_weights(sandbox):
    """kind -> the student's (nelbo, kl, rec) over 2 REPEATS calls on the calibrated weights."""
    cache = {}

    def get(kind: str) -> list[torch.Tensor]:
        if kind not in cache:
            x = points(BATCH, seed=7)
            state = calibrated_state(kind)
            cache[kind] = loss_call(sandbox, kind, state, x, repeat=2 * REPEATS, seed=9)[1]
        return cache[kind]

    return get


@pytest.mark.item("5.2")
@pytest.mark.points(0.5)
def test_loss_returns(sandbox, on_fixed_weights):
    """loss returns (nelbo, kl, rec), three batch means, with nelbo = kl + rec"""
    x, start, parts = points(BATCH, seed=7), 0, []
    for size in PARTS:
        _, (nelbo, kl, rec) = loss_call(
            sandbox,
            "diagonal",
            calibrated_state("diagonal"),
            x[start : start + size],
            repeat=PART_REPEATS,
            seed=20 + start,
        )
        if kl.dim() == rec.dim() == 1:  # other shapes cost the kl and rec tests
            assert_close(nelbo, kl + rec, "nelbo compared with kl + rec", rtol=1e-5, atol=1e-5)
        parts.append(nelbo)
        start += size
    assert_batch_mean(on_fixed_weights("diagonal")[0], parts, list(PARTS), "loss's nelbo")


BLIND_Q = [0.5, -1.0, -1.5, 0.3]  # q(z|x): means (0.5, -1), log-variances (-1.5, 0.3)


@pytest.mark.item("5.2")
@pytest.mark.points(0.5)
@pytest.mark.parametrize("kind", ["diagonal", "scalar"])
def test_loss_exact_on_a_blind_model(sandbox, kind):
    """rec is -log p(x|z) and kl the KL to N(0, I), both in bits per dimension"""
    x = points(BATCH, seed=5)
    kl, rec = terms(loss_call(sandbox, kind, blind_state(kind, BLIND_Q), x, repeat=40, seed=6)[1])
    expected = -blind_decoder_log_prob(kind, x).mean() * BITS
    assert_close(
        rec,
        expected.expand(len(rec)),
        f"rec for a {kind} decoder that ignores z: "
        "-log p(x|z) in bits per dimension (nats / (2 ln 2)), averaged over the batch",
        rtol=1e-5,
        atol=1e-5,
        counts=[Count(BATCH, f"the batch of {BATCH}")],
    )
    q = torch.tensor(BLIND_Q).reshape(1, 4)
    want = exact_kl(q[:, :2], q[:, 2:]).mean() * BITS
    assert_same_mean(
        kl,
        want.expand(2),
        "kl, in bits per dimension, for q(z|x) with means (0.5, -1) and LOG-VARIANCES (-1.5, 0.3)",
        counts=[Count(BATCH, f"the batch of {BATCH}")],
    )


@refcache.cached
def reference_loss_terms(kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact kl and rec (REF_REPEATS,) in bits per dimension, on the calibrated model."""
    model, x = reference(kind, calibrated_state(kind)), points(BATCH, seed=7)
    gen = torch.Generator().manual_seed(8)
    with torch.no_grad():
        mu, log_var = model.encode(x)
        eps = torch.randn(REF_REPEATS, *mu.shape, generator=gen)
        z = mu + (0.5 * log_var).exp() * eps  # (REF_REPEATS, BATCH, 2)
        rec = -decoder_log_prob(kind, x, *model.decode(z))  # (REF_REPEATS, BATCH)
    return exact_kl(mu, log_var).mean() * BITS, rec.mean(1) * BITS


@pytest.mark.item("5.2")
@pytest.mark.points(0.5)
@pytest.mark.parametrize("kind", ["diagonal", "scalar"])
def test_loss_on_fixed_weights(on_fixed_weights, kind):
    """On seeded weights, kl is exact and rec averages to E_q[-log p(x|z)], z fresh every call"""
    kl, rec = terms(on_fixed_weights(kind))
    want_kl, want_rec = reference_loss_terms(kind)
    batch = [Count(BATCH, f"the batch of {BATCH}")]
    assert_same_mean(kl, want_kl.expand(2), "kl (bits per dimension)", counts=batch)
    assert_random(rec, "rec")
    assert_same_mean(
        rec,
        want_rec,
        "rec, the batch mean of -log p(x|z) with z ~ q(z|x), in bits per dimension",
        counts=batch,
    )


@refcache.cached
def reference_gradient() -> torch.Tensor:
    """(REF_GRAD_REPEATS, 4) gradients of a one-sample negative ELBO (bits per dimension) with
    respect to the encoder's last bias, diagonal decoder."""
    model, x = reference("diagonal", calibrated_state("diagonal")), points(BATCH, seed=10)
    bias = dict(model.named_parameters())[f"{ENC_LAST}.bias"]
    gen = torch.Generator().manual_seed(11)
    grads = []
    for _ in range(REF_GRAD_REPEATS):
        mu, log_var = model.encode(x)
        z = mu + (0.5 * log_var).exp() * torch.randn(mu.shape, generator=gen)
        nelbo = exact_kl(mu, log_var) - decoder_log_prob("diagonal", x, *model.decode(z))
        (g,) = torch.autograd.grad(nelbo.mean() * BITS, bias)
        grads.append(g)
    return torch.stack(grads)


@functools.cache
def kl_only_gradient() -> torch.Tensor:
    """(4,) the gradient of the KL term alone (bits per dimension) w.r.t. the encoder's last
    bias: what nelbo's gradient averages to when z carries no gradient."""
    model, x = reference("diagonal", calibrated_state("diagonal")), points(BATCH, seed=10)
    bias = dict(model.named_parameters())[f"{ENC_LAST}.bias"]
    (g,) = torch.autograd.grad(exact_kl(*model.encode(x)).mean() * BITS, bias)
    return g.double()


@pytest.mark.item("5.2")
@pytest.mark.points(0.5)
def test_loss_gradient(sandbox):
    """nelbo's gradient reaches the encoder through z = mu + sigma * eps (reparameterized)"""
    grad = Grad(output=0, params=(f"{ENC_LAST}.bias",))
    result, _ = loss_call(
        sandbox,
        "diagonal",
        calibrated_state("diagonal"),
        points(BATCH, seed=10),
        repeat=GRAD_REPEATS,
        seed=12,
        grad=grad,
    )
    if not all(r.grads.connected for r in result.runs):
        fail(
            "loss's nelbo has no gradient: keep it a function of the networks' outputs, "
            "without .item(), .detach() or torch.no_grad()"
        )
    got = torch.stack([r.grads.params[f"{ENC_LAST}.bias"] for r in result.runs])
    assert_same_mean(
        got,
        reference_gradient(),
        "the gradient of nelbo with respect to the encoder's last bias (means, then log-variances)",
        counts=[Count(BATCH, f"the batch of {BATCH}")],
        known={
            "that is the KL term's gradient alone, as when z carries no gradient: draw "
            "z = mu + exp(log_var / 2) * eps (not .sample() or .detach()) so that the decoder "
            "term's gradient reaches the encoder": kl_only_gradient
        },
    )


# ------------------------------------------------------------------ 5.3 VAE2D.iwae_loss


def iwae_call(
    sandbox, kind: str, state: dict, x: torch.Tensor, m: int, repeat: int, seed: int
) -> torch.Tensor:
    """(repeat, batch) the student's iwae_loss(x, m)."""
    result = harness.model_call(
        sandbox,
        harness.VAE2D,
        "iwae_loss",
        kwargs(kind),
        state,
        x,
        m,
        repeat=repeat,
        seed=seed,
        patches=harness.TRUSTED_DECODERS,
    )
    (got,) = outputs(
        result,
        1,
        f"VAE2D.iwae_loss(x, {m})",
        nonfinite="exp of the log-weights overflowed or underflowed; compute the log of their "
        "mean stably (torch.logsumexp minus log m, or subtract the largest log w before exp)",
    )
    check_shape(got[0], (len(x),), f"iwae_loss(x, {m}) (one value per example)")
    return got


@pytest.mark.item("5.3")
@pytest.mark.points(0.5)
@pytest.mark.parametrize("kind", ["diagonal", "scalar"])
def test_iwae_exact_when_q_is_the_prior(sandbox, kind):
    """With q(z|x) = p(z) and a decoder that ignores z, every weight is p(x): the bound is
    log p(x) for any m, even where p(x) is exp(-1e5)"""
    far = torch.tensor([[300.0, -200.0], [-150.0, 400.0]])
    x = torch.cat([points(BATCH - 2, seed=13), far])
    expected = -blind_decoder_log_prob(kind, x) * BITS
    for m in (1, 7):
        got = iwae_call(sandbox, kind, blind_state(kind, [0.0] * 4), x, m, repeat=2, seed=14)
        assert_close(
            got,
            expected.expand_as(got),
            f"iwae_loss(x, {m}) where every importance weight equals p(x|z) = p(x): -log p(x) "
            "in bits per dimension",
            rtol=1e-5,
            atol=1e-5,
            counts=[Count(m, f"the {m} samples", log_sign=-BITS)],
        )


@refcache.cached
def reference_iwae(m: int) -> torch.Tensor:
    """(REF_REPEATS, BATCH) negative IWAE bounds (bits per dimension), diagonal decoder."""
    model, x = reference("diagonal", calibrated_state("diagonal")), points(BATCH, seed=15)
    gen = torch.Generator().manual_seed(16 + m)
    with torch.no_grad():
        mu, log_var = model.encode(x)
        q = Normal(mu.double(), (0.5 * log_var.double()).exp())
        eps = torch.randn(REF_REPEATS, m, *mu.shape, generator=gen, dtype=torch.float64)
        z = q.loc + q.scale * eps  # (REF_REPEATS, m, BATCH, 2)
        log_w = (
            decoder_log_prob("diagonal", x, *model.decode(z.float()))
            + Normal(0.0, 1.0).log_prob(z).sum(-1)
            - q.log_prob(z).sum(-1)
        )
    return -(torch.logsumexp(log_w, dim=1) - math.log(m)) * BITS


@pytest.mark.item("5.3")
@pytest.mark.points(1)
@pytest.mark.parametrize("m", IWAE_M)
def test_iwae_expectation(sandbox, m):
    """iwae_loss(x, m) averages to the negative IWAE bound of each point, for m = 1 and 64"""
    got = iwae_call(
        sandbox,
        "diagonal",
        calibrated_state("diagonal"),
        points(BATCH, seed=15),
        m,
        repeat=REPEATS,
        seed=17,
    )
    assert_random(got, f"iwae_loss(x, {m})")
    assert_same_mean(
        got,
        reference_iwae(m),
        f"iwae_loss(x, {m}), -log (1/m) sum_k p(x, z_k) / "
        "q(z_k|x) with z_1 .. z_m ~ q(z|x) drawn independently, in bits per "
        "dimension, averaged over calls",
        counts=[Count(m, f"the {m} samples", log_sign=-BITS)],
    )
