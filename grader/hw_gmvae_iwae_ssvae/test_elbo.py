"""Items 1.2 and 2.1: VAE.negative_elbo_bound and GMVAE.negative_elbo_bound on trained weights.

The returned terms are random (one z per example), so each is called many times and its
average compared with the reference expectation, within standard errors. The VAE's KL is
analytic, hence exact.
"""

import pytest
import torch

from grader import refcache
from grader.checks import (
    Count,
    assert_batch_mean,
    assert_close,
    assert_random,
    assert_same_mean,
    batch_means,
    fail,
    outputs,
)
from grader.hw_gmvae_iwae_ssvae import harness
from grader.messages import Grad

# Student calls per check, and the reference's (computed once per process, so they are cheap):
# with 100 calls the standard error of rec is about 0.06 nats, and a gradient that misses the
# path through z (z detached) is still over 40 standard errors off with 30 calls.
REPEATS, REF_REPEATS = 100, 600
GRAD_REPEATS, REF_GRAD_REPEATS = 30, 240
PARTS, PART_REPEATS = (10, 40), 10  # the 50 images split in two, for the batch-mean contract
ENC_BIAS = harness.ENC_BIAS
BATCH = [Count(50, "the batch of 50 images")]


def per_kind(vae_points: int, gmvae_points: int):
    """Parametrize over the two models, each with its own handout item and points."""
    return pytest.mark.parametrize(
        "kind",
        [
            pytest.param("vae", marks=[pytest.mark.item("1.2"), pytest.mark.points(vae_points)]),
            pytest.param(
                "gmvae", marks=[pytest.mark.item("2.1"), pytest.mark.points(gmvae_points)]
            ),
        ],
    )


@refcache.cached
def reference(kind: str):
    """Reference nelbo, kl, rec over REF_REPEATS calls (images are the session's fixture)."""
    model = harness.reference_model(kind, harness.load_weights(kind))
    x = harness.synthetic_images()
    with torch.no_grad():
        return harness.reference_runs(lambda: model.negative_elbo_bound(x), REF_REPEATS)


def student(sandbox, kind, weights, images, repeat=REPEATS, grad=None, seed=11):
    """The reply and (nelbo, kl, rec), each (repeat, ...): nelbo checked to be one number
    per call, kl and rec as returned (`batch_means` checks them where they are used)."""
    result = harness.model_call(
        sandbox,
        kind,
        "negative_elbo_bound",
        weights[kind],
        images,
        repeat=repeat,
        grad=grad,
        seed=seed,
    )
    return result, outputs(result, 3, f"{kind.upper()}.negative_elbo_bound", scalars=(0,))


@pytest.fixture(scope="session")
def sampled(sandbox, weights, images):
    """The student's (nelbo, kl, rec) over REPEATS calls per kind, for the kl and rec tests."""
    cache = {}

    def get(kind: str) -> list:
        if kind not in cache:
            cache[kind] = student(sandbox, kind, weights, images)[1]
        return cache[kind]

    return get


@per_kind(1, 1)
def test_elbo_returns(sandbox, weights, images, sampled, kind):
    """negative_elbo_bound returns (nelbo, kl, rec), 0-dim batch means, with nelbo = kl + rec"""
    start, parts = 0, []
    for size in PARTS:
        part = images[start : start + size]
        _, (nelbo, kl, rec) = student(
            sandbox, kind, weights, part, repeat=PART_REPEATS, seed=12 + start
        )
        if kl.dim() == rec.dim() == 1:  # other shapes cost the kl and rec tests
            assert_close(nelbo, kl + rec, "nelbo compared with kl + rec", rtol=1e-5, atol=1e-4)
        parts.append(nelbo)
        start += size
    assert_batch_mean(sampled(kind)[0], parts, list(PARTS), "nelbo")


@per_kind(2, 3)
def test_elbo_kl(sampled, kind):
    """The KL term: analytic for the VAE, a one-sample estimate against the mixture for the GMVAE"""
    kl = batch_means(sampled(kind)[1], "kl")
    ref_kl = reference(kind)[1]
    if kind == "vae":
        assert_close(
            kl,
            ref_kl[: len(kl)],
            "kl (the analytic KL to N(0, I), batch mean)",
            rtol=1e-4,
            atol=1e-4,
            counts=BATCH,
        )
    else:
        assert_random(kl, "the GMVAE's kl")
        assert_same_mean(kl, ref_kl, "the GMVAE's kl, log q(z|x) - log p(z)", counts=BATCH)


@per_kind(2, 2)
def test_elbo_rec(sampled, kind):
    """The reconstruction term -log p(x|z) with one fresh z ~ q(z|x) per example"""
    rec = batch_means(sampled(kind)[2], "rec")
    assert_random(rec, "rec")
    assert_same_mean(rec, reference(kind)[2], "rec, the batch mean of -log p(x|z)", counts=BATCH)


@refcache.cached
def reference_gradients(kind: str, params: tuple) -> dict:
    """Reference gradients of nelbo w.r.t. `params` over REF_GRAD_REPEATS calls:
    (REF_GRAD_REPEATS, k) projections per parameter (see harness.project)."""
    model = harness.reference_model(kind, harness.load_weights(kind))
    return harness.reference_grads(
        model, "negative_elbo_bound", (harness.synthetic_images(),), list(params), REF_GRAD_REPEATS
    )


@per_kind(1, 2)
def test_elbo_gradients(sandbox, weights, images, kind):
    """Gradients of nelbo reach the encoder through z (and the GMVAE's prior through z_pre)"""
    params = (ENC_BIAS,) if kind == "vae" else (ENC_BIAS, "z_pre")
    result, _ = student(
        sandbox,
        kind,
        weights,
        images,
        repeat=GRAD_REPEATS,
        grad=Grad(output=0, params=params),
    )
    got, want = harness.student_grads(result, list(params)), reference_gradients(kind, params)
    for p in params:
        if not got[p].abs().sum() > 0:
            fail(f"no gradient reaches {p}: keep z = m + sqrt(v) eps inside the graph")
        assert_same_mean(
            harness.project(got[p]),
            want[p],
            f"the gradient of nelbo w.r.t. {p}",
            z=5.5,
            counts=BATCH,
        )
