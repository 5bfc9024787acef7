"""Public checks of this homework: run `python check.py` (or `python check.py 2.2`) here.

They run your functions on small random inputs and on small untrained models, in seconds, on
a CPU, without SVHN: contracts, shapes and small cases whose answer is known exactly. Passing
them does not mean full marks (the autograder's hidden tests decide the grade), but a failure
here is a bug the autograder will find too. `python check.py --help` lists the options.
"""

import math
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal, kl_divergence

from coursekit.selfcheck import (
    Checks,
    expect_close,
    expect_finite,
    expect_gradient,
    expect_shape,
    fail,
    fix_output,
    layer,
    returned,
)

checks = Checks(
    "hw_svhn",
    Path(__file__).resolve().parent,
    {
        "utils": "codebase/utils.py",
        "fsvae": "codebase/models/fsvae.py",
        "flow": "svhn_vae/flow.py",
        "logistic": "svhn_vae/logistic.py",
        "q2": "q2_solution.py",
        "q3": "q3_solution.py",
    },
)
FROM_GMVAE = "copy your completed codebase/utils.py of hw_gmvae_iwae_ssvae over this one"
FROM_HW_VAE = "copy your completed q2_solution.py of hw_vae over this one"


def randn(*shape: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    """A tensor of `shape` of N(0, scale^2) numbers drawn from `seed`."""
    return scale * torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def one_value(value: object, what: str) -> torch.Tensor:
    """The single tensor that a function returned."""
    return returned(value, ("its result",), what)[0]


def objective(value: object, what: str) -> torch.Tensor:
    """A loss or critic objective: one value, of shape (1,) (or ())."""
    t = one_value(value, what)
    if t.numel() != 1:
        fail(f"{what} has shape {tuple(t.shape)}: return one value, shape (1,), a batch mean")
    expect_finite(t, what, "check for exp overflow or 0/0")
    return t.reshape(1)


# ------------------------------------------------------- utils.py, from hw_gmvae_iwae_ssvae


@checks.add("1.2", "utils")
def utils_sample() -> None:
    """utils.py: sample_gaussian draws N(m, v) with gradients to m and v"""
    utils = checks.module("codebase.utils")
    m, v = torch.tensor([1.0, -2.0]), torch.tensor([4.0, 0.25])
    m_rows, v_rows = m.repeat(4000, 1).requires_grad_(True), v.repeat(4000, 1).requires_grad_(True)
    z = one_value(utils.sample_gaussian(m_rows, v_rows), "sample_gaussian(m, v)")
    expect_shape(z, m_rows.shape, "sample_gaussian(m, v)", FROM_GMVAE)
    mean, var = z.detach().mean(0), z.detach().var(0)
    if ((mean - m).abs() > 6 * (v / 4000).sqrt()).any() or ((var / v - 1).abs() > 0.15).any():
        fail(
            f"samples of N(m={m.tolist()}, v={v.tolist()}) have means {mean.tolist()} and "
            f"variances {var.tolist()}: {FROM_GMVAE}"
        )
    expect_gradient(z, [m_rows, v_rows], "m and v from sample_gaussian", FROM_GMVAE)


@checks.add("1.2", "utils")
def utils_log_normal() -> None:
    """utils.py: log_normal is log N(x; m, diag v), summed over dim -1"""
    x, m, v = randn(2, 1, 3, seed=1), randn(1, 4, 3, seed=2), 0.1 + randn(1, 4, 3, seed=3).abs()
    got = one_value(checks.module("codebase.utils").log_normal(x, m, v), "log_normal(x, m, v)")
    want = Normal(m.double(), v.double().sqrt()).log_prob(x.double()).sum(-1)
    expect_close(got, want, "log_normal(x, m, v) for (2, 1, 3) and (1, 4, 3) inputs", FROM_GMVAE)


# ------------------------------------------------------------------------------ 1.2 FSVAE


def fsvae(seed: int = 0, blind: bool = False) -> nn.Module:
    """An untrained FSVAE; with `blind`, a decoder that reads y but ignores z."""
    model_class = checks.module("codebase.models.fsvae").FSVAE
    torch.manual_seed(seed)
    model = model_class()
    if blind:
        with torch.no_grad():
            layer(model.dec, 0).weight[:, : model.z_dim] = 0  # its input is cat(z, y)
    return model


def svhn_batch(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 3072) images in [0, 1] and (n, 10) one-hot labels."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3072, generator=gen)
    y = F.one_hot(torch.randint(10, (n,), generator=gen), 10).float()
    return x, y


def fsvae_bound(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    """(nelbo, kl_z, rec) of the student's FSVAE.negative_elbo_bound, checked."""
    names, what = ("nelbo", "kl_z", "rec"), "FSVAE.negative_elbo_bound"
    values = returned(model.negative_elbo_bound(x, y), names, what)
    for name, t in zip(names, values):
        expect_shape(t, (), f"{name} of {what}", "return the batch mean (.mean())")
        expect_finite(t, f"{name} of {what}", "check for log(0) or 0/0")
    nelbo, kl_z, rec = values
    expect_close(nelbo, kl_z + rec, "nelbo compared with kl_z + rec", "nelbo = kl_z + rec")
    return values


@checks.add("1.2", "fsvae")
def fsvae_returns() -> None:
    """FSVAE.negative_elbo_bound: three 0-dim tensors, nelbo = kl_z + rec"""
    fsvae_bound(fsvae(), *svhn_batch(4, seed=4))


@checks.add("1.2", "fsvae")
def fsvae_exact() -> None:
    """FSVAE: kl_z and rec exact for a decoder that ignores z (variance 0.1)"""
    model, (x, y) = fsvae(blind=True), svhn_batch(4, seed=5)
    with torch.no_grad():
        _, kl_z, rec = fsvae_bound(model, x, y)
        m, v = model.enc(x, y)
        mu = model.dec(torch.zeros_like(m), y)
    want_kl = kl_divergence(Normal(m, v.sqrt()), Normal(0.0, 1.0)).sum(1).mean()
    want_rec = -Normal(mu.double(), math.sqrt(0.1)).log_prob(x.double()).sum(1).mean()
    remedy = "ut.kl_normal against N(0, I), per example, then the batch mean"
    expect_close(kl_z, want_kl, "kl_z", remedy, rtol=1e-4)
    expect_close(
        rec,
        want_rec,
        "rec for a decoder whose mean does not depend on z",
        "-ut.log_normal(x, mu, variance X_VARIANCE = 0.1), summed over the 3072 pixels, "
        "then the batch mean",
        rtol=1e-4,
    )


@checks.add("1.2", "fsvae")
def fsvae_gradient() -> None:
    """FSVAE: rec's gradient reaches the encoder through z"""
    model = fsvae()
    _, _, rec = fsvae_bound(model, *svhn_batch(4, seed=6))
    remedy = "decode z = ut.sample_gaussian(m, v), with no .detach()"
    expect_gradient(rec, [layer(model.enc, -1).weight], "the encoder from rec", remedy)


# ---------------------------------------------------------------------- 2.1 causal_mask


def flow() -> ModuleType:
    """The student's svhn_vae/flow.py."""
    return checks.module("svhn_vae.flow")


MASKS = {  # from the docstring: 1 above the centre row, and left of the centre in its row
    ("A", 3): [[1, 1, 1], [1, 0, 0], [0, 0, 0]],
    ("B", 3): [[1, 1, 1], [1, 1, 0], [0, 0, 0]],
    ("A", 5): [[1] * 5, [1] * 5, [1, 1, 0, 0, 0], [0] * 5, [0] * 5],
}


@checks.add("2.1", "flow")
def masks() -> None:
    """causal_mask gives the (k, k) masks of types A and B"""
    for (kind, k), want in MASKS.items():
        got = one_value(flow().causal_mask(kind, k), f"causal_mask({kind!r}, {k})")
        expect_close(
            got.float().reshape(got.shape[-2:]),
            torch.tensor(want),
            f"causal_mask({kind!r}, {k})",
            "1 on every row above the centre and left of the centre in its row; the centre "
            "is 1 for 'B' and 0 for 'A'",
        )


@checks.add("2.1", "flow")
def pixelcnn_causal() -> None:
    """ShallowPixelCNN's output at a position reads only earlier positions"""
    torch.manual_seed(0)
    net = flow().ShallowPixelCNN(1, 2, hidden=8, layers=2)
    z, height, width = randn(1, 1, 4, 4, seed=7), 4, 4
    jac = torch.autograd.functional.jacobian(lambda t: net(t)[0].sum(0), z)[
        :, :, 0, 0
    ]  # (H, W, H, W)
    for i in range(height * width):
        seen = jac[i // width, i % width].flatten().abs() > 0  # (H * W,) inputs that move it
        if seen[i:].any():
            j = i + int(seen[i:].nonzero()[0])
            fail(
                f"the output at position {divmod(i, width)} moves with the input at "
                f"{divmod(j, width)}, which is not before it in raster order: fix causal_mask"
            )
        neighbours = {"left of it": i - 1 if i % width else -1, "above it": i - width}
        for where, j in neighbours.items():
            if j >= 0 and not seen[j]:
                fail(
                    f"the output at position {divmod(i, width)} ignores the input just {where}: "
                    "the mask keeps the rows above and the left of the centre row, and type B "
                    "keeps the centre"
                )


# -------------------------------------------------------------------------- 2.2 the flow


def prior(channels: int, seed: int = 0) -> nn.Module:
    """An untrained AutoregressiveFlowPrior over `channels` channels, small."""
    model_class = flow().AutoregressiveFlowPrior
    torch.manual_seed(seed)
    return model_class(channels, hidden=8, layers=2)


@checks.add("2.2", "flow")
def shift_and_log_scale() -> None:
    """flow prior: shift_and_log_scale gives mu, the first channels, and tanh of the rest"""
    model, z = prior(3), randn(2, 3, 4, 4, seed=8)
    names = ("mu", "log_sigma")
    mu, log_sigma = returned(model.shift_and_log_scale(z), names, "shift_and_log_scale(z)")
    with torch.no_grad():
        out = model.net(z)
    expect_close(mu, out[:, :3], "mu", "mu is the first `channels` channels of self.net(z)")
    expect_close(
        log_sigma,
        torch.tanh(out[:, 3:]),
        "log_sigma",
        "log_sigma is tanh of the last `channels` channels of self.net(z)",
    )


@checks.add("2.2", "flow")
def log_prob_constant() -> None:
    """flow prior: log_prob exact for a constant shift and scale"""
    model, z = prior(2), randn(3, 2, 3, 3, seed=9)
    shift, raw = torch.tensor([0.5, -1.0]), torch.tensor([0.7, -0.4])
    fix_output(model.net, torch.cat([shift, raw]))
    got = one_value(model.log_prob(z), "log_prob(z)")
    sigma = raw.tanh().exp().reshape(1, 2, 1, 1)
    want = (
        Normal(shift.reshape(1, 2, 1, 1).double(), sigma.double())
        .log_prob(z.double())
        .sum((1, 2, 3))
    )
    expect_close(
        got,
        want,
        "log_prob(z) where mu and log_sigma do not depend on z",
        "log N(eps; 0, I) - sum of log_sigma over channels and positions, one value per "
        "example, with eps = (z - mu) exp(-log_sigma)",
        rtol=1e-4,
    )


@checks.add("2.2", "flow")
def log_prob_jacobian() -> None:
    """flow prior: log_prob and its gradient match the full Jacobian of a tiny z"""
    model, z = prior(2), randn(1, 2, 2, 2, seed=10).double()
    model.double()

    def eps(t: torch.Tensor) -> torch.Tensor:
        """The map z -> eps of the handout, flat: (8,) -> (8,)."""
        out = model.net(t.reshape(z.shape))
        return ((t.reshape(z.shape) - out[:, :2]) * torch.exp(-torch.tanh(out[:, 2:]))).flatten()

    flat = z.flatten().requires_grad_(True)
    jac = torch.autograd.functional.jacobian(eps, flat, create_graph=True)  # (8, 8)
    want = Normal(0.0, 1.0).log_prob(eps(flat)).sum() + torch.linalg.slogdet(jac)[1]
    (want_grad,) = torch.autograd.grad(want, flat)
    z.requires_grad_(True)
    got = one_value(model.log_prob(z), "log_prob(z)")
    remedy = "log N(eps; 0, I) - sum of log_sigma (if causal_mask fails its checks, fix it first)"
    expect_close(got.detach(), want.detach().reshape(1), "log_prob(z)", remedy, rtol=1e-6)
    (got_grad,) = torch.autograd.grad(got.sum(), z)
    expect_close(
        got_grad.flatten(), want_grad, "d log_prob / dz", "keep mu and log_sigma in the graph"
    )


# -------------------------------------------------------------- 2.B discretized logistics


def logistic() -> Callable:
    """The student's discretized_logistic_mixture_log_prob."""
    return checks.module("svhn_vae.logistic").discretized_logistic_mixture_log_prob


def mixture_params(k: int, seed: int, *shape: int) -> torch.Tensor:
    """(*shape, 3k) logits, means and log-scales of k logistics."""
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(*shape, k, generator=gen)
    means = torch.rand(*shape, k, generator=gen) * 2.2 - 1.1
    log_scales = torch.rand(*shape, k, generator=gen) * 3 - 4
    return torch.cat([logits, means, log_scales], -1)


@checks.add("2.B", "logistic")
def logistic_total() -> None:
    """discretized logistics: log P(x) has the shape of x; P sums to one"""
    x = torch.randint(256, (2, 3), generator=torch.Generator().manual_seed(11))
    got = one_value(logistic()(x, mixture_params(2, 12, 2, 3)), "log-probabilities")
    expect_shape(got, (2, 3), "discretized_logistic_mixture_log_prob(x, params)", "one per value")
    values = torch.arange(256)
    for seed in (13, 14, 15):
        params = mixture_params(3, seed, 1).expand(256, -1)
        log_p = logistic()(values, params).double()
        expect_finite(log_p, "log P(k) for k = 0..255", "work in log space (F.logsigmoid)")
        expect_close(
            torch.logsumexp(log_p, 0),
            torch.tensor(0.0),
            "log of the total probability of the 256 values",
            "bins of width 2/255 around c_k = 2k/255 - 1, the first reaching down to -inf and "
            "the last up to +inf, weighted by softmax(logits)",
            atol=1e-4,
        )


@checks.add("2.B", "logistic")
def logistic_values() -> None:
    """discretized logistics: log P(k) exact in the middle and at the edges"""
    mean, log_scale = 0.1, -3.0
    params = torch.tensor([0.0, mean, log_scale]).expand(4, 3)
    x = torch.tensor([0, 100, 140, 255])
    got = logistic()(x, params)
    c, s = 2 * x.double() / 255 - 1, math.exp(log_scale)
    upper, lower = torch.sigmoid((c + 1 / 255 - mean) / s), torch.sigmoid((c - 1 / 255 - mean) / s)
    want = torch.where(x == 0, upper, torch.where(x == 255, 1 - lower, upper - lower)).log()
    expect_close(
        got,
        want,
        f"log P(x) for x = {x.tolist()} under one logistic (mean {mean}, log-scale {log_scale})",
        "sigmoid((c + 1/255 - m) / s) - sigmoid((c - 1/255 - m) / s), s = exp(log_scale)",
        rtol=1e-4,
    )


@checks.add("2.B", "logistic")
def logistic_tails() -> None:
    """discretized logistics: log P(k) finite and accurate far in the tails"""
    params = torch.tensor([0.0, -1.0, -4.0]).expand(2, 3)  # a logistic at 0, scale 0.018
    x = torch.tensor([128, 255])
    got = logistic()(x, params)
    expect_finite(got, "log P(x) far in the tail", "use the stable form in the docstring")
    c, s = 2 * x.double() / 255 - 1, math.exp(-4.0)
    upper, lower = (c + 1 / 255 + 1) / s, (c - 1 / 255 + 1) / s  # both large: no cancellation
    want = torch.where(
        x == 255, torch.sigmoid(-lower), torch.sigmoid(-lower) - torch.sigmoid(-upper)
    )
    expect_close(
        got,
        want.log(),
        "log P(x) at 128 and 255 for a logistic at 0",
        "see the docstring",
        rtol=1e-3,
    )


# ------------------------------------------------------------ q2_solution.py, from hw_vae


class FlatLinear(nn.Module):
    """T(x) = w . flatten(x), for points (batch, D) or images: its gradient is w everywhere."""

    def __init__(self, norm: float, dims: int, seed: int) -> None:
        super().__init__()
        w = torch.randn(dims, generator=torch.Generator().manual_seed(seed))
        self.w = nn.Parameter(norm * w / w.norm())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, ...) -> (batch,) scores."""
        return x.flatten(1) @ self.w


@checks.add("3.1", "q2")
def q2_linear() -> None:
    """q2_solution.py: vf_wasserstein_distance and lp_reg on linear critics"""
    q2 = checks.module("q2_solution")
    x, y = randn(64, 2, seed=16), randn(64, 2, seed=17, scale=2)
    for norm, penalty in ((3.0, 4.0), (0.5, 0.0)):
        critic = FlatLinear(norm, 2, seed=18)
        with torch.no_grad():
            want = critic(x).mean() - critic(y).mean()
        got = objective(q2.vf_wasserstein_distance(x, y, critic), "vf_wasserstein_distance")
        expect_close(got, want.reshape(1), "vf_wasserstein_distance", FROM_HW_VAE, rtol=1e-4)
        got = objective(q2.lp_reg(x, y, critic), "lp_reg")
        what = f"lp_reg for a critic whose gradient norm is {norm:g} everywhere"
        expect_close(got, torch.tensor([penalty]), what, FROM_HW_VAE, atol=1e-4)


# ------------------------------------------------------------------- 3.1 and 3.2: the WGAN


def q3() -> ModuleType:
    """The student's q3_solution.py."""
    return checks.module("q3_solution")


def images(n: int, seed: int) -> torch.Tensor:
    """(n, 3, 32, 32) images in [-1, 1]."""
    return torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@checks.add("3.1", "q3")
def critic_loss() -> None:
    """critic_loss = -vf_wasserstein_distance + lp_coeff * lp_reg"""
    real, fake = images(16, 19), images(16, 20)
    for norm, penalty in ((3.0, 4.0), (0.5, 0.0)):
        critic = FlatLinear(norm, 3072, seed=21)
        with torch.no_grad():
            vf = critic(real).mean() - critic(fake).mean()
        got = objective(q3().critic_loss(critic, real, fake, 5.0), "critic_loss")
        expect_close(
            got,
            (-vf + 5 * penalty).reshape(1),
            f"critic_loss(critic, real, fake, 5) for a linear critic of gradient norm {norm:g}",
            "-vf_wasserstein_distance(real, fake) + lp_coeff * lp_reg(real, fake) on images "
            "flattened to (batch, 3072) (if the q2_solution.py check fails, fix that first)",
            rtol=1e-4,
        )
    expect_gradient(
        got, [critic.w], "the critic from critic_loss", "no .detach(), no torch.no_grad()"
    )


@checks.add("3.1", "q3")
def generator_loss() -> None:
    """generator_loss = -mean critic(fake), differentiable in the images"""
    critic, fake = FlatLinear(1.0, 3072, seed=22), images(16, 23).requires_grad_(True)
    got = objective(q3().generator_loss(critic, fake), "generator_loss")
    with torch.no_grad():
        want = -critic(fake).mean()
    expect_close(
        got,
        want.reshape(1),
        "generator_loss(critic, fake)",
        "-E_Q[T(fake)], a batch mean",
        rtol=1e-4,
    )
    if not got.requires_grad:
        fail("generator_loss is not attached to fake: compute it from critic(fake), no .detach()")
    expect_gradient(got, [fake], "the generated images from generator_loss", "no .detach()")


@checks.add("3.2", "q3")
def interpolations() -> None:
    """interpolations: g(a z0 + (1 - a) z1) and a g(z0) + (1 - a) g(z1)"""
    generator_class = checks.module("q3_model").Generator
    torch.manual_seed(0)
    generator = generator_class(z_dim=8, width=4)
    z0, z1, alphas = randn(8, seed=24), randn(8, seed=25), torch.tensor([0.0, 0.3, 1.0])
    names = ("latent", "data")
    latent, data = returned(q3().interpolations(generator, z0, z1, alphas), names, "interpolations")
    generator.eval()
    with torch.no_grad():
        a = alphas.reshape(-1, 1)
        want_latent = generator(a * z0 + (1 - a) * z1)
        g0, g1 = generator(torch.stack([z0, z1]))
        want_data = a.reshape(-1, 1, 1, 1) * g0 + (1 - a.reshape(-1, 1, 1, 1)) * g1
    for name, got, want, formula in (
        ("latent", latent, want_latent, "generator(alpha z0 + (1 - alpha) z1)"),
        ("data", data, want_data, "alpha generator(z0) + (1 - alpha) generator(z1)"),
    ):
        expect_close(got, want, f"the {name}-space interpolation", f"row a is {formula}", atol=1e-5)


if __name__ == "__main__":
    raise SystemExit(checks.main())
