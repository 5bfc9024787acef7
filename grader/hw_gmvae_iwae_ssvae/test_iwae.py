"""Items 3.2 and 3.4: VAE.negative_iwae_bound and GMVAE.negative_iwae_bound on trained weights.

Samples may be laid out copy-major or batch-major, drawn in any order: only the expectations
of the returned terms are compared with the reference, within standard errors.
"""

import pytest
import torch

from grader import refcache
from grader.checks import Count, assert_batch_mean, assert_same_mean, batch_means, fail, outputs
from grader.hw_gmvae_iwae_ssvae import harness
from grader.messages import Grad

# number of samples -> (images used, student calls); the reference makes REF_FACTOR x more calls.
# A comparison of niwae has a standard error of about 0.07 nats for iw=1 and iw=10 and 0.12 for
# iw=100; the bugs of tests/catalogue/ miss by a nat or more, all but the analytic KL inside the
# weights (see z_blind). iw=100 checks the trend at the scale of the handout's IWAE-100 and costs
# the most (the GMVAE's mixture over k=500 components for every sample).
PLAN = {1: (50, 60), 10: (25, 40), 100: (8, 12)}
REF_FACTOR = 4
BLIND = (25, 16)  # images and student calls of the check with a z-blind decoder, at iw=10
GRAD_IMAGES, GRAD_REPEATS, REF_GRAD_REPEATS = 25, 30, 160
DEC_IN = "dec.net.0.weight"  # (300, z_dim): the only way z reaches the decoder
PARTS, PART_REPEATS = (10, 40), 10  # PLAN[1]'s 50 images split in two, for the contract


def per_kind(points: int):
    """Parametrize over the two models, each with its own handout item, worth `points`."""
    return pytest.mark.parametrize(
        "kind",
        [
            pytest.param("vae", marks=[pytest.mark.item("3.2"), pytest.mark.points(points)]),
            pytest.param("gmvae", marks=[pytest.mark.item("3.4"), pytest.mark.points(points)]),
        ],
    )


def z_blind(state: dict) -> dict:
    """`state` with the decoder's first layer zeroed, so that p(x|z) no longer depends on z.

    The importance weights then reduce to p(x) p(z)/q(z|x): niwae tightens by about 2 nats from
    iw=1 to iw=10 on the shipped weights. An implementation that puts the analytic KL into the
    weights (its bound then ignores iw) misses that by the whole 2 nats, over 40 standard errors,
    where on the trained decoder it moves niwae(iw=10) by only about 0.25 nats (3 to 8 standard
    errors, depending on the images).
    """
    return {**state, DEC_IN: torch.zeros_like(state[DEC_IN])}


@refcache.cached
def reference(kind: str, iw: int, blind: bool = False) -> list[torch.Tensor]:
    """Reference (niwae, kl, rec) of `kind` with `iw` samples, each (REF_FACTOR repeat,),
    on PLAN[iw]'s images, or on BLIND's for the decoder that ignores z (`z_blind`)."""
    state = harness.load_weights(kind)
    model = harness.reference_model(kind, z_blind(state) if blind else state)
    n, repeat = BLIND if blind else PLAN[iw]
    x = harness.synthetic_images()[:n]
    with torch.no_grad():
        return harness.reference_runs(lambda: model.negative_iwae_bound(x, iw), REF_FACTOR * repeat)


def student(sandbox, kind, weights, images, iw, repeat=None, grad=None, seed=None):
    """The reply and (niwae, kl, rec), each (repeat, ...): niwae checked to be one number per
    call, kl and rec as returned (`batch_means` checks them where they are used)."""
    result = harness.model_call(
        sandbox,
        kind,
        "negative_iwae_bound",
        weights[kind],
        images,
        iw,
        repeat=repeat,
        grad=grad,
        seed=iw + 17 if seed is None else seed,
    )
    return result, outputs(result, 3, f"{kind.upper()}.negative_iwae_bound", scalars=(0,))


def counts(iw: int, images: int) -> list[Count]:
    """The sums over samples and over the batch that a slip may take for a mean."""
    return [Count(iw, f"the {iw} samples", log_sign=-1), Count(images, f"the {images} images")]


@pytest.fixture(scope="session")
def planned(sandbox, weights, images):
    """The student's (niwae, kl, rec) for each planned iw, computed once per session."""
    cache = {}

    def get(kind: str, iw: int) -> list:
        if (kind, iw) not in cache:
            n, repeat = PLAN[iw]
            cache[kind, iw] = student(sandbox, kind, weights, images[:n], iw, repeat=repeat)[1]
        return cache[kind, iw]

    return get


@per_kind(1)
def test_iwae_returns(sandbox, weights, images, planned, kind):
    """negative_iwae_bound returns (niwae, kl, rec), niwae a finite 0-dim batch mean"""
    start, parts = 0, []
    for size in PARTS:
        part = images[start : start + size]
        _, values = student(sandbox, kind, weights, part, 1, repeat=PART_REPEATS, seed=start)
        parts.append(values[0])
        start += size
    assert_batch_mean(planned(kind, 1)[0], parts, list(PARTS), "niwae for iw=1")


@per_kind(2)
def test_iwae_bound(sandbox, weights, images, planned, kind):
    """niwae has the expectation of -log mean_i p(x, z_i) / q(z_i|x) for 1, 10 and 100 samples"""
    for iw in PLAN:
        niwae = planned(kind, iw)[0]
        assert_same_mean(
            niwae, reference(kind, iw)[0], f"niwae with iw={iw}", counts=counts(iw, PLAN[iw][0])
        )
    n, repeat = BLIND
    blind = {kind: z_blind(weights[kind])}
    niwae = student(sandbox, kind, blind, images[:n], 10, repeat=repeat)[1][0]
    assert_same_mean(
        niwae,
        reference(kind, 10, blind=True)[0],
        "niwae with iw=10 for a decoder that ignores z, where the weights reduce to "
        "p(x) p(z_i) / q(z_i|x) (log p(z) - log q(z|x) per sample, not the analytic KL)",
        counts=counts(10, n),
    )


@per_kind(1)
def test_iwae_terms(planned, kind):
    """kl and rec are the averages of log q(z|x) - log p(z) and -log p(x|z) over the samples"""
    _, kl, rec = planned(kind, 10)
    ref, terms = reference(kind, 10), counts(10, PLAN[10][0])
    kl, rec = batch_means(kl, "kl for iw=10"), batch_means(rec, "rec for iw=10")
    assert_same_mean(
        kl, ref[1], "kl for iw=10 (a Monte-Carlo average, not the analytic KL)", counts=terms
    )
    assert_same_mean(rec, ref[2], "rec for iw=10", counts=terms)


@per_kind(1)
def test_iwae_monotone(sandbox, weights, images, planned, kind):
    """The bound tightens with more samples: niwae(1) >= niwae(10) >= niwae(100)"""
    means, (n, repeat) = {}, PLAN[100]
    for iw in PLAN:  # on the same images for every iw, so that the means are comparable
        niwae = (
            planned(kind, iw)
            if iw == 100
            else student(sandbox, kind, weights, images[:n], iw, repeat=repeat)[1]
        )[0]
        means[iw] = (niwae.double().mean().item(), niwae.double().std().item() / len(niwae) ** 0.5)
    for small, large in ((1, 10), (10, 100)):
        (a, sa), (b, sb) = means[small], means[large]
        if a < b - 4 * (sa**2 + sb**2) ** 0.5:
            fail(
                f"niwae grows from {a:.3f} (iw={small}) to {b:.3f} (iw={large}); more samples "
                "must give a tighter bound: average the weights with log_mean_exp over samples"
            )


def grad_params(kind: str) -> tuple:
    """Parameters whose gradients are compared: the GMVAE's prior z_pre as well (as in 2.1)."""
    return (harness.ENC_BIAS,) if kind == "vae" else (harness.ENC_BIAS, "z_pre")


@refcache.cached
def reference_gradients(kind: str) -> dict:
    """Reference gradients of niwae (iw=10) w.r.t. grad_params(kind) over REF_GRAD_REPEATS
    calls: (REF_GRAD_REPEATS, k) projections per parameter (see harness.project)."""
    model = harness.reference_model(kind, harness.load_weights(kind))
    x = harness.synthetic_images()[:GRAD_IMAGES]
    return harness.reference_grads(
        model, "negative_iwae_bound", (x, 10), list(grad_params(kind)), REF_GRAD_REPEATS
    )


@per_kind(1)
def test_iwae_gradients(sandbox, weights, images, kind):
    """Gradients of niwae reach the encoder through the samples z (and the GMVAE's prior)"""
    params = list(grad_params(kind))
    result, _ = student(
        sandbox,
        kind,
        weights,
        images[:GRAD_IMAGES],
        10,
        repeat=GRAD_REPEATS,
        grad=Grad(output=0, params=tuple(params)),
    )
    got, want = harness.student_grads(result, params), reference_gradients(kind)
    for p in params:
        if not got[p].abs().sum() > 0:
            fail(f"no gradient reaches {p}: keep the samples z and the prior inside the graph")
        assert_same_mean(
            harness.project(got[p]),
            want[p],
            f"the gradient of niwae w.r.t. {p}",
            z=5.5,
            counts=counts(10, GRAD_IMAGES)[1:],
        )
