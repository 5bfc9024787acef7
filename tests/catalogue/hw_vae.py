"""Student bugs that the quick tier of hw_vae must catch, and correct variants that it must pass,
each written as one text replacement in the reference solution's student files.

Data only, in the format of catalogue/hw_gmvae_iwae_ssvae.py: tests/test_catalogue.py builds
and grades every entry. A bug must cost points on `item` and on no other item; a variant must
keep all the quick tier's points (grader/homeworks.py).
"""

from catalogue.hw_gmvae_iwae_ssvae import Entry, bug, variant

Q1 = "q1_solution.py"
Q2 = "q2_solution.py"

# ------------------------------------------------------------------ texts of the reference solution

BERN_FLATTEN = (
    "    mu = mu.reshape(batch_size, -1)  # (batch, D)\n"
    "    target = target.reshape(batch_size, -1)  # (batch, D)\n"
)
BERN_CLAMP = "    eps = 1e-7\n    mu = mu.clamp(eps, 1 - eps)\n"
BERN_RETURN = "    return (target * mu.log() + (1 - target) * (1 - mu).log()).sum(-1)\n"
NORMAL_FLATTEN = (
    "    mu = mu.reshape(batch_size, -1)  # (batch, D)\n"
    "    logvar = logvar.reshape(batch_size, -1)  # (batch, D)\n"
    "    z = z.reshape(batch_size, -1)  # (batch, D)\n"
)
NORMAL = (
    "    per_dim = -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) * torch.exp(-logvar))  # (batch, D)\n"
    "    return per_dim.sum(-1)\n"
)
LME_MAX = "    a = y.max(dim=1, keepdim=True).values  # (batch, 1)\n"
LME_RETURN = "    return (y - a).exp().mean(dim=1).log() + a.squeeze(1)\n"
KL = (
    "    inv_var_p = torch.exp(-logvar_p)\n"
    "    per_dim = 0.5 * (\n"
    "        logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p).pow(2)) * inv_var_p - 1\n"
    "    )  # (batch, dim)\n"
)
KL_TERMS = "        logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p).pow(2)) * inv_var_p - 1\n"
MC_EXPAND = (
    "    mu_q = mu_q.reshape(batch_size, 1, -1).expand(-1, num_samples, -1)\n"
    "    logvar_q = logvar_q.reshape(batch_size, 1, -1).expand(-1, num_samples, -1)\n"
    "    mu_p = mu_p.reshape(batch_size, 1, -1).expand(-1, num_samples, -1)\n"
    "    logvar_p = logvar_p.reshape(batch_size, 1, -1).expand(-1, num_samples, -1)\n"
)
MC_Z = (
    "    z = mu_q + torch.exp(0.5 * logvar_q) * torch.randn_like(mu_q)"
    "  # (batch, num_samples, dim)\n"
)
MC_RETURN = "    return (log_density(mu_q, logvar_q) - log_density(mu_p, logvar_p)).mean(1)\n"
MC_BODY = (
    MC_Z + "\n    def log_density(mu, logvar):  # (batch, num_samples)\n"
    "        return (-0.5 * (LOG_2PI + logvar + (z - mu).pow(2) * torch.exp(-logvar))).sum(-1)\n"
    "\n" + MC_RETURN
)

HEL_X = "    gf_x = 1 - torch.exp(-critic(x))  # (batch,) gf(T(x))\n"
HEL_Y = "    gf_y = 1 - torch.exp(-critic(y))  # (batch,) gf(T(y))\n"
HEL_CONJ = (
    "    conjugate = gf_y / (1 - gf_y)  # (batch,) f*(gf(T(y))), which equals exp(T(y)) - 1\n"
)
HEL_RETURN = "    return (gf_x.mean() - conjugate.mean()).reshape(1)\n"
HEL = HEL_X + HEL_Y + HEL_CONJ + HEL_RETURN
W_RETURN = "    return (critic(x).mean() - critic(y).mean()).reshape(1)\n"
LP_T = (
    "    t = torch.rand(x.size(0), 1, dtype=x.dtype, device=x.device)"
    "  # (batch, 1): one t per pair\n"
)
LP_XHAT = "    x_hat = (t * x + (1 - t) * y).detach().requires_grad_(True)  # (batch, 2)\n"
LP_GRAD = (
    "    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)"
    "  # (batch, 2)\n"
)
LP_EXCESS = "    excess = torch.relu(grad.norm(2, dim=1) - 1)  # (batch,)\n"
LP_RETURN = "    return excess.pow(2).mean().reshape(1)\n"
LP = LP_T + LP_XHAT + LP_GRAD + LP_EXCESS + LP_RETURN

# ======================================================================================== BUGS

Q1_BUGS = [
    bug(
        "bernoulli-logits",
        "1.1",
        Q1,
        BERN_CLAMP + BERN_RETURN,
        "    bce = torch.nn.functional.binary_cross_entropy_with_logits\n"
        "    return -bce(mu, target, reduction='none').sum(-1)\n",
        "Treats the probabilities as logits (the other homework's convention).",
    ),
    bug(
        "bernoulli-no-clamp",
        "1.1",
        Q1,
        BERN_CLAMP,
        "",
        "Takes log(mu) as it is: 0 * log(0) is NaN where mu is exactly 0 or 1.",
    ),
    bug(
        "bernoulli-mean-over-pixels",
        "1.1",
        Q1,
        BERN_RETURN,
        "    return (target * mu.log() + (1 - target) * (1 - mu).log()).mean(-1)\n",
        "Averages over the pixels instead of summing.",
    ),
    bug(
        "bernoulli-batch-mean",
        "1.1",
        Q1,
        BERN_RETURN,
        "    return (target * mu.log() + (1 - target) * (1 - mu).log()).sum(-1).mean()\n",
        "Averages over the batch inside the helper: one number instead of one per example.",
    ),
    bug(
        "bernoulli-no-flatten",
        "1.1",
        Q1,
        BERN_FLATTEN,
        "",
        "Rewrote the function without the flattening: images give (batch, 1, 28) sums.",
    ),
    bug(
        "bernoulli-only-ones",
        "1.1",
        Q1,
        BERN_RETURN,
        "    return (target * mu.log()).sum(-1)\n",
        "Leaves out the (1 - x) log(1 - mu) term of the pixels that are off.",
    ),
    bug(
        "normal-logvar-as-variance",
        "1.2",
        Q1,
        NORMAL,
        "    per_dim = -0.5 * (LOG_2PI + logvar.log() + (z - mu).pow(2) / logvar)\n"
        "    return per_dim.sum(-1)\n",
        "Treats the log-variance as a variance (NaN for negative log-variances).",
    ),
    bug(
        "normal-std-for-variance",
        "1.2",
        Q1,
        NORMAL,
        "    per_dim = -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) * torch.exp(-0.5 * logvar))\n"
        "    return per_dim.sum(-1)\n",
        "Divides by sigma instead of sigma^2.",
    ),
    bug(
        "normal-no-half",
        "1.2",
        Q1,
        NORMAL,
        "    per_dim = -(LOG_2PI + logvar + (z - mu).pow(2) * torch.exp(-logvar))\n"
        "    return per_dim.sum(-1)\n",
        "Forgets the factor 1/2.",
    ),
    bug(
        "normal-no-log-2pi",
        "1.2",
        Q1,
        NORMAL,
        "    per_dim = -0.5 * (logvar + (z - mu).pow(2) * torch.exp(-logvar))\n"
        "    return per_dim.sum(-1)\n",
        "Drops the normalising constant log(2 pi), which the importance weights need.",
    ),
    bug(
        "normal-no-flatten",
        "1.2",
        Q1,
        NORMAL_FLATTEN,
        "",
        "Rewrote the function without the flattening: images give (batch, 1, 28) sums.",
    ),
    bug(
        "log-mean-exp-no-shift",
        "1.3",
        Q1,
        LME_MAX + LME_RETURN,
        "    return y.exp().mean(dim=1).log()\n",
        "Exponentiates directly: overflows to inf for large values, -inf for very negative.",
    ),
    bug(
        "log-mean-exp-is-log-sum-exp",
        "1.3",
        Q1,
        LME_RETURN,
        "    return (y - a).exp().sum(dim=1).log() + a.squeeze(1)\n",
        "Forgets the 1/K: the log of the sum, not of the mean.",
    ),
    bug(
        "log-mean-exp-global-max",
        "1.3",
        Q1,
        LME_MAX + LME_RETURN,
        "    a = y.max()\n    return (y - a).exp().mean(dim=1).log() + a\n",
        "Shifts every row by the largest value of the whole batch: other rows underflow.",
    ),
    bug(
        "log-mean-exp-shift-not-added-back",
        "1.3",
        Q1,
        LME_RETURN,
        "    return (y - a).exp().mean(dim=1).log()\n",
        "Subtracts the maximum but never adds it back.",
    ),
    bug(
        "kl-arguments-swapped",
        "1.4",
        Q1,
        KL_TERMS,
        "        logvar_q - logvar_p + (logvar_p.exp() + (mu_q - mu_p).pow(2)) * (-logvar_q).exp()"
        " - 1\n",
        "Computes KL(p || q): the roles of the two distributions are swapped.",
    ),
    bug(
        "kl-no-half",
        "1.4",
        Q1,
        "    per_dim = 0.5 * (\n",
        "    per_dim = (\n",
        "Forgets the factor 1/2.",
    ),
    bug(
        "kl-no-minus-one",
        "1.4",
        Q1,
        KL_TERMS,
        "        logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p).pow(2)) * inv_var_p\n",
        "Forgets the -1 per dimension (KL(q || q) would be dim / 2, not 0).",
    ),
    bug(
        "kl-std-ratio",
        "1.4",
        Q1,
        KL_TERMS,
        "        logvar_p - logvar_q + (0.5 * (logvar_q - logvar_p)).exp()"
        " + (mu_q - mu_p).pow(2) * inv_var_p - 1\n",
        "Uses the ratio of standard deviations where the ratio of variances belongs.",
    ),
    bug(
        "kl-mc-sum-over-samples",
        "1.5",
        Q1,
        MC_RETURN,
        "    return (log_density(mu_q, logvar_q) - log_density(mu_p, logvar_p)).sum(1)\n",
        "Sums over the samples instead of averaging: num_samples times the KL.",
    ),
    bug(
        "kl-mc-one-sample-for-all",
        "1.5",
        Q1,
        MC_Z,
        "    z = mu_q + torch.exp(0.5 * logvar_q) * torch.randn_like(mu_q[:, :1])\n",
        "Draws one z per example and repeats it: more samples do not lower the variance.",
    ),
    bug(
        "kl-mc-variance-as-std",
        "1.5",
        Q1,
        MC_Z,
        "    z = mu_q + torch.exp(logvar_q) * torch.randn_like(mu_q)\n",
        "Scales the noise by the variance instead of the standard deviation.",
    ),
    bug(
        "kl-mc-reversed",
        "1.5",
        Q1,
        MC_RETURN,
        "    return (log_density(mu_p, logvar_p) - log_density(mu_q, logvar_q)).mean(1)\n",
        "Averages log p(z) - log q(z): minus the KL.",
    ),
    bug(
        "kl-mc-fixed-seed",
        "1.5",
        Q1,
        MC_Z,
        "    torch.manual_seed(0)\n" + MC_Z,
        "Seeds inside the function: every call returns the same estimate.",
    ),
    bug(
        "kl-mc-distributions-sample",
        "1.5",
        Q1,
        MC_Z,
        "    z = torch.distributions.Normal(mu_q, torch.exp(0.5 * logvar_q)).sample()\n",
        "Draws z with torch.distributions' sample(), not rsample(): the right value, but no "
        "gradient reaches mu_q and logvar_q through z (a real submission's pattern).",
    ),
    bug(
        "kl-mc-torch-normal",
        "1.5",
        Q1,
        MC_Z,
        "    z = torch.normal(mu_q, torch.exp(0.5 * logvar_q))\n",
        "Draws z with torch.normal(mu, std), which passes no gradient to mu and std (a real "
        "submission's pattern).",
    ),
    bug(
        "kl-mc-analytic",
        "1.5",
        Q1,
        MC_BODY,
        "    return kl_gaussian_gaussian_analytic(\n"
        "        mu_q[:, 0], logvar_q[:, 0], mu_p[:, 0], logvar_p[:, 0]\n"
        "    )\n",
        "Returns the closed form: right on average, but not a Monte-Carlo estimate.",
    ),
]

Q2_BUGS = [
    bug(
        "hellinger-conjugate-of-raw-critic",
        "2.2",
        Q2,
        HEL_CONJ,
        "    conjugate = critic(y) / (1 - critic(y))\n",
        "Applies f* to T(y) instead of gf(T(y)).",
    ),
    bug(
        "hellinger-activation-sign",
        "2.2",
        Q2,
        HEL_X + HEL_Y,
        "    gf_x = 1 - torch.exp(critic(x))\n    gf_y = 1 - torch.exp(critic(y))\n",
        "Uses gf(v) = 1 - exp(v) instead of 1 - exp(-v).",
    ),
    bug(
        "hellinger-p-q-swapped",
        "2.2",
        Q2,
        HEL_X + HEL_Y,
        "    gf_x = 1 - torch.exp(-critic(y))\n    gf_y = 1 - torch.exp(-critic(x))\n",
        "Takes the samples of Q for P and the other way round.",
    ),
    bug(
        "hellinger-no-conjugate",
        "2.2",
        Q2,
        HEL_RETURN,
        "    return (gf_x.mean() - gf_y.mean()).reshape(1)\n",
        "Subtracts E_Q[gf(T)] without the conjugate.",
    ),
    bug(
        "hellinger-detached",
        "2.2",
        Q2,
        HEL_RETURN,
        "    return torch.tensor([(gf_x.mean() - conjugate.mean()).item()])\n",
        "Rebuilds the value from .item(): right number, but no gradient to train the critic.",
    ),
    bug(
        "wasserstein-sign-flipped",
        "2.4",
        Q2,
        W_RETURN,
        "    return (critic(y).mean() - critic(x).mean()).reshape(1)\n",
        "E_Q[T] - E_P[T]: the critic would maximise minus the distance.",
    ),
    bug(
        "lp-squared-norm",
        "2.4",
        Q2,
        LP_EXCESS,
        "    excess = torch.relu(grad.pow(2).sum(1) - 1)\n",
        "Penalises ||grad||^2 - 1 instead of ||grad|| - 1.",
    ),
    bug(
        "lp-two-sided",
        "2.4",
        Q2,
        LP_EXCESS,
        "    excess = grad.norm(2, dim=1) - 1\n",
        "WGAN-GP's two-sided penalty (||grad|| - 1)^2, not the one-sided Lipschitz penalty.",
    ),
    bug(
        "lp-one-t-per-batch",
        "2.4",
        Q2,
        LP_T,
        "    t = torch.rand(1)\n",
        "Draws one t for the whole batch.",
    ),
    bug(
        "lp-t-normal",
        "2.4",
        Q2,
        LP_T,
        "    t = torch.randn(x.size(0), 1)\n",
        "Draws t from N(0, 1): points off the segment between x and y.",
    ),
    bug(
        "lp-t-per-coordinate",
        "2.4",
        Q2,
        LP_T,
        "    t = torch.rand_like(x)\n",
        "Draws a t per coordinate: x_hat leaves the segment between x and y.",
    ),
    bug(
        "lp-no-create-graph",
        "2.4",
        Q2,
        LP_GRAD,
        "    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)\n",
        "Without create_graph the penalty cannot be trained through.",
    ),
    bug(
        "lp-at-x-only",
        "2.4",
        Q2,
        LP_XHAT,
        "    x_hat = x.detach().requires_grad_(True)\n",
        "Penalises the gradient at the samples of P only, not between P and Q.",
    ),
    bug(
        "lp-norm-of-whole-batch",
        "2.4",
        Q2,
        LP_EXCESS,
        "    excess = torch.relu(grad.norm(2) - 1)\n",
        "Takes one norm over the whole (batch, 2) gradient instead of one per point.",
    ),
]

BUGS = Q1_BUGS + Q2_BUGS

# ==================================================================================== VARIANTS

VARIANTS = [
    variant(
        "bernoulli-binary-cross-entropy",
        Q1,
        BERN_CLAMP + BERN_RETURN,
        "    bce = torch.nn.functional.binary_cross_entropy(mu, target, reduction='none')\n"
        "    return -bce.sum(-1)\n",
        "F.binary_cross_entropy clamps its logs at -100 itself.",
    ),
    variant(
        "bernoulli-distributions",
        Q1,
        BERN_CLAMP + BERN_RETURN,
        "    return torch.distributions.Bernoulli(probs=mu).log_prob(target).sum(-1)\n",
        "torch.distributions clamps the probabilities when it turns them into logits.",
    ),
    variant(
        "bernoulli-eps-inside-log",
        Q1,
        BERN_CLAMP + BERN_RETURN,
        "    log_p = torch.log(mu + 1e-8)\n"
        "    log_1mp = torch.log(1 - mu + 1e-8)\n"
        "    return torch.sum(target * log_p + (1 - target) * log_1mp, dim=1)\n",
        "A small epsilon inside the logs instead of a clamp.",
    ),
    variant(
        "normal-distributions",
        Q1,
        NORMAL,
        "    return torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)\n",
        "torch.distributions with sigma = exp(logvar / 2).",
    ),
    variant(
        "log-mean-exp-logsumexp",
        Q1,
        LME_MAX + LME_RETURN,
        "    return torch.logsumexp(y, dim=1) - math.log(y.size(1))\n",
        "torch.logsumexp minus log K.",
    ),
    variant(
        "kl-distributions",
        Q1,
        KL + "    return per_dim.sum(-1)\n",
        "    Normal = torch.distributions.Normal\n"
        "    q = Normal(mu_q, torch.exp(0.5 * logvar_q))\n"
        "    p = Normal(mu_p, torch.exp(0.5 * logvar_p))\n"
        "    return torch.distributions.kl_divergence(q, p).sum(dim=1)\n",
        "torch.distributions.kl_divergence.",
    ),
    variant(
        "kl-mc-unsqueeze-repeat",
        Q1,
        MC_EXPAND,
        "    dim = mu_q[0].numel()\n"
        "    def grow(t):  # (batch, num_samples, dim), a copy by unsqueeze and repeat\n"
        "        return t.reshape(batch_size, dim).unsqueeze(1).repeat(1, num_samples, 1)\n"
        "    mu_q, logvar_q, mu_p, logvar_p = map(grow, (mu_q, logvar_q, mu_p, logvar_p))\n",
        "Rewrote the provided expansion with unsqueeze and repeat (copies, not views).",
    ),
    variant(
        "kl-mc-rsample",
        Q1,
        MC_BODY,
        "    q = torch.distributions.Normal(mu_q, torch.exp(0.5 * logvar_q))\n"
        "    p = torch.distributions.Normal(mu_p, torch.exp(0.5 * logvar_p))\n"
        "    z = q.rsample()\n"
        "    return (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(-1)\n",
        "Samples with torch.distributions' rsample and scores with log_prob.",
    ),
    variant(
        "kl-mc-uses-log-likelihood-normal",
        Q1,
        MC_BODY,
        "    dim = mu_q.size(-1)\n"
        "    eps = torch.randn(batch_size * num_samples, dim)\n"
        "    flat = [t.reshape(-1, dim) for t in (mu_q, logvar_q, mu_p, logvar_p)]\n"
        "    z = flat[0] + (0.5 * flat[1]).exp() * eps  # (batch * num_samples, dim)\n"
        "    log_q = log_likelihood_normal(flat[0], flat[1], z)\n"
        "    log_p = log_likelihood_normal(flat[2], flat[3], z)\n"
        "    return (log_q - log_p).view(batch_size, num_samples).mean(1)\n",
        "Reuses log_likelihood_normal on (batch * num_samples, dim) rows.",
    ),
    variant(
        "hellinger-exp-form",
        Q2,
        HEL,
        "    return ((1 - torch.exp(-critic(x))).mean() - (torch.exp(critic(y)) - 1).mean())\n",
        "f*(gf(v)) simplified to exp(v) - 1, and a 0-dim result.",
    ),
    variant(
        "wasserstein-unsqueeze",
        Q2,
        W_RETURN,
        "    return torch.mean(critic(x) - critic(y)).unsqueeze(0)\n",
        "The mean of the differences, made (1,) by unsqueeze.",
    ),
    variant(
        "lp-grad-outputs",
        Q2,
        LP,
        "    t = torch.empty(x.shape[0], 1).uniform_(0, 1)\n"
        "    x_hat = t * x + (1 - t) * y\n"
        "    x_hat.requires_grad_(True)\n"
        "    out = critic(x_hat)\n"
        "    grad = torch.autograd.grad(outputs=out, inputs=x_hat,\n"
        "                               grad_outputs=torch.ones_like(out),\n"
        "                               create_graph=True, retain_graph=True)[0]\n"
        "    norm = grad.pow(2).sum(dim=1).sqrt()\n"
        "    return torch.clamp(norm - 1, min=0).pow(2).mean().view(1)\n",
        "autograd.grad with grad_outputs, t from uniform_, the norm by hand, clamp for relu.",
    ),
    variant(
        "lp-distributions-uniform",
        Q2,
        LP_T,
        "    t = torch.distributions.Uniform(0.0, 1.0).sample((x.size(0),)).unsqueeze(1)\n",
        "t from torch.distributions.Uniform.",
    ),
]

__all__ = ["BUGS", "VARIANTS", "Entry"]

# ============================================================= Parts 4 and 5 (conv_vae, vae2d)

CONV = "conv_vae.py"
VAE2D = "vae2d.py"

CONV_STD = "        std = log_std.exp()\n"
CONV_Z = "        z = mean + std * torch.randn_like(mean)  # (batch, latent_dim), reparameterized\n"
CONV_S = "        s = self.decoder_std\n"
CONV_REC = "        per_pixel = 0.5 * ((x - x_mean) / s).pow(2) + math.log(s) + 0.5 * LOG_2PI\n"
CONV_SUM = "        rec = per_pixel.flatten(1).sum(1)  # (batch,)\n"
CONV_KL = "        kl = (0.5 * (mean.pow(2) + std.pow(2) - 1) - log_std).sum(1)  # (batch,)\n"
CONV_RETURN = "        return (rec + kl).mean(), kl.mean(), rec.mean()\n"
CONV_DECODE = (
    "        x_mean = self.decode(z)  # (batch, 1, 28, 28)\n"
    "        # -log N(x; x_mean, s^2) per pixel = (x - x_mean)^2 / (2 s^2) + log s"
    " + log(2 pi) / 2\n"
)
CONV_BODY = (
    "        mean, log_std = self.encode(x)  # (batch, latent_dim) each\n"
    + CONV_STD
    + CONV_Z
    + CONV_DECODE
    + CONV_S
    + CONV_REC
    + CONV_SUM
    + "        # KL(N(m, s^2) || N(0, 1)) = (m^2 + s^2 - 1) / 2 - log s, per latent dimension\n"
    + CONV_KL
    + CONV_RETURN
)
SAMPLE_Z = "        z = torch.randn(n, self.latent_dim, device=device)  # (n, latent_dim)\n"
SAMPLE_RETURN = "        return self.decode(z)\n"

DIAG = (
    "    per_dim = -0.5 * (LOG_2PI + log_var + (x - mu).pow(2) * torch.exp(-log_var))"
    "  # (batch, D)\n"
)
SCALAR_SQUEEZE = "    log_var = log_var.squeeze(-1)  # (batch,)\n"
SCALAR_SQUARED = "    squared = (x - mu).pow(2).sum(-1)  # (batch,) ||x - mu||^2\n"
SCALAR_RETURN = "    return -0.5 * (dims * (LOG_2PI + log_var) + squared * torch.exp(-log_var))\n"
SCALAR_BODY = "    dims = x.shape[-1]\n" + SCALAR_SQUEEZE + SCALAR_SQUARED + SCALAR_RETURN
LOSS_Z = "        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)  # reparameterized\n"
LOSS_KL = "        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(-1)  # (batch,) nats\n"
LOSS_BITS = "        to_bits = 1 / (x.shape[-1] * math.log(2))\n"
LOSS_RETURN = (
    "        return (rec + kl).mean() * to_bits, kl.mean() * to_bits, rec.mean() * to_bits\n"
)
IW_EPS = "        eps = torch.randn(m, batch, latent, dtype=mu.dtype, device=mu.device)\n"
IW_PZ = "        log_pz = (-0.5 * (LOG_2PI + z.pow(2))).sum(-1)  # (m, batch) log N(z; 0, I)\n"
IW_QZ = (
    "        log_qz = (-0.5 * (LOG_2PI + log_var + eps.pow(2))).sum(-1)  # (m, batch) log q(z|x)\n"
)
IW_BOUND = (
    "        bound = torch.logsumexp(log_px + log_pz - log_qz, dim=0) - math.log(m)  # (batch,)\n"
)
IW_RETURN = "        return -bound / (x.shape[-1] * math.log(2))\n"
IW_AFTER_ENCODE = (
    "        m, (batch, latent) = num_samples, mu.shape\n"
    + IW_EPS
    + "        z = mu + torch.exp(0.5 * log_var) * eps  # (m, batch, latent)\n"
    "        x_rep = x.expand(m, *x.shape).reshape(m * batch, -1)  # (m batch, data_dim)\n"
    "        log_px = self.decoder_log_prob(x_rep, z.reshape(m * batch, latent))"
    ".reshape(m, batch)\n" + IW_PZ + IW_QZ + IW_BOUND + IW_RETURN
)

PART4_BUGS = [
    bug(
        "conv-log-std-as-log-variance",
        "4.1",
        CONV,
        CONV_STD + CONV_Z,
        "        std = (0.5 * log_std).exp()\n" + CONV_Z,
        "Reads the encoder's second output as a log-variance, which the handout says is a log-std.",
    ),
    bug(
        "conv-decoder-std-as-variance",
        "4.1",
        CONV,
        CONV_REC,
        "        per_pixel = 0.5 * (x - x_mean).pow(2) / s + 0.5 * math.log(s) + 0.5 * LOG_2PI\n",
        "Uses decoder_std = 0.1 as the variance of p(x|z).",
    ),
    bug(
        "conv-no-normalising-constant",
        "4.1",
        CONV,
        CONV_REC,
        "        per_pixel = 0.5 * ((x - x_mean) / s).pow(2)\n",
        "A squared error over 2 s^2 without log s + log(2 pi) / 2: no longer a log-density, so "
        "nats and bits per dimension are off by 784 (log s + log(2 pi) / 2).",
    ),
    bug(
        "conv-mean-over-pixels",
        "4.1",
        CONV,
        CONV_SUM,
        "        rec = per_pixel.flatten(1).mean(1)  # (batch,)\n",
        "Averages the reconstruction over the 784 pixels instead of summing.",
    ),
    bug(
        "conv-sum-over-batch",
        "4.1",
        CONV,
        CONV_RETURN,
        "        return (rec + kl).sum(), kl.sum(), rec.sum()\n",
        "Sums over the batch instead of averaging.",
    ),
    bug(
        "conv-kl-no-minus-one",
        "4.1",
        CONV,
        CONV_KL,
        "        kl = (0.5 * (mean.pow(2) + std.pow(2)) - log_std).sum(1)  # (batch,)\n",
        "Forgets the -1 of the closed-form KL.",
    ),
    bug(
        "conv-z-is-the-mean",
        "4.1",
        CONV,
        CONV_Z,
        "        z = mean\n",
        "Decodes the posterior mean instead of a sample: an autoencoder's loss, not the ELBO.",
    ),
    bug(
        "conv-sample-without-rsample",
        "4.1",
        CONV,
        CONV_Z,
        "        z = torch.distributions.Normal(mean, std).sample()\n",
        "Draws z with sample(), not rsample(): no gradient reaches the encoder through z.",
    ),
    bug(
        "conv-hard-coded-std",
        "4.1",
        CONV,
        CONV_S,
        "        s = 0.1\n",
        "Hard-codes 0.1 instead of the model's decoder_std hyper-parameter.",
    ),
    bug(
        "conv-terms-swapped",
        "4.1",
        CONV,
        CONV_RETURN,
        "        return (rec + kl).mean(), rec.mean(), kl.mean()\n",
        "Returns (nelbo, rec, kl): the curves would show the KL as the reconstruction.",
    ),
    bug(
        "conv-bernoulli-likelihood",
        "4.1",
        CONV,
        CONV_REC,
        "        per_pixel = torch.nn.functional.binary_cross_entropy_with_logits(\n"
        "            x_mean, x, reduction='none')\n",
        "A Bernoulli likelihood on the logits: the binarized-MNIST habit, not the Gaussian asked.",
    ),
    bug(
        "sample-adds-decoder-noise",
        "4.2",
        CONV,
        SAMPLE_RETURN,
        "        x_mean = self.decode(z)\n"
        "        return x_mean + self.decoder_std * torch.randn_like(x_mean)\n",
        "Returns draws of p(x|z) (grainy) instead of the decoder's means.",
    ),
    bug(
        "sample-uniform-z",
        "4.2",
        CONV,
        SAMPLE_Z,
        "        z = torch.rand(n, self.latent_dim, device=device)\n",
        "Draws z from U(0, 1) instead of the prior N(0, I).",
    ),
    bug(
        "sample-zero-z",
        "4.2",
        CONV,
        SAMPLE_Z,
        "        z = torch.zeros(n, self.latent_dim, device=device)\n",
        "Decodes the prior's mean n times: n copies of one image.",
    ),
    bug(
        "sample-flattened",
        "4.2",
        CONV,
        SAMPLE_RETURN,
        "        return self.decode(z).reshape(n, -1)\n",
        "Returns (n, 784) instead of (n, 1, 28, 28).",
    ),
    bug(
        "sample-sigmoid",
        "4.2",
        CONV,
        SAMPLE_RETURN,
        "        return torch.sigmoid(self.decode(z))\n",
        "Squashes the means through a sigmoid, as if they were logits.",
    ),
]

PART5_BUGS = [
    bug(
        "diagonal-std-for-variance",
        "5.1",
        VAE2D,
        DIAG,
        "    per_dim = -0.5 * (LOG_2PI + log_var + (x - mu).pow(2) * torch.exp(-0.5 * log_var))\n",
        "Divides the squared error by sigma instead of sigma^2.",
    ),
    bug(
        "diagonal-no-log-2pi",
        "5.1",
        VAE2D,
        DIAG,
        "    per_dim = -0.5 * (log_var + (x - mu).pow(2) * torch.exp(-log_var))\n",
        "Drops log(2 pi), which the bits per dimension need.",
    ),
    bug(
        "scalar-normaliser-once",
        "5.1",
        VAE2D,
        SCALAR_RETURN,
        "    return -0.5 * (LOG_2PI + log_var + squared * torch.exp(-log_var))\n",
        "Counts log(2 pi sigma^2) once instead of once per coordinate.",
    ),
    bug(
        "scalar-mean-over-coordinates",
        "5.1",
        VAE2D,
        SCALAR_SQUARED,
        "    squared = (x - mu).pow(2).mean(-1)\n",
        "Averages the squared error over the coordinates instead of summing.",
    ),
    bug(
        "scalar-no-squeeze",
        "5.1",
        VAE2D,
        SCALAR_SQUEEZE,
        "",
        "Keeps log_var (batch, 1): added to a (batch,) sum it broadcasts to (batch, batch).",
    ),
    bug(
        "loss-in-nats",
        "5.2",
        VAE2D,
        LOSS_BITS,
        "        to_bits = 1.0\n",
        "Reports nats, not bits per dimension.",
    ),
    bug(
        "loss-bits-not-per-dimension",
        "5.2",
        VAE2D,
        LOSS_BITS,
        "        to_bits = 1 / math.log(2)\n",
        "Converts to bits but forgets to divide by the 2 dimensions.",
    ),
    bug(
        "loss-kl-log-var-as-log-std",
        "5.2",
        VAE2D,
        LOSS_KL,
        "        kl = (0.5 * (mu.pow(2) + (2 * log_var).exp() - 1) - log_var).sum(-1)\n",
        "Reads the encoder's log-variance as a log-std in the KL.",
    ),
    bug(
        "loss-variance-as-std",
        "5.2",
        VAE2D,
        LOSS_Z,
        "        z = mu + torch.exp(log_var) * torch.randn_like(mu)\n",
        "Scales the noise by the variance instead of the standard deviation.",
    ),
    bug(
        "loss-sum-over-batch",
        "5.2",
        VAE2D,
        LOSS_RETURN,
        "        return (rec + kl).sum() * to_bits, kl.sum() * to_bits, rec.sum() * to_bits\n",
        "Sums the three terms over the batch instead of averaging them.",
    ),
    bug(
        "loss-z-is-the-mean",
        "5.2",
        VAE2D,
        LOSS_Z,
        "        z = mu\n",
        "Decodes the posterior mean instead of a sample of q(z|x).",
    ),
    bug(
        "loss-detached-z",
        "5.2",
        VAE2D,
        LOSS_Z,
        "        z = (mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)).detach()\n",
        "Detaches z: the decoder term no longer trains the encoder.",
    ),
    bug(
        "iwae-no-log-m",
        "5.3",
        VAE2D,
        IW_BOUND,
        "        bound = torch.logsumexp(log_px + log_pz - log_qz, dim=0)\n",
        "log of the sum of the weights, not of their mean: too high by log m.",
    ),
    bug(
        "iwae-mean-of-log-weights",
        "5.3",
        VAE2D,
        IW_BOUND,
        "        bound = (log_px + log_pz - log_qz).mean(0)\n",
        "Averages the log-weights: the ELBO again, whatever m.",
    ),
    bug(
        "iwae-unstable",
        "5.3",
        VAE2D,
        IW_BOUND,
        "        bound = (log_px + log_pz - log_qz).exp().mean(0).log()\n",
        "Exponentiates the log-weights directly: exp underflows to 0 and the bound to -inf.",
    ),
    bug(
        "iwae-one-sample-repeated",
        "5.3",
        VAE2D,
        IW_EPS,
        "        eps = torch.randn(1, batch, latent).expand(m, -1, -1)\n",
        "Draws one z per example and repeats it m times: the ELBO's estimate, not the IWAE's.",
    ),
    bug(
        "iwae-without-prior-and-posterior",
        "5.3",
        VAE2D,
        IW_BOUND,
        "        bound = torch.logsumexp(log_px, dim=0) - math.log(m)\n",
        "Weights the samples by p(x|z) alone, leaving out p(z) / q(z|x).",
    ),
    bug(
        "iwae-posterior-without-log-var",
        "5.3",
        VAE2D,
        IW_QZ,
        "        log_qz = (-0.5 * (LOG_2PI + eps.pow(2))).sum(-1)\n",
        "log q(z|x) without its log-variance term: the density of eps, not of z.",
    ),
]

PART45_VARIANTS = [
    variant(
        "conv-distributions",
        CONV,
        CONV_BODY,
        "        Normal = torch.distributions.Normal\n"
        "        mean, log_std = self.encode(x)\n"
        "        q = Normal(mean, log_std.exp())\n"
        "        z = q.rsample()\n"
        "        log_px = Normal(self.decode(z), self.decoder_std).log_prob(x)\n"
        "        rec = -log_px.sum(dim=(1, 2, 3))\n"
        "        prior = Normal(torch.zeros_like(mean), torch.ones_like(mean))\n"
        "        kl = torch.distributions.kl_divergence(q, prior).sum(-1)\n"
        "        nelbo = rec + kl\n"
        "        return nelbo.mean(), kl.mean(), rec.mean()\n",
        "torch.distributions: rsample, log_prob and kl_divergence.",
    ),
    variant(
        "conv-monte-carlo-kl",
        CONV,
        CONV_KL,
        "        log_q = (-0.5 * ((z - mean) / std).pow(2) - log_std).sum(1)\n"
        "        log_p = (-0.5 * z.pow(2)).sum(1)  # the 2 pi terms cancel\n"
        "        kl = log_q - log_p  # one-sample estimate of the KL\n",
        "A one-sample Monte-Carlo KL, log q(z|x) - log p(z) at the same z: the same expectation.",
    ),
    variant(
        "conv-two-samples",
        CONV,
        CONV_Z + CONV_DECODE + CONV_S + CONV_REC + CONV_SUM,
        "        z = mean + std * torch.randn(2, *mean.shape)  # (2, batch, latent): two draws\n"
        "        x_mean = self.decode(z.flatten(0, 1)).unflatten(0, (2, -1))\n"
        "        s = self.decoder_std\n"
        "        per_pixel = 0.5 * ((x - x_mean) / s).pow(2) + math.log(s) + 0.5 * LOG_2PI\n"
        "        rec = per_pixel.flatten(2).sum(2).mean(0)  # (batch,), the mean of two draws\n",
        "Averages the reconstruction over two draws of z per example (lower variance).",
    ),
    variant(
        "sample-clamped-distributions",
        CONV,
        SAMPLE_Z + SAMPLE_RETURN,
        "        z = torch.distributions.Normal(0.0, 1.0).sample((n, self.latent_dim)).to(device)\n"
        "        return self.decode(z).clamp(0.0, 1.0)\n",
        "z from torch.distributions, and the means clipped to [0, 1] for display.",
    ),
    variant(
        "scalar-via-diagonal",
        VAE2D,
        SCALAR_BODY,
        "    return log_prob_diagonal(x, mu, log_var.expand_as(x))\n",
        "The shared variance expanded to every coordinate and passed to log_prob_diagonal.",
    ),
    variant(
        "loss-distributions",
        VAE2D,
        LOSS_Z + "        rec = -self.decoder_log_prob(x, z)  # (batch,) nats\n",
        "        q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))\n"
        "        rec = -self.decoder_log_prob(x, q.rsample())\n",
        "z from torch.distributions' rsample.",
    ),
    variant(
        "iwae-batch-first-log-mean-exp",
        VAE2D,
        IW_AFTER_ENCODE,
        "        std = torch.exp(0.5 * log_var)\n"
        "        log_w = []\n"
        "        for _ in range(num_samples):  # one z per example at a time\n"
        "            z = mu + std * torch.randn_like(mu)\n"
        "            log_q = log_prob_diagonal(z, mu, log_var)\n"
        "            log_p = log_prob_diagonal(z, torch.zeros_like(z), torch.zeros_like(z))\n"
        "            log_w.append(self.decoder_log_prob(x, z) + log_p - log_q)\n"
        "        log_w = torch.stack(log_w, dim=1)  # (batch, m)\n"
        "        top = log_w.max(dim=1, keepdim=True).values\n"
        "        bound = (log_w - top).exp().mean(1).log() + top.squeeze(1)\n"
        "        return -bound / (2 * math.log(2))\n",
        "A loop over the samples, log_prob_diagonal for log p(z) and log q(z|x), a hand-written "
        "stable log-mean-exp over a (batch, m) layout.",
    ),
]

BUGS = BUGS + PART4_BUGS + PART5_BUGS
VARIANTS = VARIANTS + PART45_VARIANTS

# Graded only with CATALOGUE=all, to keep CI's catalogue run short: in CI, every hidden test that
# any bug of this catalogue fails is still failed by at least three bugs of BUGS (or by all of
# them, where fewer fail it). Chosen greedily from one grading of every bug (the failed tests
# per bug); the real-world patterns of the blind-spot work stay in CI whatever the count.
LATER = {
    "bernoulli-logits",
    "bernoulli-no-clamp",
    "bernoulli-no-flatten",
    "conv-bernoulli-likelihood",
    "conv-hard-coded-std",
    "conv-kl-no-minus-one",
    "conv-log-std-as-log-variance",
    "conv-no-normalising-constant",
    "conv-sample-without-rsample",
    "conv-terms-swapped",
    "conv-z-is-the-mean",
    "diagonal-no-log-2pi",
    "hellinger-conjugate-of-raw-critic",
    "hellinger-detached",
    "iwae-mean-of-log-weights",
    "iwae-one-sample-repeated",
    "iwae-without-prior-and-posterior",
    "kl-no-minus-one",
    "log-mean-exp-global-max",
    "loss-bits-not-per-dimension",
    "loss-detached-z",
    "loss-variance-as-std",
    "loss-z-is-the-mean",
    "lp-at-x-only",
    "lp-no-create-graph",
    "lp-one-t-per-batch",
    "lp-squared-norm",
    "lp-t-normal",
    "normal-no-flatten",
    "normal-no-log-2pi",
    "sample-adds-decoder-noise",
    "sample-uniform-z",
    "scalar-no-squeeze",
}
MORE_BUGS = [e for e in BUGS if e.id in LATER]
BUGS = [e for e in BUGS if e.id not in LATER]
