"""Public checks of this homework: run `python check.py` (or `python check.py 1.2`) here.

They run your functions on small random inputs and on small untrained models, in seconds, on
a CPU, without MNIST: contracts, shapes and small cases whose answer is known exactly. Passing
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
from torch.distributions import (
    Categorical,
    Independent,
    MixtureSameFamily,
    Normal,
    kl_divergence,
)

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
    "hw_gmvae_iwae_ssvae",
    Path(__file__).resolve().parent,
    {
        "utils": "codebase/utils.py",
        "vae": "codebase/models/vae.py",
        "gmvae": "codebase/models/gmvae.py",
        "ssvae": "codebase/models/ssvae.py",
    },
)
BOUND = ("nelbo", "kl", "rec")
IWAE = ("niwae", "kl", "rec")
SSVAE = ("nelbo", "kl_z", "kl_y", "rec")
MEAN = "return the batch mean (.mean() of the per-example values)"


# ------------------------------------------------------------------------------------- helpers


def utils() -> ModuleType:
    """The student's codebase/utils.py."""
    return checks.module("codebase.utils")


def gaussian(
    shape: tuple, seed: int, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, ...]:
    """Points x, means m and variances v (several far from 1), each of `shape`."""
    gen = torch.Generator().manual_seed(seed)
    x = 2 * torch.randn(shape, generator=gen, dtype=dtype)
    m = torch.randn(shape, generator=gen, dtype=dtype)
    v = 0.1 + 3 * torch.rand(shape, generator=gen, dtype=dtype)
    return x, m, v


def images(n: int, seed: int) -> torch.Tensor:
    """(n, 784) binary images."""
    gen = torch.Generator().manual_seed(seed)
    return torch.bernoulli(torch.full((n, 784), 0.3), generator=gen)


def build(module: str, name: str, seed: int, **kwargs) -> nn.Module:
    """An untrained model of the student's module, its weights drawn from `seed`."""
    model_class = getattr(checks.module(f"codebase.models.{module}"), name)
    torch.manual_seed(seed)
    return model_class(**kwargs)


def pre_softplus(v: torch.Tensor) -> torch.Tensor:
    """The h with softplus(h) = v, as ut.gaussian_parameters reads variances."""
    return torch.log(torch.expm1(v))


def bernoulli_nll(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """(batch,) -log Bern(x; sigmoid(logits)) summed over pixels."""
    return F.binary_cross_entropy_with_logits(logits.expand_as(x), x, reduction="none").sum(-1)


def bound(value: object, names: tuple, what: str) -> list[torch.Tensor]:
    """The returned tensors, each checked to be a finite 0-dim batch mean."""
    values = returned(value, names, what)
    for name, t in zip(names, values):
        expect_shape(t, (), f"{name} of {what}", MEAN)
        expect_finite(t, f"{name} of {what}", "check for log(0), 0/0 or exp overflow")
    return values


def check_sum(total: torch.Tensor, parts: list, what: str, terms: str) -> None:
    """Fail unless the first value is the sum of the others."""
    expect_close(total, sum(parts), f"{what} compared with {terms}", f"return {what} = {terms}")


# ---------------------------------------------------------------------- 1.1 sample_gaussian


@checks.add("1.1", "utils")
def sample_shape() -> None:
    """sample_gaussian returns a tensor of the shape and dtype of m"""
    for shape, dtype in (
        ((7, 5), torch.float32),
        ((2, 3, 4), torch.float32),
        ((6,), torch.float64),
    ):
        _, m, v = gaussian(shape, seed=1, dtype=dtype)
        (z,) = returned(utils().sample_gaussian(m, v), ("z",), "sample_gaussian(m, v)")
        expect_shape(z, shape, f"sample_gaussian(m, v) for m of shape {shape}", "one z per entry")
        if z.dtype != dtype:
            fail(f"sample_gaussian turned {dtype} inputs into {z.dtype}: keep the dtype of m")
        expect_finite(z, "sample_gaussian(m, v)", "v is a variance, > 0")


@checks.add("1.1", "utils")
def sample_moments() -> None:
    """sample_gaussian: samples have mean m and variance v (not std v)"""
    rows, m, v = 4000, torch.tensor([1.5, -1.0, 0.0, 3.0]), torch.tensor([4.0, 0.25, 1.0, 9.0])
    z = returned(utils().sample_gaussian(m.repeat(rows, 1), v.repeat(rows, 1)), ("z",), "z")[0]
    z = z.double()
    for what, got, want, se in (
        ("means", z.mean(0), m, (v / rows).sqrt()),
        ("variances", z.var(0), v, v * math.sqrt(2 / rows)),
    ):
        if ((got - want).abs() > 6 * se).any():
            fail(
                f"the sample {what} of {rows} draws per column are "
                f"{[round(g, 3) for g in got.tolist()]} for m = {m.tolist()}, v = {v.tolist()}: "
                "return m + sqrt(v) * eps with eps ~ N(0, I) (v is a variance)"
            )


@checks.add("1.1", "utils")
def sample_gradient() -> None:
    """sample_gaussian: gradients flow from z back to m and v"""
    _, m, v = gaussian((5, 3), seed=2)
    m.requires_grad_(True)
    v.requires_grad_(True)
    (z,) = returned(utils().sample_gaussian(m, v), ("z",), "sample_gaussian(m, v)")
    if not z.requires_grad:
        fail(
            "z does not depend on m and v in the graph: build z = m + sqrt(v) * eps "
            "(torch.normal passes no gradient)"
        )
    expect_gradient(z, [m, v], "m and v from z", "build z = m + sqrt(v) * eps, eps drawn apart")


@checks.add("1.1", "utils")
def sample_fresh() -> None:
    """sample_gaussian: fresh noise for every entry and every call"""
    m, v = torch.zeros(64, 8), torch.ones(64, 8)
    z1, z2 = utils().sample_gaussian(m, v), utils().sample_gaussian(m, v)
    if torch.equal(z1, z2):
        fail("two calls returned the same z: draw new noise in every call (do not seed there)")
    if (z1[1:] == z1[:1]).all(1).any() or (z1[:, 1:] == z1[:, :1]).all(0).any():
        fail("rows or columns of z repeat: draw noise of the full shape of m (torch.randn_like)")


# ------------------------------------------------------------ 2.1 log_normal, log_normal_mixture


@checks.add("2.1", "utils")
def log_normal_values() -> None:
    """log_normal is log N(x; m, diag v) summed over the last dimension"""
    x, m, v = gaussian((4, 3), seed=3)
    want = Normal(m, v.sqrt()).log_prob(x).sum(-1)
    got = returned(utils().log_normal(x, m, v), ("log-density",), "log_normal(x, m, v)")[0]
    expect_close(
        got, want, "log_normal(x, m, v)", "sum -1/2 [log 2 pi + log v + (x - m)^2 / v] over dim -1"
    )


@checks.add("2.1", "utils")
def log_normal_broadcast() -> None:
    """log_normal broadcasts: (2, 1, 3) and (1, 4, 3) inputs give (2, 4)"""
    x, _, _ = gaussian((2, 1, 3), seed=4)
    _, m, v = gaussian((1, 4, 3), seed=5)
    got = utils().log_normal(x, m, v)
    expect_shape(got, (2, 4), "log_normal(x, m, v)", "sum over the last dimension only (dim=-1)")
    want = Normal(m, v.sqrt()).log_prob(x).sum(-1)
    expect_close(got, want, "log_normal(x, m, v)", "let the leading dimensions broadcast")


@checks.add("2.1", "utils")
def log_normal_far() -> None:
    """log_normal stays finite and exact far from the mean"""
    x, m, v = torch.full((2, 3), 40.0), torch.zeros(2, 3), torch.full((2, 3), 0.01)
    want = Normal(m.double(), 0.1).log_prob(x.double()).sum(-1)
    got = utils().log_normal(x, m, v)
    expect_close(got, want, "log_normal at 400 standard deviations", "work with logs, never exp")


def mixture(z: torch.Tensor, m: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """log (1/k) sum_i N(z; m_i, v_i), computed here with torch.distributions."""
    per_component = Normal(m, v.sqrt()).log_prob(z.unsqueeze(-2)).sum(-1)  # (batch, k)
    return torch.logsumexp(per_component, dim=-1) - math.log(m.shape[-2])


@checks.add("2.1", "utils")
def mixture_values() -> None:
    """log_normal_mixture is log of (1/k) sum_i N(z; m_i, v_i)"""
    z, _, _ = gaussian((3, 2), seed=6)
    _, m, v = gaussian((3, 5, 2), seed=7)
    got = returned(utils().log_normal_mixture(z, m, v), ("log-density",), "log_normal_mixture")[0]
    expect_close(
        got,
        mixture(z, m, v),
        "log_normal_mixture(z, m, v)",
        "take ut.log_mean_exp over the k components of log_normal(z.unsqueeze(1), m, v)",
    )


@checks.add("2.1", "utils")
def mixture_broadcast() -> None:
    """log_normal_mixture takes m, v of shape (1, k, dim) as GMVAE does"""
    z, _, _ = gaussian((4, 2), seed=8)
    _, m, v = gaussian((1, 6, 2), seed=9)
    got = utils().log_normal_mixture(z, m, v)
    expect_shape(got, (4,), "log_normal_mixture(z, m, v)", "one value per row of z")
    remedy = "let log_normal broadcast z.unsqueeze(1) against (1, k, dim)"
    expect_close(got, mixture(z, m, v), "log_normal_mixture(z, m, v)", remedy)


@checks.add("2.1", "utils")
def mixture_far() -> None:
    """log_normal_mixture stays finite far from every component"""
    z, m, v = torch.full((2, 3), 30.0), torch.zeros(1, 4, 3), torch.full((1, 4, 3), 0.1)
    got = utils().log_normal_mixture(z, m, v)
    expect_close(
        got,
        mixture(z.double(), m.double(), v.double()),
        "log_normal_mixture where every density is about exp(-13500)",
        "use ut.log_mean_exp, never exp of a log-density",
    )


# --------------------------------------------------------------------------- 1.2 VAE ELBO


def vae(seed: int = 0) -> nn.Module:
    """An untrained VAE with a 4-dimensional z."""
    return build("vae", "VAE", seed, z_dim=4)


@checks.add("1.2", "vae")
def vae_returns() -> None:
    """VAE.negative_elbo_bound: three 0-dim tensors, nelbo = kl + rec"""
    nelbo, kl, rec = bound(
        vae().negative_elbo_bound(images(6, 1)), BOUND, "VAE.negative_elbo_bound"
    )
    check_sum(nelbo, [kl, rec], "nelbo", "kl + rec")
    if kl < 0 or rec < 0:
        fail(f"kl = {kl:.4g}, rec = {rec:.4g}: both are >= 0 (rec is -log p(x|z))")


@checks.add("1.2", "vae")
def vae_kl() -> None:
    """VAE: kl is the batch mean of the analytic KL(q(z|x) || N(0, I))"""
    model, x = vae(), images(6, 2)
    with torch.no_grad():
        _, kl, _ = bound(model.negative_elbo_bound(x), BOUND, "VAE.negative_elbo_bound")
        m, v = model.enc(x)
        want = kl_divergence(Normal(m, v.sqrt()), Normal(0.0, 1.0)).sum(-1).mean()
    remedy = f"ut.kl_normal against the prior, then {MEAN}; return (nelbo, kl, rec) in that order"
    expect_close(kl, want, "kl", remedy, rtol=1e-4)


@checks.add("1.2", "vae")
def vae_rec() -> None:
    """VAE: rec is -log p(x|z) summed over the 784 pixels, batch mean"""
    model, x = vae(), images(6, 3)
    logits = torch.randn(784, generator=torch.Generator().manual_seed(4))
    fix_output(model.dec, logits)  # the decoder now ignores z: rec is one number
    with torch.no_grad():
        _, _, rec = bound(model.negative_elbo_bound(x), BOUND, "VAE.negative_elbo_bound")
    expect_close(
        rec,
        bernoulli_nll(x, logits).mean(),
        "rec for a decoder whose logits do not depend on z",
        f"rec = -ut.log_bernoulli_with_logits(x, logits), already a sum over pixels; {MEAN}",
        rtol=1e-4,
    )


@checks.add("1.2", "vae")
def vae_gradient() -> None:
    """VAE: rec's gradient reaches the encoder through z ~ q(z|x)"""
    model = vae()
    _, _, rec = bound(model.negative_elbo_bound(images(6, 5)), BOUND, "VAE.negative_elbo_bound")
    expect_gradient(
        rec,
        [layer(model.enc, -1).weight],
        "the encoder from rec",
        "decode a z = ut.sample_gaussian(m, v) of the encoder's m, v (no .detach())",
    )


# ----------------------------------------------------------------------------- IWAE bounds


def posterior_is_prior(model: nn.Module, seed: int) -> torch.Tensor:
    """q(z|x) = N(0, I) and a decoder that ignores z: every importance weight is p(x|z).
    Returns the decoder's fixed logits."""
    z_dim = model.z_dim
    fix_output(model.enc, torch.cat([torch.zeros(z_dim), pre_softplus(torch.ones(z_dim))]))
    logits = torch.randn(784, generator=torch.Generator().manual_seed(seed))
    fix_output(model.dec, logits)
    return logits


def iwae_exact(model: nn.Module, what: str) -> None:
    """Where every log-weight is log p(x), niwae = rec = -log p(x) and kl = 0 for every iw."""
    x = images(5, 6)
    want = bernoulli_nll(x, model.dec(torch.zeros(1, model.z_dim)).detach()).mean()
    for iw in (1, 7):
        with torch.no_grad():
            niwae, kl, rec = bound(model.negative_iwae_bound(x, iw), IWAE, f"{what}(x, iw={iw})")
        remedy = "niwae is the batch mean of -log_mean_exp over the iw samples of log-weights"
        expect_close(niwae, want, f"niwae (iw={iw}) where each weight is p(x)", remedy, rtol=1e-4)
        remedy = "kl is the mean over samples and batch of log q(z|x) - log p(z)"
        expect_close(kl, 0, f"kl (iw={iw}) where q(z|x) = p(z)", remedy, atol=1e-3)
        remedy = "rec is the mean over samples and batch of -log p(x|z)"
        expect_close(rec, want, f"rec (iw={iw})", remedy, rtol=1e-4)


def iwae_layout(model: nn.Module, what: str) -> None:
    """A batch mixing two images gives the average of the bounds of batches of each alone."""
    a, b = images(1, 7), images(1, 8)
    with torch.no_grad():
        layer(model.dec, -1).bias.copy_(4 * (2 * a[0] - 1))  # the decoder favours image a
        mixed = model.negative_iwae_bound(torch.cat([a, b]).repeat(64, 1), 5)[0]
        alone = [model.negative_iwae_bound(x.repeat(128, 1), 5)[0] for x in (a, b)]
    want = (alone[0] + alone[1]) / 2
    if not (mixed - want).abs() < 0.05 * want.abs() + 5:
        fail(
            f"{what} on a batch alternating two images is {mixed:.1f}, but on batches of each "
            f"image alone {alone[0]:.1f} and {alone[1]:.1f}: keep each image with its own "
            "samples (ut.duplicate lays out copies as [x; x; ...], so reshape to (iw, batch)) "
            "and average over the samples of one image, not across images"
        )


def fixed_posterior(model: nn.Module, seed: int) -> Normal:
    """Make q(z|x) the same N(m0, diag v0) for every x, and return it (in float64)."""
    gen = torch.Generator().manual_seed(seed)
    m0 = torch.randn(model.z_dim, generator=gen)
    v0 = 0.2 + 0.6 * torch.rand(model.z_dim, generator=gen)
    fix_output(model.enc, torch.cat([m0, pre_softplus(v0)]))
    return Normal(m0.double(), v0.double().sqrt())


def standard_normal(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I), summed over the last dimension."""
    return Normal(0.0, 1.0).log_prob(z).sum(-1)


def iwae_average(model: nn.Module, what: str, log_prior: Callable) -> None:
    """With q(z|x) fixed and a decoder that ignores z, log w = log p(x) + log p(z) - log q(z|x):
    niwae averaged over many copies of an image is the bound's expectation, computed here."""
    q = fixed_posterior(model, seed=30)
    logits = torch.randn(784, generator=torch.Generator().manual_seed(31))
    fix_output(model.dec, logits)
    x = images(1, 32)
    log_px = -bernoulli_nll(x.double(), logits.double())  # (1,)
    for iw, copies in ((1, 256), (16, 128)):
        z = q.sample((4000, iw))  # (4000, iw, z_dim)
        log_w = log_px + log_prior(z) - q.log_prob(z).sum(-1)  # (4000, iw)
        draws = math.log(iw) - torch.logsumexp(log_w, 1)  # (4000,) -log mean_iw w
        with torch.no_grad():
            niwae = model.negative_iwae_bound(x.repeat(copies, 1), iw)[0]
        if abs(niwae.item() - draws.mean().item()) > 6 * draws.std().item() / copies**0.5 + 1e-3:
            fail(
                f"{what}(x, {iw}) averaged over {copies} copies of an image is {niwae.item():.3f}, "
                f"but the bound's expectation is {draws.mean().item():.3f} (q(z|x) fixed, a "
                "decoder that ignores z): log-weights are log p(x|z) + log p(z) - log q(z|x) "
                "at iw independent samples per image, averaged with ut.log_mean_exp"
            )


@checks.add("3.2", "vae")
def vae_iwae_returns() -> None:
    """VAE.negative_iwae_bound: three 0-dim tensors for iw = 1 and 5"""
    for iw in (1, 5):
        bound(
            vae().negative_iwae_bound(images(4, 9), iw), IWAE, f"VAE.negative_iwae_bound(x, {iw})"
        )


@checks.add("3.2", "vae")
def vae_iwae_exact() -> None:
    """VAE IWAE: niwae = rec = -log p(x), kl = 0 when q(z|x) = p(z), any iw"""
    model = vae()
    posterior_is_prior(model, seed=10)
    iwae_exact(model, "VAE.negative_iwae_bound")


@checks.add("3.2", "vae")
def vae_iwae_layout() -> None:
    """VAE IWAE: each image keeps its own samples (a batch of two images)"""
    iwae_layout(vae(), "VAE.negative_iwae_bound")


@checks.add("3.2", "vae")
def vae_iwae_average() -> None:
    """VAE IWAE: niwae averages to the bound's expectation, iw = 1 and 16"""
    iwae_average(vae(), "VAE.negative_iwae_bound", standard_normal)


@checks.add("3.2", "vae")
def vae_iwae_gradient() -> None:
    """VAE IWAE: rec's gradient reaches the encoder through the samples z"""
    model = vae()
    _, _, rec = bound(model.negative_iwae_bound(images(4, 11), 3), IWAE, "VAE.negative_iwae_bound")
    expect_gradient(
        rec, [layer(model.enc, -1).weight], "the encoder from rec", "keep z in the graph"
    )


# --------------------------------------------------------------------------------- GMVAE


def gmvae(seed: int = 0) -> nn.Module:
    """An untrained GMVAE with a 3-dimensional z and a mixture of 20 Gaussians."""
    return build("gmvae", "GMVAE", seed, z_dim=3, k=20)


def prior_is_posterior(model: nn.Module, seed: int) -> torch.Tensor:
    """q(z|x) and every mixture component the same N(m0, v0), and a decoder that ignores z:
    log q(z|x) - log p(z) = 0 for every z. Returns the decoder's fixed logits."""
    gen = torch.Generator().manual_seed(seed)
    m0, v0 = torch.randn(model.z_dim, generator=gen), 0.5 + torch.rand(model.z_dim, generator=gen)
    fix_output(model.enc, torch.cat([m0, pre_softplus(v0)]))
    with torch.no_grad():
        model.z_pre.copy_(torch.cat([m0.expand(model.k, -1), pre_softplus(v0).expand(model.k, -1)]))
    logits = torch.randn(784, generator=gen)
    fix_output(model.dec, logits)
    return logits


@checks.add("2.1", "gmvae")
def gmvae_returns() -> None:
    """GMVAE.negative_elbo_bound: three 0-dim tensors, nelbo = kl + rec"""
    what = "GMVAE.negative_elbo_bound"
    nelbo, kl, rec = bound(gmvae().negative_elbo_bound(images(6, 12)), BOUND, what)
    check_sum(nelbo, [kl, rec], "nelbo", "kl + rec")


@checks.add("2.1", "gmvae")
def gmvae_exact() -> None:
    """GMVAE: kl = 0 and rec exact when q(z|x) equals every component"""
    model, x = gmvae(), images(6, 13)
    logits = prior_is_posterior(model, seed=14)
    with torch.no_grad():
        _, kl, rec = bound(model.negative_elbo_bound(x), BOUND, "GMVAE.negative_elbo_bound")
    expect_close(
        kl,
        0,
        "kl where q(z|x) and all k components of the prior are the same Gaussian",
        "kl = log q(z|x) - log p(z) with log p(z) = ut.log_normal_mixture(z, *self.prior())",
        atol=1e-3,
    )
    expect_close(rec, bernoulli_nll(x, logits).mean(), "rec", f"-log p(x|z), {MEAN}", rtol=1e-4)


def mixture_prior(model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """log p(z) under the model's mixture prior (self.prior() is provided), from
    torch.distributions, in float64."""
    with torch.no_grad():
        m, v = (t[0].double() for t in model.prior())  # (k, z_dim) each
    weights = Categorical(logits=torch.zeros(len(m), dtype=torch.float64))
    return MixtureSameFamily(weights, Independent(Normal(m, v.sqrt()), 1)).log_prob


@checks.add("2.1", "gmvae")
def gmvae_kl_average() -> None:
    """GMVAE: kl averages to KL(q(z|x) || mixture prior)"""
    model, copies = gmvae(), 512
    q, log_prior = fixed_posterior(model, seed=33), mixture_prior(model)
    z = q.sample((20000,))
    draws = q.log_prob(z).sum(-1) - log_prior(z)  # (20000,)
    with torch.no_grad():
        x = images(1, 34).repeat(copies, 1)
        _, kl, _ = bound(model.negative_elbo_bound(x), BOUND, "GMVAE.negative_elbo_bound")
    if abs(kl.item() - draws.mean().item()) > 6 * draws.std().item() / copies**0.5 + 1e-3:
        fail(
            f"kl averaged over {copies} copies of an image is {kl.item():.3f}, but "
            f"KL(q(z|x) || p(z)) is {draws.mean().item():.3f}: kl = log q(z|x) - log p(z) at "
            "the z that gives rec, with log p(z) = ut.log_normal_mixture(z, *self.prior())"
        )


@checks.add("2.1", "gmvae")
def gmvae_gradient() -> None:
    """GMVAE: gradients reach the prior's z_pre, and the encoder through z"""
    model = gmvae()
    nelbo, _, rec = bound(
        model.negative_elbo_bound(images(6, 15)), BOUND, "GMVAE.negative_elbo_bound"
    )
    expect_gradient(
        rec, [layer(model.enc, -1).weight], "the encoder from rec", "keep z in the graph"
    )
    expect_gradient(nelbo, [model.z_pre], "z_pre from nelbo", "use self.prior() without .detach()")


@checks.add("3.4", "gmvae")
def gmvae_iwae_returns() -> None:
    """GMVAE.negative_iwae_bound: three 0-dim tensors for iw = 1 and 5"""
    for iw in (1, 5):
        bound(
            gmvae().negative_iwae_bound(images(4, 16), iw),
            IWAE,
            f"GMVAE.negative_iwae_bound(x, {iw})",
        )


@checks.add("3.4", "gmvae")
def gmvae_iwae_exact() -> None:
    """GMVAE IWAE: niwae = rec = -log p(x), kl = 0 when q(z|x) = p(z), any iw"""
    model = gmvae()
    prior_is_posterior(model, seed=17)
    iwae_exact(model, "GMVAE.negative_iwae_bound")


@checks.add("3.4", "gmvae")
def gmvae_iwae_layout() -> None:
    """GMVAE IWAE: each image keeps its own samples (a batch of two images)"""
    iwae_layout(gmvae(), "GMVAE.negative_iwae_bound")


@checks.add("3.4", "gmvae")
def gmvae_iwae_average() -> None:
    """GMVAE IWAE: niwae averages to the bound's expectation, iw = 1 and 16"""
    model = gmvae()
    iwae_average(model, "GMVAE.negative_iwae_bound", mixture_prior(model))


@checks.add("3.4", "gmvae")
def gmvae_iwae_gradient() -> None:
    """GMVAE IWAE: gradients reach the prior's z_pre, and the encoder through z"""
    model = gmvae()
    niwae, _, rec = bound(
        model.negative_iwae_bound(images(4, 18), 3), IWAE, "GMVAE.negative_iwae_bound"
    )
    expect_gradient(
        rec, [layer(model.enc, -1).weight], "the encoder from rec", "keep z in the graph"
    )
    expect_gradient(niwae, [model.z_pre], "z_pre from niwae", "use self.prior() without .detach()")


# --------------------------------------------------------------------------------- 4.2 SSVAE


def ssvae(seed: int = 0, blind_decoder: bool = False) -> nn.Module:
    """An untrained SSVAE whose labels matter: a classifier far from uniform, an encoder and a
    decoder that depend strongly on y; with `blind_decoder`, a decoder that ignores z."""
    model = build("ssvae", "SSVAE", seed)
    z_dim = model.z_dim
    with torch.no_grad():
        layer(model.cls, -1).weight.mul_(20)
        layer(model.enc, 0).weight[:, 784:] *= 10  # its input is cat(x, y)
        layer(model.dec, 0).weight[:, z_dim:] *= 10  # its input is cat(z, y)
        if blind_decoder:
            layer(model.dec, 0).weight[:, :z_dim] = 0
    return model


def per_label(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """KL(q(z|x,y) || N(0, I)) and, for a decoder blind to z, -log p(x|y): each (batch, 10)."""
    kls, recs = [], []
    for label in range(model.y_dim):
        y = F.one_hot(torch.full((len(x),), label), model.y_dim).float()
        m, v = model.enc(x, y)
        kls.append(kl_divergence(Normal(m, v.sqrt()), Normal(0.0, 1.0)).sum(-1))
        recs.append(bernoulli_nll(x, model.dec(torch.zeros_like(m), y)))
    return torch.stack(kls, 1), torch.stack(recs, 1)


def ssvae_terms(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """(nelbo, kl_z, kl_y, rec) of the student's SSVAE.negative_elbo_bound, checked."""
    return bound(model.negative_elbo_bound(x), SSVAE, "SSVAE.negative_elbo_bound")


@checks.add("4.2", "ssvae")
def ssvae_returns() -> None:
    """SSVAE.negative_elbo_bound: four 0-dim tensors, nelbo = kl_z + kl_y + rec"""
    nelbo, kl_z, kl_y, rec = ssvae_terms(ssvae(), images(5, 19))
    check_sum(nelbo, [kl_z, kl_y, rec], "nelbo", "kl_z + kl_y + rec")


@checks.add("4.2", "ssvae")
def ssvae_kl_y() -> None:
    """SSVAE: kl_y is KL(q(y|x) || uniform), batch mean, returned third"""
    model, x = ssvae(), images(5, 20)
    with torch.no_grad():
        _, kl_z, kl_y, _ = ssvae_terms(model, x)
        q = Categorical(logits=model.cls(x))
        want = kl_divergence(q, Categorical(logits=torch.zeros(10))).mean()
    if (kl_z - want).abs() < 1e-4 < (kl_y - want).abs():
        fail("the second value is KL_y: return (nelbo, kl_z, kl_y, rec), kl_z before kl_y")
    expect_close(
        kl_y, want, "kl_y", f"ut.kl_cat of q(y|x) against log(1/10), then {MEAN}", rtol=1e-4
    )


@checks.add("4.2", "ssvae")
def ssvae_weighted() -> None:
    """SSVAE: kl_z and rec weight each label's terms by q(y|x)"""
    model, x = ssvae(blind_decoder=True), images(5, 21)
    with torch.no_grad():
        _, kl_z, _, rec = ssvae_terms(model, x)
        q = F.softmax(model.cls(x), dim=1)  # (batch, 10)
        kls, recs = per_label(model, x)
    remedy = (
        "for image i and label j, use enc(x_i, y_j) and dec(z, y_j), weight by q(y_j | x_i), "
        f"sum over the 10 labels, then {MEAN}"
    )
    expect_close(kl_z, (q * kls).sum(1).mean(), "kl_z", remedy, rtol=1e-4)
    expect_close(
        rec, (q * recs).sum(1).mean(), "rec for a decoder that ignores z", remedy, rtol=1e-4
    )


@checks.add("4.2", "ssvae")
def ssvae_gradient() -> None:
    """SSVAE: gradients reach the classifier (kl_z) and the encoder (rec)"""
    model = ssvae()
    _, kl_z, _, rec = ssvae_terms(model, images(5, 22))
    remedy = "weight by q(y|x) inside the graph (no .detach())"
    expect_gradient(kl_z, [layer(model.cls, -1).weight], "the classifier from kl_z", remedy)
    expect_gradient(
        rec, [layer(model.enc, -1).weight], "the encoder from rec", "keep z in the graph"
    )


@checks.add("4.2", "ssvae")
def ssvae_confident() -> None:
    """SSVAE: the bound stays finite when the classifier is confident"""
    model = ssvae()
    fix_output(
        model.cls, torch.tensor([0.0] + [-200.0] * 9)
    )  # q(y|x) is 0 in float32 but for y = 0
    ssvae_terms(model, images(5, 23))


if __name__ == "__main__":
    raise SystemExit(checks.main())
