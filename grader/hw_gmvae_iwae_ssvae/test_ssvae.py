"""Item 4.2: SSVAE.negative_elbo_bound on trained weights.

kl_y and kl_z are exact (the sum over the ten labels is exact, KL terms analytic); rec uses
one z per (x, y) pair, so its average over many calls is compared with the reference. The
shipped classifier is confident (its largest q(y|x) averages 0.98 on the synthetic images),
so the weighting by q(y|x) barely shows there (a rec without the weights, one pass with the
soft q(y|x) as the label, is 0.1 nats off): kl_z and rec are also judged on the same weights
with the classifier's last layer scaled down until the largest q(y|x) averages SOFT_MAX_Q,
where that slip is 5 nats off.
"""

import functools
import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

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

# rec's standard error is about 0.1 nats with 40 calls; with q(y|x) detached from the label
# weights, the classifier's gradient is about 10 standard errors off (the reference's 160 calls
# set most of that error, the student's gradient being nearly deterministic then), and with z
# detached the encoder's is over 40 off.
REPEATS, REF_REPEATS = 40, 400
GRAD_REPEATS, REF_GRAD_REPEATS = 24, 160
SOFT_REPEATS, SOFT_REF_REPEATS, SOFT_MAX_Q = 16, 200, 0.6
PARTS, PART_REPEATS = (10, 40), 8  # the 50 images split in two, for the batch-mean contract
CLS_BIAS = "cls.net.4.bias"  # (10,): the gradient of the bound reaches q(y|x) here
CLS_LAST = "cls.net.4"  # the classifier's last Linear layer: its logits
BATCH = [Count(50, "the batch of 50 images")]
# parameter -> what its gradient needs; the encoder's gradient catches a detached z, which
# leaves every returned value (and the classifier's gradient) unchanged
GRAD_PARAMS = {
    CLS_BIAS: "weight the terms by q(y|x) inside the graph",
    harness.ENC_BIAS: "keep z = m + sqrt(v) eps inside the graph",
}
pytestmark = pytest.mark.item("4.2")


@functools.cache
def unconfident_state() -> dict:
    """The shipped weights with the classifier's last layer (so its logits) scaled down, by
    bisection on the scale, until its largest q(y|x) averages SOFT_MAX_Q over the images."""
    state = harness.load_weights("ssvae")
    with torch.no_grad():
        logits = harness.reference_model("ssvae", state).cls(harness.synthetic_images())
    low, high = 0.0, 1.0
    for _ in range(30):
        scale = (low + high) / 2
        confident = F.softmax(logits * scale, dim=1).max(1).values.mean() > SOFT_MAX_Q
        low, high = (low, scale) if confident else (scale, high)
    weight, bias = f"{CLS_LAST}.weight", f"{CLS_LAST}.bias"
    return {**state, weight: state[weight] * low, bias: state[bias] * low}


@refcache.cached
def reference(soft: bool = False) -> list[torch.Tensor]:
    """(nelbo, kl_z, kl_y, rec) of the reference over many calls, on the shipped weights or,
    with `soft`, on `unconfident_state`."""
    state = unconfident_state() if soft else harness.load_weights("ssvae")
    model = harness.reference_model("ssvae", state)
    x = harness.synthetic_images()
    with torch.no_grad():
        return harness.reference_runs(
            lambda: model.negative_elbo_bound(x), SOFT_REF_REPEATS if soft else REF_REPEATS
        )


def student(sandbox, state, images, repeat=REPEATS, grad=None, seed=23):
    """The reply and (nelbo, kl_z, kl_y, rec), each (repeat, ...): nelbo checked to be one
    number per call, the terms as returned (`batch_means` checks them where they are used)."""
    result = harness.model_call(
        sandbox,
        "ssvae",
        "negative_elbo_bound",
        state,
        images,
        repeat=repeat,
        grad=grad,
        seed=seed,
    )
    return result, outputs(result, 4, "SSVAE.negative_elbo_bound", scalars=(0,))


@pytest.fixture(scope="module")
def sampled(sandbox, weights, images):
    """The student's (nelbo, kl_z, kl_y, rec) over REPEATS calls on the shipped weights."""
    return student(sandbox, weights["ssvae"], images)[1]


@pytest.fixture(scope="module")
def unconfident(sandbox, images):
    """The student's (nelbo, kl_z, kl_y, rec) over SOFT_REPEATS calls on unconfident_state."""
    return student(sandbox, unconfident_state(), images, repeat=SOFT_REPEATS, seed=24)[1]


@pytest.mark.points(2)
def test_ssvae_returns(sandbox, weights, images, sampled):
    """negative_elbo_bound returns (nelbo, kl_z, kl_y, rec), 0-dim, nelbo = kl_z + kl_y + rec"""
    start, parts = 0, []
    for size in PARTS:
        part = images[start : start + size]
        _, values = student(sandbox, weights["ssvae"], part, repeat=PART_REPEATS, seed=25 + start)
        nelbo, kl_z, kl_y, rec = values
        if kl_z.dim() == kl_y.dim() == rec.dim() == 1:  # other shapes cost the terms' tests
            assert_close(
                nelbo,
                kl_z + kl_y + rec,
                "nelbo compared with kl_z + kl_y + rec",
                rtol=1e-5,
                atol=1e-4,
            )
        parts.append(nelbo)
        start += size
    assert_batch_mean(sampled[0], parts, list(PARTS), "nelbo")


@pytest.mark.points(3)
def test_ssvae_kl_y(sampled):
    """kl_y is KL(q(y|x) || uniform over 10 labels), averaged over the batch"""
    kl_y = batch_means(sampled[2], "kl_y")
    want = reference()[2][: len(kl_y)]
    if torch.allclose(sampled[1].double(), want.double(), rtol=1e-4, atol=1e-4):
        fail("the second value returned equals KL_y: the order is (nelbo, kl_z, kl_y, rec)")
    assert_close(kl_y, want, "kl_y", rtol=1e-4, atol=1e-4, counts=BATCH)


@pytest.mark.points(4)
def test_ssvae_kl_z(sampled, unconfident):
    """kl_z is the q(y|x)-weighted sum over labels of KL(q(z|x,y) || N(0, I)), batch mean, also
    where the classifier is not confident"""
    for values, soft, where in (
        (sampled, False, ""),
        (unconfident, True, f" for a classifier whose largest q(y|x) averages {SOFT_MAX_Q}"),
    ):
        kl_z = batch_means(values[1], "kl_z")
        want = reference(soft)[1][: len(kl_z)]
        assert_close(kl_z, want, f"kl_z{where}", rtol=1e-4, atol=1e-3, counts=BATCH)


@pytest.mark.points(4)
def test_ssvae_rec(sampled, unconfident):
    """rec is the q(y|x)-weighted -log p(x|z,y), one z ~ q(z|x,y) per label, also where the
    classifier is not confident"""
    for values, soft, where in (
        (sampled, False, ""),
        (unconfident, True, f" for a classifier whose largest q(y|x) averages {SOFT_MAX_Q}"),
    ):
        rec = batch_means(values[3], "rec")
        assert_random(rec, "rec")
        soft_label = (
            "that is the reconstruction of one pass with q(y|x) itself as the label: score "
            "every label as a one-hot y and weight each -log p(x|z,y) by q(y|x)"
        )
        assert_same_mean(
            rec,
            reference(soft)[3],
            f"rec{where}",
            counts=BATCH,
            known={soft_label: soft_label_rec} if soft else None,
        )


@functools.cache
def soft_label_rec() -> torch.Tensor:
    """() The expectation of a real slip's rec on unconfident_state: one z per image, drawn
    and decoded with the soft q(y|x) as the label, unweighted."""
    model, x = harness.reference_model("ssvae", unconfident_state()), harness.synthetic_images()
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        y = F.softmax(model.cls(x), dim=1)
        m, v = model.enc(x, y)
        recs = []
        for _ in range(SOFT_REF_REPEATS):
            z = m + v.sqrt() * torch.randn(m.shape, generator=gen)
            logits = model.dec(z, y)
            recs.append(F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x))
    return torch.stack(recs).mean().double()


@refcache.cached
def reference_gradients() -> dict:
    """Reference gradients of nelbo w.r.t. GRAD_PARAMS over REF_GRAD_REPEATS calls:
    (REF_GRAD_REPEATS, k) projections per parameter (see harness.project)."""
    model = harness.reference_model("ssvae", harness.load_weights("ssvae"))
    return harness.reference_grads(
        model,
        "negative_elbo_bound",
        (harness.synthetic_images(),),
        list(GRAD_PARAMS),
        REF_GRAD_REPEATS,
    )


@functools.cache
def detached_gradients() -> dict:
    """parameter -> the gradient of nelbo w.r.t. it when what GRAD_PARAMS names is cut: with
    q(y|x) detached in the label weights, the classifier's gradient is that of kl_y alone;
    with z detached, the encoder's is that of kl_z alone. Both are exact."""
    model, x = (
        harness.reference_model("ssvae", harness.load_weights("ssvae")),
        harness.synthetic_images(),
    )
    log_q = F.log_softmax(model.cls(x), dim=1)  # (batch, 10)
    kl_y = (log_q.exp() * (log_q + math.log(10))).sum(1).mean()
    y = torch.eye(10).repeat_interleave(len(x), dim=0)  # label-major: row j batch + i
    m, v = model.enc(x.repeat(10, 1), y)  # (10 batch, z_dim) each
    kl_pairs = kl_divergence(Normal(m, v.sqrt()), Normal(0.0, 1.0)).sum(1).reshape(10, -1)
    kl_z = (log_q.exp().t().detach() * kl_pairs).sum(0).mean()
    named = dict(model.named_parameters())
    (cls,) = torch.autograd.grad(kl_y, named[CLS_BIAS])
    (enc,) = torch.autograd.grad(kl_z, named[harness.ENC_BIAS])
    return {CLS_BIAS: cls.detach(), harness.ENC_BIAS: enc.detach()}


@pytest.mark.points(2)
def test_ssvae_gradients(sandbox, weights, images):
    """Gradients of nelbo reach q(y|x) through the label weights and q(z|x,y) through z"""
    params = list(GRAD_PARAMS)
    result, _ = student(
        sandbox,
        weights["ssvae"],
        images,
        repeat=GRAD_REPEATS,
        grad=Grad(output=0, params=tuple(params)),
    )
    got, want = harness.student_grads(result, params), reference_gradients()
    for p, remedy in GRAD_PARAMS.items():
        if not got[p].abs().sum() > 0:
            fail(f"no gradient reaches {p}: {remedy}")
        cut = "q(y|x) in the label weights" if p == CLS_BIAS else "z"
        slip = f"that is the gradient without the path through {cut}: {remedy}"
        assert_same_mean(
            harness.project(got[p]),
            want[p],
            f"the gradient of nelbo w.r.t. {p}",
            z=5.5,
            counts=BATCH,
            known={slip: lambda p=p: harness.project(detached_gradients()[p].unsqueeze(0))[0]},
        )
