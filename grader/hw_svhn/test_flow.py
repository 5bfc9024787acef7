"""Items 2.1 and 2.2: the PixelCNN masks and the autoregressive-flow prior's log-density.

Masks are judged by what they do, not by how they are stored: the student's MaskedConv2d (and
the shallow PixelCNN built from it) runs on inputs bumped one position at a time, and the
positions whose outputs move must be exactly those that precede them in raster order within
the kernel (type A) or precede or equal them (type B). The flow's log-density runs with the
trusted masks and is compared with log N(eps) + log |det d eps / dz| computed from the full
Jacobian by autograd on a tiny latent, and with the reference on an 8 x 8 latent map.
"""

import functools
import math

import pytest
import torch

from grader import calls, reference
from grader.checks import Count, assert_close, check_shape, fail, outputs
from grader.hw_svhn import harness
from grader.messages import Grad, Init

LAYER = "svhn_vae.flow:MaskedConv2d"
PIXELCNN = "svhn_vae.flow:ShallowPixelCNN"


def raster(position: int, width: int) -> str:
    """'(row r, column c)' of raster position `position` in a map `width` wide."""
    return f"(row {position // width}, column {position % width})"


def expected_layer_pattern(mask_type: str, k: int, h: int, w: int) -> torch.Tensor:
    """(H W, H W) bool: [p, q] when input p lies in output q's masked k x k window."""
    rows, cols = torch.arange(h * w) // w, torch.arange(h * w) % w
    dr = rows[:, None] - rows[None, :]  # (input p, output q)
    dc = cols[:, None] - cols[None, :]
    inside = (dr.abs() <= k // 2) & (dc.abs() <= k // 2)
    before = (dr < 0) | ((dr == 0) & (dc < 0))
    same = (dr == 0) & (dc == 0)
    return inside & (before | (same if mask_type == "B" else torch.zeros_like(same)))


def compare_patterns(got: torch.Tensor, want: torch.Tensor, width: int, what: str) -> None:
    """Fail at the first [input, output] entry where the (H W, H W) dependency patterns
    `got` and `want` differ, naming both positions (raster order, `width` wide)."""
    extra, missing = got & ~want, want & ~got
    if extra.any():
        p, q = extra.nonzero()[0].tolist()
        where = "the same position" if p == q else f"input {raster(p, width)}"
        fail(
            f"{what}: the output at {raster(q, width)} changes with {where}, which it must not "
            "see (the mask must hide the centre for type A, and everything after it in "
            "raster order: the rest of its row and every row below)"
        )
    if missing.any():
        p, q = missing.nonzero()[0].tolist()
        where = "its own position" if p == q else f"input {raster(p, width)}"
        fail(
            f"{what}: the output at {raster(q, width)} ignores {where}, which it must see "
            "(type B keeps the centre; both types keep every row above and the left part of "
            "the centre row)"
        )


def layer_pattern(sandbox, mask_type: str, k: int, size: int = 6) -> torch.Tensor:
    """(size^2, size^2) dependencies of the student's MaskedConv2d(mask_type, 2 -> 3
    channels, k x k) on a (2, size, size) map (see harness.dependencies)."""
    shape = (2, size, size)
    kwargs = {"mask_type": mask_type, "in_channels": 2, "out_channels": 3, "kernel_size": k}
    init = Init(LAYER, kwargs, harness.mask_layer_state(2, 3, k, seed=k))
    result = calls.method(sandbox, init, "forward", harness.probes(shape, seed=k))
    (out,) = outputs(result, 1, f"MaskedConv2d('{mask_type}', k={k})")
    check_shape(out[0], (2 * (1 + size * size), 3, size, size), "the layer's output")
    return harness.dependencies(out[0], shape)


def check_masked_conv(sandbox, mask_type: str) -> None:
    """Fail unless the student's type-`mask_type` MaskedConv2d sees exactly its masked
    window, for kernels of 3 and 5 on a 6 x 6 map."""
    for k in (3, 5):
        got = layer_pattern(sandbox, mask_type, k)
        compare_patterns(
            got,
            expected_layer_pattern(mask_type, k, 6, 6),
            6,
            f"MaskedConv2d('{mask_type}', kernel_size={k})",
        )


@pytest.mark.item("2.1")
@pytest.mark.points(1)
def test_masked_conv_type_a(sandbox):
    """A type-A masked convolution sees the positions before its own, and not its own"""
    check_masked_conv(sandbox, "A")


@pytest.mark.item("2.1")
@pytest.mark.points(1)
def test_masked_conv_type_b(sandbox):
    """A type-B masked convolution sees the positions before its own, and its own"""
    check_masked_conv(sandbox, "B")


@functools.cache
def pixelcnn_state() -> dict:
    """Weights of ShallowPixelCNN(2, 4, hidden=8): PyTorch's initialisation, seed 5."""
    (flow,) = reference.load(harness.HW, "svhn_vae.flow")
    torch.manual_seed(5)
    net = flow.ShallowPixelCNN(2, 4, hidden=8)
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


@pytest.mark.item("2.1")
@pytest.mark.points(1)
def test_pixelcnn_is_autoregressive(sandbox):
    """The shallow PixelCNN built from your masks: each output depends on earlier inputs only"""
    shape = (2, 5, 5)
    x = harness.probes(shape, seed=9)
    init = Init(PIXELCNN, {"in_channels": 2, "out_channels": 4, "hidden": 8}, pixelcnn_state())
    (out,) = outputs(calls.method(sandbox, init, "forward", x), 1, "ShallowPixelCNN")
    check_shape(out[0], (len(x), 4, 5, 5), "the network's output")
    (flow,) = reference.load(harness.HW, "svhn_vae.flow")
    net = flow.ShallowPixelCNN(2, 4, hidden=8)
    net.load_state_dict(pixelcnn_state())
    with torch.no_grad():
        want = harness.dependencies(net(x), shape)
    compare_patterns(
        harness.dependencies(out[0], shape),
        want,
        5,
        "ShallowPixelCNN (type A 3 x 3, three type-B residual layers, 1 x 1 type B)",
    )


# ------------------------------------------------------------------------ 2.2 the flow prior

TINY = (2, 3, 3)  # channels, height, width of the latent whose Jacobian is taken in full
MAP = (4, 8, 8)  # the VAE's 8 x 8 latent map
HIDDEN = 16


@functools.cache
def state(shape: tuple) -> dict:
    """Weights of the flow prior for latents of `shape` (C, H, W), seeded by the shape."""
    return harness.flow_state(shape[0], HIDDEN, seed=shape[0] + shape[1])


def latents(shape: tuple, n: int, seed: int) -> torch.Tensor:
    """(n, *shape) latents drawn from `seed`, N(0, 1.5^2) per entry."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, *shape, generator=gen) * 1.5


def student_flow(sandbox, method: str, shape: tuple, z: torch.Tensor, count: int, grad=None):
    """The reply and the `count` outputs of one call of the student's
    AutoregressiveFlowPrior.<method>(z) on state(shape), as returned."""
    result = harness.flow_call(sandbox, method, shape[0], HIDDEN, state(shape), z, grad=grad)
    return result, [o[0] for o in outputs(result, count, f"AutoregressiveFlowPrior.{method}")]


@pytest.mark.item("2.2")
@pytest.mark.points(1)
def test_shift_and_log_scale(sandbox):
    """shift_and_log_scale splits the network's channels into mu and tanh(raw log-scale)"""
    z = latents(MAP, 6, seed=1)
    _, (mu, log_sigma) = student_flow(sandbox, "shift_and_log_scale", MAP, z, 2)
    prior = harness.reference_flow(MAP[0], HIDDEN, state(MAP))
    with torch.no_grad():
        ref_mu, ref_log_sigma = prior.shift_and_log_scale(z)
    if log_sigma.abs().max() > 1:
        fail(
            f"a log-scale of {log_sigma.abs().max().item():.3g}: the raw log-scales must go "
            "through tanh, which keeps them in (-1, 1)"
        )
    assert_close(mu, ref_mu, "mu, the first `channels` channels of self.net(z)", atol=1e-5)
    assert_close(
        log_sigma, ref_log_sigma, "log_sigma, tanh of the last `channels` channels", atol=1e-5
    )


def brute_force_log_prob(z: torch.Tensor) -> torch.Tensor:
    """(n,) log N(eps(z)) + log |det d eps / dz| with the full (D, D) Jacobian, in float64."""
    prior = harness.reference_flow(TINY[0], HIDDEN, state(TINY)).double()

    def eps(flat: torch.Tensor) -> torch.Tensor:
        x = flat.reshape(1, *TINY)
        mu, log_sigma = prior.shift_and_log_scale(x)
        return ((x - mu) * torch.exp(-log_sigma)).reshape(-1)

    values = []
    for one in z.double():
        flat = one.reshape(-1)
        jac = torch.autograd.functional.jacobian(eps, flat)  # (D, D)
        e = eps(flat)
        log_base = -0.5 * (e.pow(2) + math.log(2 * math.pi)).sum()
        values.append(log_base + torch.linalg.slogdet(jac).logabsdet)
    return torch.stack(values).float()


@pytest.mark.item("2.2")
@pytest.mark.points(1.5)
def test_log_prob_against_brute_force_jacobian(sandbox):
    """log_prob(z) = log N(eps; 0, I) + log |det d eps/dz|, the Jacobian taken in full"""
    z = latents(TINY, 6, seed=2)
    _, (got,) = student_flow(sandbox, "log_prob", TINY, z, 1)
    check_shape(got, (6,), "log_prob(z) for a batch of 6 latents (one value per latent)")
    assert_close(
        got,
        brute_force_log_prob(z),
        "log_prob(z) on a (2, 3, 3) latent, against "
        "log N(eps) plus the log-determinant of the full 18 x 18 Jacobian of eps(z) "
        "(which is -sum log sigma)",
        rtol=1e-4,
        atol=1e-3,
    )


@pytest.mark.item("2.2")
@pytest.mark.points(1)
def test_log_prob_on_latent_maps(sandbox):
    """log_prob on (4, 8, 8) latent maps: one value per example, summed over all entries"""
    z = latents(MAP, 8, seed=3)
    _, (got,) = student_flow(sandbox, "log_prob", MAP, z, 1)
    check_shape(got, (8,), "log_prob(z) for a batch of 8 latent maps")
    with torch.no_grad():
        want = harness.reference_flow(MAP[0], HIDDEN, state(MAP)).log_prob(z)
    assert_close(
        got,
        want,
        "log_prob(z) on (4, 8, 8) latent maps",
        rtol=1e-4,
        atol=1e-3,
        counts=[Count(256, "the 256 entries of a latent map")],
    )


@pytest.mark.item("2.2")
@pytest.mark.points(0.5)
def test_log_prob_gradient(sandbox):
    """The gradient of log_prob reaches z through eps, mu and log sigma alike"""
    z = latents(MAP, 4, seed=4)
    result, _ = student_flow(sandbox, "log_prob", MAP, z, 1, grad=Grad(output=0, args=(0,)))
    (got,) = result.runs[0].grads.args
    if got is None:
        fail("log_prob(z) has no gradient with respect to z: keep it inside the graph")
    z_ref = z.clone().requires_grad_(True)
    prior = harness.reference_flow(MAP[0], HIDDEN, state(MAP))
    (want,) = torch.autograd.grad(prior.log_prob(z_ref).sum(), z_ref)
    assert_close(
        got,
        want,
        "the gradient of log_prob(z).sum() with respect to z (the prior is trained through it)",
        rtol=1e-4,
        atol=1e-4,
    )
