"""Public checks of this homework: run `python check.py` (or `python check.py 1.2`) here.

They run your functions on small random inputs and on small untrained models, in seconds, on
a CPU, without any data set: contracts, shapes and small cases whose answer is known exactly.
Passing them does not mean full marks (the autograder's hidden tests decide the grade), but a
failure here is a bug the autograder will find too. `python check.py --help` lists the options.
"""

import math
from pathlib import Path
from types import ModuleType

import torch
from torch import nn
from torch.distributions import Bernoulli, Normal, kl_divergence

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
    "hw_vae",
    Path(__file__).resolve().parent,
    {
        "q1": "q1_solution.py",
        "q2": "q2_solution.py",
        "conv_vae": "conv_vae.py",
        "vae2d": "vae2d.py",
    },
)
PER_EXAMPLE = "return one value per example, shape (batch,), summed over the features"
BOUND = ("nelbo", "kl", "rec")
LN2 = math.log(2)


def q1() -> ModuleType:
    """The student's q1_solution.py."""
    return checks.module("q1_solution")


def q2() -> ModuleType:
    """The student's q2_solution.py."""
    return checks.module("q2_solution")


def randn(*shape: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    """A tensor of `shape` of N(0, scale^2) numbers drawn from `seed`."""
    return scale * torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def one_value(value: object, what: str) -> torch.Tensor:
    """The single tensor a function returns."""
    return returned(value, ("its result",), what)[0]


def bound(value: object, what: str) -> list[torch.Tensor]:
    """(nelbo, kl, rec): finite 0-dim batch means with nelbo = kl + rec."""
    values = returned(value, BOUND, what)
    for name, t in zip(BOUND, values):
        expect_shape(t, (), f"{name} of {what}", "return the batch mean (.mean())")
        expect_finite(t, f"{name} of {what}", "check for log(0), 0/0 or exp overflow")
    nelbo, kl, rec = values
    expect_close(nelbo, kl + rec, f"nelbo of {what} compared with kl + rec", "nelbo = kl + rec")
    return values


def mc_tolerance(draws: torch.Tensor, n: int) -> float:
    """Six standard errors of a mean of `n` draws distributed like `draws`."""
    return 6 * draws.double().std().item() / math.sqrt(n)


# ----------------------------------------------------------------- 1.1 log_likelihood_bernoulli


@checks.add("1.1", "q1")
def bernoulli_values() -> None:
    """log_likelihood_bernoulli: sum of x log mu + (1 - x) log(1 - mu)"""
    mu = 0.05 + 0.9 * torch.rand(4, 6, generator=torch.Generator().manual_seed(1))
    x = torch.bernoulli(torch.full((4, 6), 0.5), generator=torch.Generator().manual_seed(2))
    got = one_value(q1().log_likelihood_bernoulli(mu, x), "log_likelihood_bernoulli(mu, x)")
    want = Bernoulli(probs=mu.double()).log_prob(x.double()).sum(1)
    expect_close(got, want, "log_likelihood_bernoulli(mu, x)", PER_EXAMPLE + " (mu is p(x = 1))")


@checks.add("1.1", "q1")
def bernoulli_images() -> None:
    """log_likelihood_bernoulli: images (batch, 1, 28, 28) give one value each"""
    mu = 0.1 + 0.8 * torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    x = (mu > 0.5).float()
    got = q1().log_likelihood_bernoulli(mu, x)
    want = Bernoulli(probs=mu.double()).log_prob(x.double()).flatten(1).sum(1)
    expect_close(got, want, "log_likelihood_bernoulli on images", PER_EXAMPLE, rtol=1e-4)


@checks.add("1.1", "q1")
def bernoulli_saturated() -> None:
    """log_likelihood_bernoulli: mu of exactly 0 or 1 agreeing with x gives 0, not NaN"""
    mu = torch.tensor([[0.0, 1.0, 0.3], [1.0, 0.0, 0.6]])
    x = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    got = q1().log_likelihood_bernoulli(mu, x)
    expect_finite(
        got, "log_likelihood_bernoulli where mu is 0 or 1", "clamp mu into [1e-7, 1 - 1e-7]"
    )
    want = torch.tensor([math.log(0.3), math.log(0.4)])
    expect_close(got, want, "log_likelihood_bernoulli", "clamp mu with a tiny eps", atol=1e-4)


# -------------------------------------------------------------------- 1.2 log_likelihood_normal


def normal_log_prob(mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """(batch,) log N(z; mu, exp(logvar)), from torch.distributions in float64."""
    density = Normal(mu.double(), torch.exp(0.5 * logvar.double()))
    return density.log_prob(z.double()).flatten(1).sum(1)


@checks.add("1.2", "q1")
def normal_values() -> None:
    """log_likelihood_normal: log N(z; mu, exp(logvar)), summed per example"""
    mu, logvar, z = randn(4, 5, seed=4), randn(4, 5, seed=5), randn(4, 5, seed=6, scale=2)
    got = one_value(q1().log_likelihood_normal(mu, logvar, z), "log_likelihood_normal")
    expect_close(
        got, normal_log_prob(mu, logvar, z), "log_likelihood_normal", "logvar is log sigma^2"
    )


@checks.add("1.2", "q1")
def normal_extremes() -> None:
    """log_likelihood_normal: exact for log-variances of -30 and +30, on images"""
    mu, z = torch.zeros(2, 1, 28, 28), torch.full((2, 1, 28, 28), 3e-7)
    logvar = torch.cat([torch.full((1, 1, 28, 28), -30.0), torch.full((1, 1, 28, 28), 30.0)])
    got = q1().log_likelihood_normal(mu, logvar, z)
    expect_close(
        got,
        normal_log_prob(mu, logvar, z),
        "log_likelihood_normal with logvar -30 (first image) and +30 (second)",
        "use logvar directly, as (z - mu)^2 * exp(-logvar); " + PER_EXAMPLE,
        rtol=1e-4,
    )


# ----------------------------------------------------------------------------- 1.3 log_mean_exp


@checks.add("1.3", "q1")
def log_mean_exp_values() -> None:
    """log_mean_exp: log of the mean of exp over each row, (batch,)"""
    y = randn(4, 7, seed=7, scale=3)
    got = one_value(q1().log_mean_exp(y), "log_mean_exp(y)")
    want = torch.logsumexp(y.double(), 1) - math.log(7)
    expect_close(got, want, "log_mean_exp(y)", "the log of a MEAN (minus log K), one per row")


@checks.add("1.3", "q1")
def log_mean_exp_extremes() -> None:
    """log_mean_exp stays finite and exact for values of +-10^4"""
    y = torch.tensor([[1e4, 1e4 - 1, 1e4 - 3], [-1e4, -1e4 + 2, -1e4 - 5]])
    got = q1().log_mean_exp(y)
    want = torch.logsumexp(y.double(), 1) - math.log(3)
    expect_close(
        got, want, "log_mean_exp of +-10^4", "shift each row by its own maximum", atol=1e-3
    )


# ------------------------------------------------------------- 1.4 and 1.5: KL between Gaussians


def kl_inputs(seed: int, rows: int = 4) -> tuple[torch.Tensor, ...]:
    """mu_q, logvar_q, mu_p, logvar_p, each (rows, 3)."""
    return tuple(randn(rows, 3, seed=seed + i) for i in range(4))


def exact_kl(*args: torch.Tensor) -> torch.Tensor:
    """(batch,) KL(q || p) of kl_inputs' four tensors, from torch.distributions."""
    mu_q, logvar_q, mu_p, logvar_p = args
    q = Normal(mu_q.double(), torch.exp(0.5 * logvar_q.double()))
    p = Normal(mu_p.double(), torch.exp(0.5 * logvar_p.double()))
    return kl_divergence(q, p).sum(1)


@checks.add("1.4", "q1")
def kl_analytic() -> None:
    """kl_gaussian_gaussian_analytic: KL(q || p), one value per example"""
    args = kl_inputs(seed=8)
    got = one_value(q1().kl_gaussian_gaussian_analytic(*args), "kl_gaussian_gaussian_analytic")
    expect_close(
        got,
        exact_kl(*args),
        "kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p)",
        "q comes first; " + PER_EXAMPLE,
        rtol=1e-4,
    )


def mc_pair(copies: int) -> tuple[tuple[torch.Tensor, ...], float, torch.Tensor]:
    """One pair (q, p) repeated `copies` times, its exact KL and draws of log q(z) - log p(z)."""
    args = tuple(a[:1].repeat(copies, 1) for a in kl_inputs(seed=12, rows=1))
    mu_q, logvar_q, mu_p, logvar_p = (a[0].double() for a in args)
    z = Normal(mu_q, torch.exp(0.5 * logvar_q)).sample((20000,))
    draws = normal_log_prob(mu_q.expand_as(z), logvar_q.expand_as(z), z) - normal_log_prob(
        mu_p.expand_as(z), logvar_p.expand_as(z), z
    )
    return args, exact_kl(*(a[:1] for a in args)).item(), draws


@checks.add("1.5", "q1")
def kl_mc_fresh() -> None:
    """kl_gaussian_gaussian_mc: (batch,) estimates, fresh on every call"""
    args = kl_inputs(seed=16, rows=5)
    for samples in (1, 10):
        got = one_value(q1().kl_gaussian_gaussian_mc(*args, samples), "kl_gaussian_gaussian_mc")
        expect_shape(got, (5,), f"kl_gaussian_gaussian_mc(..., num_samples={samples})", PER_EXAMPLE)
        expect_finite(got, "kl_gaussian_gaussian_mc", "logvar is a log-variance")
    if torch.equal(q1().kl_gaussian_gaussian_mc(*args, 4), q1().kl_gaussian_gaussian_mc(*args, 4)):
        fail("two calls gave the same estimate: draw fresh noise in every call (do not seed there)")


@checks.add("1.5", "q1")
def kl_mc_moments() -> None:
    """kl_gaussian_gaussian_mc averages to the KL; variance falls as 1 / num_samples"""
    copies = 2000
    args, kl, draws = mc_pair(copies)
    spread = {}
    for samples in (1, 16):
        got = q1().kl_gaussian_gaussian_mc(*args, samples).double()
        if abs(got.mean().item() - kl) > mc_tolerance(draws, copies * samples):
            fail(
                f"with num_samples={samples}, the average of {copies} estimates is "
                f"{got.mean():.4f} but the exact KL is {kl:.4f}: average log q(z) - log p(z) "
                "over the samples, z = mu_q + exp(logvar_q / 2) * eps"
            )
        spread[samples] = got.var().item()
    if not 6 < spread[1] / spread[16] < 40:
        fail(
            f"the variance of the estimate went from {spread[1]:.3g} (1 sample) to "
            f"{spread[16]:.3g} (16 samples), not about 16 times less: draw a fresh z for every "
            "example, sample and dimension"
        )


# ------------------------------------------------------------------- 2.2 and 2.4: the critics


class Linear2D(nn.Module):
    """T(p) = w . p + b, for points p of shape (batch, 2): its gradient is w everywhere."""

    def __init__(self, w: tuple[float, float], b: float = 0.0) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))
        self.b = nn.Parameter(torch.tensor(b))

    def forward(self, p: torch.Tensor) -> torch.Tensor:
        """p: (batch, 2) -> (batch,) scores."""
        return p @ self.w + self.b


class Bowl(nn.Module):
    """T(p) = a ||p||^2 / 2, whose gradient at p is a p."""

    def __init__(self, a: float = 1.0) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.tensor(a))

    def forward(self, p: torch.Tensor) -> torch.Tensor:
        """p: (batch, 2) -> (batch,) scores."""
        return 0.5 * self.a * p.pow(2).sum(1)


def points(theta: float, n: int, seed: int) -> torch.Tensor:
    """(n, 2) points (theta, u), u ~ U(0, 1): p is theta = 0, q_theta the others."""
    u = torch.rand(n, 1, generator=torch.Generator().manual_seed(seed))
    return torch.cat([torch.full_like(u, theta), u], 1)


def objective(value: object, what: str) -> torch.Tensor:
    """A critic objective: one value, of shape (1,) (or ())."""
    t = one_value(value, what)
    if t.numel() != 1:
        fail(f"{what} has shape {tuple(t.shape)}: return one value, shape (1,), a batch mean")
    expect_finite(t, what, "check for exp overflow or 0/0")
    return t.reshape(1)


def differentiable(t: torch.Tensor, weight: nn.Parameter, what: str) -> None:
    """Fail unless `t` sends a gradient to the critic's `weight`."""
    if not t.requires_grad:
        fail(f"{what} is not attached to the critic's parameters: compute it from critic(...)")
    expect_gradient(t, [weight], f"the critic's parameters from {what}", "no .detach()")


@checks.add("2.2", "q2")
def hellinger() -> None:
    """vf_squared_hellinger on a linear critic, differentiable"""
    x, y, critic = points(0.0, 64, seed=20), points(0.7, 64, seed=21), Linear2D((0.8, -0.5), 0.1)
    got = objective(q2().vf_squared_hellinger(x, y, critic), "vf_squared_hellinger(x, y, critic)")
    with torch.no_grad():
        tx, ty = critic(x).double(), critic(y).double()
    gf_x, gf_y = 1 - torch.exp(-tx), 1 - torch.exp(-ty)
    want = gf_x.mean() - (gf_y / (1 - gf_y)).mean()
    expect_close(
        got, want.reshape(1), "vf_squared_hellinger", "E_P[gf(T(x))] - E_Q[f*(gf(T(y)))]", rtol=1e-4
    )
    differentiable(got, critic.w, "vf_squared_hellinger")


@checks.add("2.4", "q2")
def wasserstein() -> None:
    """vf_wasserstein_distance on a linear critic, differentiable"""
    x, y, critic = points(0.0, 64, seed=22), points(1.3, 64, seed=23), Linear2D((0.8, -0.5), 0.1)
    got = objective(q2().vf_wasserstein_distance(x, y, critic), "vf_wasserstein_distance")
    with torch.no_grad():
        want = critic(x).double().mean() - critic(y).double().mean()
    expect_close(
        got, want.reshape(1), "vf_wasserstein_distance", "E_P[T(x)] - E_Q[T(y)]", rtol=1e-4
    )
    differentiable(got, critic.w, "vf_wasserstein_distance")


@checks.add("2.4", "q2")
def lp_linear() -> None:
    """lp_reg: (||grad|| - 1)^2 where ||grad|| > 1, and 0 where it is <= 1"""
    x, y = points(0.0, 64, seed=24), points(1.0, 64, seed=25)
    for w, want in (((1.8, 2.4), 4.0), ((0.3, -0.4), 0.0)):  # gradient norms 3 and 0.5
        critic = Linear2D(w)
        got = objective(q2().lp_reg(x, y, critic), "lp_reg(x, y, critic)")
        expect_close(
            got,
            torch.tensor([want]),
            f"lp_reg for a critic whose gradient norm is {math.hypot(*w):g} everywhere",
            "mean of relu(||grad T(x_hat)||_2 - 1)^2, one norm per point",
            atol=1e-4,
        )


@checks.add("2.4", "q2")
def lp_segment() -> None:
    """lp_reg draws one t ~ U[0, 1] per pair and can be trained through"""
    critic, batch, t = Bowl(), 2000, torch.linspace(0, 1, 100001, dtype=torch.float64)
    for a, b in (((4.0, 0.0), (0.0, 0.0)), ((4.0, 0.0), (0.0, 4.0))):
        # grad T(x_hat) = x_hat = t a + (1 - t) b: the penalty's law follows from t's
        per_t = (
            torch.relu(
                (torch.outer(t, torch.tensor(a)) + torch.outer(1 - t, torch.tensor(b))).norm(dim=1)
                - 1
            )
            ** 2
        )
        want, tolerance = per_t.mean().item(), 6 * per_t.std().item() / batch**0.5 + 0.01
        x, y = torch.tensor([a]).repeat(batch, 1), torch.tensor([b]).repeat(batch, 1)
        for _ in range(3):
            got = objective(q2().lp_reg(x, y, critic), "lp_reg(x, y, critic)")
            if not abs(got.item() - want) < tolerance:
                fail(
                    f"lp_reg between {a} and {b} for T(p) = ||p||^2 / 2 is {got.item():.3f}, but "
                    f"its expectation is {want:.3f} and {batch} pairs put it within "
                    f"{tolerance:.2f} of that: draw t ~ U[0, 1] of shape (batch, 1), one per "
                    "pair, and x_hat = t x + (1 - t) y on the segment"
                )
    if not got.requires_grad:
        fail("lp_reg cannot be differentiated: pass create_graph=True to torch.autograd.grad")
    differentiable(got, critic.a, "lp_reg")


# --------------------------------------------------------------------- Problem 4: ConvVAE


def conv_vae(decoder_std: float = 0.1, seed: int = 0) -> nn.Module:
    """An untrained, small ConvVAE (4 latent dimensions, 4 channels)."""
    model_class = checks.module("conv_vae").ConvVAE
    torch.manual_seed(seed)
    return model_class(latent_dim=4, decoder_std=decoder_std, channels=4, hidden=32)


def conv_images(n: int, seed: int) -> torch.Tensor:
    """(n, 1, 28, 28) images in [0, 1)."""
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


@checks.add("4.1", "conv_vae")
def conv_returns() -> None:
    """ConvVAE.calc_elbo: three 0-dim batch means, nelbo = kl + rec"""
    bound(conv_vae().calc_elbo(conv_images(6, 30)), "ConvVAE.calc_elbo")


@checks.add("4.1", "conv_vae")
def conv_exact() -> None:
    """ConvVAE.calc_elbo: rec, kl exact when the decoder ignores z (s = 0.1, 0.25)"""
    x, mean, log_std = (
        conv_images(256, 31),
        torch.tensor([0.5, -1, 1.5, 0]),
        torch.tensor([-1, -0.5, 0, 0.5]),
    )
    q = Normal(mean.double(), log_std.double().exp())
    z = q.sample((20000,))
    draws = (q.log_prob(z) - Normal(0.0, 1.0).log_prob(z)).sum(1)  # a Monte-Carlo KL may pass
    kl = kl_divergence(q, Normal(0.0, 1.0)).sum().item()
    for s in (0.1, 0.25):
        model = conv_vae(decoder_std=s)
        fix_output(model.encoder, torch.cat([mean, log_std]))  # q(z|x) is one Gaussian
        fix_output(model.decoder, 0.3)  # the decoder's mean is 0.3 at every pixel
        with torch.no_grad():
            _, got_kl, rec = bound(model.calc_elbo(x), f"ConvVAE.calc_elbo (decoder_std={s})")
        want = -Normal(0.3, s).log_prob(x.double()).flatten(1).sum(1).mean()
        expect_close(
            rec,
            want,
            f"rec with decoder_std={s} for a decoder whose mean is 0.3 everywhere",
            "sum (x - x_mean)^2 / (2 s^2) + log s + log(2 pi) / 2 over the 784 pixels, "
            "s = self.decoder_std; then the batch mean",
            rtol=1e-4,
        )
        if abs(got_kl.item() - kl) > mc_tolerance(draws, len(x)) + 1e-4:
            fail(
                f"kl is {got_kl.item():.4f} for q(z|x) with means {mean.tolist()} and log-STDs "
                f"{log_std.tolist()}, but KL(q || N(0, I)) is {kl:.4f}: sum (mean^2 + std^2 - 1) "
                "/ 2 - log_std over the latent dimensions, then the batch mean"
            )


@checks.add("4.1", "conv_vae")
def conv_gradient() -> None:
    """ConvVAE.calc_elbo: rec's gradient reaches the encoder through z"""
    model = conv_vae()
    _, _, rec = bound(model.calc_elbo(conv_images(6, 32)), "ConvVAE.calc_elbo")
    expect_gradient(
        rec,
        [layer(model.encoder, -1).weight],
        "the encoder from rec",
        "z = mean + std * eps, no .detach()",
    )


class Probe(nn.Module):
    """A decoder that writes Phi(z), the standard normal CDF of z, into the first pixels of a
    blank image: uniform on (0, 1) when z ~ N(0, I), and unchanged by a clip to [0, 1]."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: (n, latent_dim) -> (n, 1, 28, 28) images."""
        out = torch.zeros(len(z), 1, 28, 28, dtype=z.dtype)
        out[:, 0, 0, : z.shape[1]] = Normal(0.0, 1.0).cdf(z)
        return out


@checks.add("4.2", "conv_vae")
def conv_sample() -> None:
    """ConvVAE.sample(n): (n, 1, 28, 28) decoder means at fresh z ~ N(0, I)"""
    model = conv_vae()
    with torch.no_grad():
        images = one_value(model.sample(5), "ConvVAE.sample(5)")
        expect_shape(
            images, (5, 1, 28, 28), "ConvVAE.sample(5)", "return decode(z), (n, 1, 28, 28)"
        )
        expect_finite(images, "ConvVAE.sample(5)", "decode z ~ N(0, I)")
        fix_output(model.decoder, 0.3)
        blind = model.sample(5)
    expect_close(
        blind,
        torch.full((5, 1, 28, 28), 0.3),
        "sample() of a decoder whose mean is 0.3",
        "return the decoder's means, with no noise added and no sigmoid",
        atol=1e-5,
    )
    model.decoder = Probe()
    with torch.no_grad():
        u = model.sample(4000)[:, 0, 0, :4].double()  # Phi(z) for the z decoded
    if ((u.mean(0) - 0.5).abs() > 0.03).any() or ((u.var(0) * 12 - 1).abs() > 0.15).any():
        fail(
            f"the z that sample() decodes are not N(0, 1): Phi(z) has means "
            f"{u.mean(0).numpy().round(3).tolist()} (should be 0.5) and variances "
            f"{u.var(0).numpy().round(4).tolist()} (1/12): draw z = torch.randn(n, "
            "self.latent_dim), a fresh draw per image"
        )


# ------------------------------------------------------------------------- Problem 5: VAE2D


def vae2d(decoder: str, seed: int = 0) -> nn.Module:
    """An untrained, small VAE2D with the `decoder` ("diagonal" or "scalar")."""
    model_class = checks.module("vae2d").VAE2D
    torch.manual_seed(seed)
    return model_class(decoder=decoder, hidden=16)


def bits(nats: torch.Tensor, dims: int = 2) -> torch.Tensor:
    """Nats as bits per dimension."""
    return nats / (dims * LN2)


@checks.add("5.1", "vae2d")
def diagonal_values() -> None:
    """log_prob_diagonal: log N(x; mu, diag exp(log_var)), (batch,)"""
    x, mu, log_var = randn(5, 2, seed=40, scale=2), randn(5, 2, seed=41), randn(5, 2, seed=42)
    got = one_value(checks.module("vae2d").log_prob_diagonal(x, mu, log_var), "log_prob_diagonal")
    expect_close(
        got,
        normal_log_prob(mu, log_var, x),
        "log_prob_diagonal(x, mu, log_var)",
        "normalising constant included; " + PER_EXAMPLE,
    )


@checks.add("5.1", "vae2d")
def scalar_values() -> None:
    """log_prob_scalar: one shared variance, log_var (batch, 1) -> (batch,)"""
    for dims in (2, 3):
        x, mu, log_var = (
            randn(5, dims, seed=43, scale=2),
            randn(5, dims, seed=44),
            randn(5, 1, seed=45),
        )
        got = one_value(checks.module("vae2d").log_prob_scalar(x, mu, log_var), "log_prob_scalar")
        expect_shape(
            got, (5,), f"log_prob_scalar for D = {dims}", "squeeze log_var to (batch,) first"
        )
        expect_close(
            got,
            normal_log_prob(mu, log_var.expand_as(mu), x),
            f"log_prob_scalar(x, mu, log_var) with D = {dims}",
            "-D/2 [log 2 pi + log_var] - ||x - mu||^2 / (2 exp(log_var))",
        )


@checks.add("5.2", "vae2d")
def loss_returns() -> None:
    """VAE2D.loss: three 0-dim batch means in bits/dim, nelbo = kl + rec"""
    for decoder in ("diagonal", "scalar"):
        bound(vae2d(decoder).loss(randn(8, 2, seed=46)), f"VAE2D('{decoder}').loss")


@checks.add("5.2", "vae2d")
def loss_exact() -> None:
    """VAE2D.loss: rec and kl exact in bits/dim when the decoder ignores z"""
    x = randn(8, 2, seed=47, scale=2)
    for decoder, head in (("diagonal", [1.0, 2.0, 0.5, -0.3]), ("scalar", [1.0, 2.0, 0.4])):
        model = vae2d(decoder)
        fix_output(model.decoder, torch.tensor(head))  # mu = (1, 2) and fixed log-variance(s)
        with torch.no_grad():
            _, kl, rec = bound(model.loss(x), f"VAE2D('{decoder}').loss")
            mu, log_var = model.encode(x)
        sigma = torch.tensor(head[2:]).exp().sqrt().double()
        want_rec = bits(
            -Normal(torch.tensor([1.0, 2.0]).double(), sigma).log_prob(x.double()).sum(1).mean()
        )
        q = Normal(mu.double(), torch.exp(0.5 * log_var.double()))
        want_kl = bits(kl_divergence(q, Normal(0.0, 1.0)).sum(1).mean())
        remedy = "per example in nats, divided by D ln 2 (D = 2), then the batch mean"
        expect_close(
            rec, want_rec, f"rec of the {decoder} decoder, which ignores z", remedy, rtol=1e-4
        )
        expect_close(kl, want_kl, "kl (closed form, log-VARIANCES)", remedy, rtol=1e-4)


@checks.add("5.2", "vae2d")
def loss_gradient() -> None:
    """VAE2D.loss: rec's gradient reaches the encoder through z"""
    model = vae2d("diagonal")
    _, _, rec = bound(model.loss(randn(8, 2, seed=48)), "VAE2D.loss")
    expect_gradient(
        rec,
        [layer(model.encoder, -1).weight],
        "the encoder from rec",
        "z = mu + exp(log_var / 2) * eps",
    )


def fixed_posterior(model: nn.Module, mean: list, log_var: list, head: list) -> None:
    """q(z|x) = N(mean, exp(log_var)) for every x; the decoder outputs `head` for every z."""
    fix_output(model.encoder, torch.tensor(mean + log_var))
    fix_output(model.decoder, torch.tensor(head))


@checks.add("5.3", "vae2d")
def iwae_exact() -> None:
    """VAE2D.iwae_loss: exact where q(z|x) = p(z) and the decoder ignores z"""
    model = vae2d("diagonal")
    fixed_posterior(model, [0.0, 0.0], [0.0, 0.0], [1.0, 2.0, 0.5, -0.3])
    x = torch.cat([randn(4, 2, seed=49, scale=2), torch.tensor([[300.0, -200.0]])])  # p(x) ~ e^-1e5
    want = bits(
        -Normal(
            torch.tensor([1.0, 2.0]).double(), torch.tensor([0.5, -0.3]).double().mul(0.5).exp()
        )
        .log_prob(x.double())
        .sum(1)
    )
    for m in (1, 7):
        with torch.no_grad():
            got = one_value(model.iwae_loss(x, m), f"VAE2D.iwae_loss(x, {m})")
        expect_close(
            got,
            want,
            f"iwae_loss(x, {m}) where every weight is p(x) (the last point is far: p(x) ~ e^-1e5)",
            "minus log of the mean of the m weights, computed stably from the log-weights "
            "(logsumexp - log m), in bits/dim, one value per point",
            rtol=1e-4,
        )


@checks.add("5.3", "vae2d")
def iwae_average() -> None:
    """VAE2D.iwae_loss averages to the bound's expectation, m = 1 and 16"""
    mean, log_var, head = [0.8, -0.5], [-1.0, 0.4], [1.0, 2.0, 0.5, -0.3]
    model = vae2d("diagonal")
    fixed_posterior(model, mean, log_var, head)
    x = torch.tensor([[2.0, 1.5]])
    log_px = (
        Normal(torch.tensor([1.0, 2.0]), torch.tensor(head[2:]).mul(0.5).exp())
        .log_prob(x)
        .sum()
        .double()
    )
    q = Normal(torch.tensor(mean).double(), torch.tensor(log_var).double().mul(0.5).exp())
    for m, copies in ((1, 2000), (16, 500)):
        z = q.sample((4000, m))
        log_w = log_px + (Normal(0.0, 1.0).log_prob(z) - q.log_prob(z)).sum(-1)  # (4000, m)
        draws = -bits(torch.logsumexp(log_w, 1) - math.log(m))
        with torch.no_grad():
            got = model.iwae_loss(x.repeat(copies, 1), m).double().mean()
        if abs(got - draws.mean()) > mc_tolerance(draws, copies) + 1e-3:
            fail(
                f"the average of iwae_loss(x, {m}) over {copies} copies of a point is {got:.4f} "
                f"bits/dim, but the bound's expectation is {draws.mean():.4f}: log w = "
                "log p(x|z) + log p(z) - log q(z|x), one fresh z per sample and point"
            )


if __name__ == "__main__":
    raise SystemExit(checks.main())
