"""Student bugs that the quick tier of hw_svhn must catch, and correct variants that it must pass,
each written as one text replacement in the reference solution's student files.

Data only, in the format of catalogue/hw_gmvae_iwae_ssvae.py: tests/test_catalogue.py builds
and grades every entry. A bug must cost points on `item` and on no other item; a variant must
keep all the quick tier's points (grader/homeworks.py), the training check on the SVHN subset
included (the catalogue grades with the data sets of $VAECOURSE_DATA).
"""

from catalogue.hw_gmvae_iwae_ssvae import Entry, bug, variant

FSVAE = "codebase/models/fsvae.py"
FLOW = "svhn_vae/flow.py"
LOGISTIC = "svhn_vae/logistic.py"
Q3 = "q3_solution.py"

# ------------------------------------------------------------------ texts of the reference solution

F_Z = "        z = ut.sample_gaussian(m, v)  # (batch, z_dim)\n"
F_MU = "        mu = self.dec(z, y)  # (batch, 3072)\n"
F_REC = "        rec = -ut.log_normal(x, mu, torch.full_like(mu, X_VARIANCE))  # (batch,)\n"
F_KL = "        kl_z = ut.kl_normal(m, v, pm, pv)  # (batch,)\n"
F_RETURN = "        return nelbo.mean(), kl_z.mean(), rec.mean()\n"
F_BODY = (
    "        m, v = self.enc(x, y)  # (batch, z_dim) each\n"
    + F_Z
    + F_MU
    + F_REC
    + "        pm, pv = self.z_prior_m.expand_as(m), self.z_prior_v.expand_as(v)\n"
    + F_KL
    + "        nelbo = kl_z + rec\n"
    + F_RETURN
)

M_ABOVE = "    mask[:centre, :] = 1  # the rows above\n"
M_LEFT = "    mask[centre, :centre] = 1  # the centre row, left of the centre\n"
M_CENTRE = '    mask[centre, centre] = float(mask_type == "B")\n'
M_RETURN = "    return mask\n    # END SOLUTION\n"
M_BODY = (
    "    centre = kernel_size // 2\n    mask = torch.zeros(kernel_size, kernel_size)\n"
    + M_ABOVE
    + M_LEFT
    + M_CENTRE
    + "    return mask\n"
)

S_SPLIT = "        mu, raw = self.net(z).chunk(2, dim=1)  # (batch, channels, H, W) each\n"
S_RETURN = "        return mu, torch.tanh(raw)\n"
L_PARAMS = "        mu, log_sigma = self.shift_and_log_scale(z)\n"
L_EPS = "        eps = (z - mu) * torch.exp(-log_sigma)  # (batch, channels, H, W), eq. 13\n"
L_BASE = "        log_base = -0.5 * (eps.pow(2) + LOG_2PI)  # log N(eps; 0, 1) per entry\n"
L_RETURN = (
    "        return (log_base - log_sigma).flatten(1).sum(1)"
    "  # the log-determinant is -sum log sigma\n"
)
L_BODY = L_PARAMS + L_EPS + L_BASE + L_RETURN

D_CENTRE = "    centre = (2 * x.to(params.dtype) / 255 - 1).unsqueeze(-1)  # (..., 1)\n"
D_INV = "    inv_s = torch.exp(-log_scales)\n"
D_EDGES = (
    "    upper = (centre + HALF_BIN - means) * inv_s  # (..., K) standardised bin edges\n"
    "    lower = (centre - HALF_BIN - means) * inv_s\n"
)
D_INNER = (
    "    inner = (\n"
    "        torch.nn.functional.logsigmoid(upper)\n"
    "        + torch.nn.functional.logsigmoid(-lower)\n"
    "        + torch.log(-torch.expm1(lower - upper))\n"
    "    )\n"
)
D_WHERE = "    log_p = torch.where(value <= 0, first, torch.where(value >= 255, last, inner))\n"
D_RETURN = "    return torch.logsumexp(log_p + torch.log_softmax(logits, dim=-1), dim=-1)\n"
D_AFTER_SPLIT = (
    D_CENTRE
    + D_INV
    + D_EDGES
    + "    # log(sigmoid(upper) - sigmoid(lower)), stable: the difference of edges is 2/255 * "
    "inv_s > 0\n"
    + D_INNER
    + "    first = torch.nn.functional.logsigmoid(upper)  # P(0): the bin reaches down to -inf\n"
    "    last = torch.nn.functional.logsigmoid(-lower)  # P(255): up to +inf\n"
    "    value = x.to(params.dtype).unsqueeze(-1)\n" + D_WHERE + D_RETURN
)

C_FLAT = (
    "    x, y = real.flatten(1), fake.flatten(1)  # (batch, 3072): hw_vae's functions take points\n"
)
C_RETURN = "    return -vf_wasserstein_distance(x, y, critic) + lp_coeff * lp_reg(x, y, critic)\n"
G_RETURN = "    return -critic(fake).mean().reshape(1)\n"
I_LATENT = "    latent = generator(a * z0 + (1 - a) * z1)  # (A, 3, 32, 32)\n"
I_RETURN = "    return latent, a * x0 + (1 - a) * x1\n"
I_BODY = (
    "    a = alphas.reshape(-1, 1)  # (A, 1)\n"
    + I_LATENT
    + "    x0, x1 = generator(torch.stack([z0, z1]))  # (3, 32, 32) each\n"
    "    a = a.reshape(-1, 1, 1, 1)\n" + I_RETURN
)

# ======================================================================================== BUGS

FSVAE_BUGS = [
    bug(
        "fsvae-variance-one",
        "1.2",
        FSVAE,
        F_REC,
        "        rec = -ut.log_normal(x, mu, torch.ones_like(mu))\n",
        "Scores the pixels under a unit variance instead of 0.1.",
    ),
    bug(
        "fsvae-std-for-variance",
        "1.2",
        FSVAE,
        F_REC,
        "        rec = -ut.log_normal(x, mu, torch.full_like(mu, X_VARIANCE ** 2))\n",
        "Takes 0.1 for the standard deviation: a variance of 0.01.",
    ),
    bug(
        "fsvae-mean-over-pixels",
        "1.2",
        FSVAE,
        F_REC,
        "        rec = -ut.log_normal(x, mu, torch.full_like(mu, X_VARIANCE)) / x.size(1)\n",
        "Averages the log-density over the 3072 pixels instead of summing.",
    ),
    bug(
        "fsvae-squared-error-only",
        "1.2",
        FSVAE,
        F_REC,
        "        rec = (x - mu).pow(2).sum(-1) / (2 * X_VARIANCE)\n",
        "Keeps the squared error and drops the Gaussian's normalising constant.",
    ),
    bug(
        "fsvae-kl-sign",
        "1.2",
        FSVAE,
        F_KL,
        "        kl_z = -ut.kl_normal(m, v, pm, pv)\n",
        "Negates the KL: the bound then rewards posteriors far from the prior.",
    ),
    bug(
        "fsvae-kl-swapped",
        "1.2",
        FSVAE,
        F_KL,
        "        kl_z = ut.kl_normal(pm, pv, m, v)\n",
        "KL(p || q) instead of KL(q || p).",
    ),
    bug(
        "fsvae-z-is-mean",
        "1.2",
        FSVAE,
        F_Z,
        "        z = m\n",
        "Decodes the posterior mean instead of a sample.",
    ),
    bug(
        "fsvae-no-label-in-decoder",
        "1.2",
        FSVAE,
        F_MU,
        "        mu = self.dec(z, torch.zeros_like(y))\n",
        "Decodes without the label (a zero vector where the one-hot y belongs).",
    ),
    bug(
        "fsvae-z-detached",
        "1.2",
        FSVAE,
        F_Z,
        "        z = ut.sample_gaussian(m, v).detach()\n",
        "Cuts the reparameterized path: the encoder learns only from the KL.",
    ),
    bug(
        "fsvae-batch-sum",
        "1.2",
        FSVAE,
        F_RETURN,
        "        return nelbo.sum(), kl_z.sum(), rec.sum()\n",
        "Sums over the batch instead of averaging.",
    ),
]

MASK_BUGS = [
    bug(
        "mask-a-includes-centre",
        "2.1",
        FLOW,
        M_CENTRE,
        "    mask[centre, centre] = 1\n",
        "Type A keeps the centre: the first layer sees the value it predicts.",
    ),
    bug(
        "mask-b-excludes-centre",
        "2.1",
        FLOW,
        M_CENTRE,
        "    mask[centre, centre] = 0\n",
        "Type B hides the centre too: later layers lose their own position's features.",
    ),
    bug(
        "mask-transposed",
        "2.1",
        FLOW,
        M_RETURN,
        "    return mask.t()\n    # END SOLUTION\n",
        "Lays the pattern along the wrong axes (columns for rows): sees below-left.",
    ),
    bug(
        "mask-whole-centre-row",
        "2.1",
        FLOW,
        M_ABOVE,
        "    mask[:centre + 1, :] = 1\n",
        "Off by one: the whole centre row, right of the centre included.",
    ),
    bug(
        "mask-forgotten",
        "2.1",
        FLOW,
        M_BODY,
        "    return torch.ones(kernel_size, kernel_size)\n",
        "No mask at all: every output sees the future.",
    ),
    bug(
        "mask-no-left-part",
        "2.1",
        FLOW,
        M_LEFT,
        "",
        "Forgets the left part of the centre row: misses its nearest neighbours.",
    ),
]

FLOW_BUGS = [
    bug(
        "flow-missing-tanh",
        "2.2",
        FLOW,
        S_RETURN,
        "        return mu, raw\n",
        "Uses the raw log-scales, without tanh.",
    ),
    bug(
        "flow-split-swapped",
        "2.2",
        FLOW,
        S_SPLIT,
        "        raw, mu = self.net(z).chunk(2, dim=1)\n",
        "Takes the first half of the channels for the log-scale.",
    ),
    bug(
        "flow-logdet-sign",
        "2.2",
        FLOW,
        L_RETURN,
        "        return (log_base + log_sigma).flatten(1).sum(1)\n",
        "Adds sum log sigma: the log-determinant of the inverse map.",
    ),
    bug(
        "flow-logdet-over-batch",
        "2.2",
        FLOW,
        L_RETURN,
        "        return log_base.flatten(1).sum(1) - log_sigma.sum()\n",
        "Sums the log-determinant over the whole batch and subtracts it from every example.",
    ),
    bug(
        "flow-eps-times-sigma",
        "2.2",
        FLOW,
        L_EPS,
        "        eps = (z - mu) * torch.exp(log_sigma)\n",
        "Multiplies by sigma where dividing belongs.",
    ),
    bug(
        "flow-no-log-2pi",
        "2.2",
        FLOW,
        L_BASE,
        "        log_base = -0.5 * eps.pow(2)\n",
        "Drops the normalising constant of N(0, 1).",
    ),
    bug(
        "flow-mean-over-entries",
        "2.2",
        FLOW,
        L_RETURN,
        "        return (log_base - log_sigma).flatten(1).mean(1)\n",
        "Averages over the latent's entries instead of summing.",
    ),
    bug(
        "flow-params-detached",
        "2.2",
        FLOW,
        L_PARAMS + L_EPS,
        "        mu, log_sigma = (t.detach() for t in self.shift_and_log_scale(z))\n" + L_EPS,
        "Detaches mu and log sigma: the prior's network would never be trained.",
    ),
]

LOGISTIC_BUGS = [
    bug(
        "logistic-no-edge-bins",
        "2.B",
        LOGISTIC,
        D_WHERE,
        "    log_p = inner\n",
        "Gives 0 and 255 ordinary bins: the 256 probabilities sum to less than one.",
    ),
    bug(
        "logistic-bin-width-256",
        "2.B",
        LOGISTIC,
        D_EDGES,
        "    upper = (centre + 1 / 256 - means) * inv_s\n"
        "    lower = (centre - 1 / 256 - means) * inv_s\n",
        "Half-bins of 1/256 on [-1, 1]: gaps between neighbouring bins.",
    ),
    bug(
        "logistic-naive-difference",
        "2.B",
        LOGISTIC,
        D_INNER,
        "    inner = torch.log(torch.sigmoid(upper) - torch.sigmoid(lower))\n",
        "Subtracts the two sigmoids directly: log(0) = -inf far in the tails.",
    ),
    bug(
        "logistic-centres-on-unit-interval",
        "2.B",
        LOGISTIC,
        D_CENTRE,
        "    centre = (x.to(params.dtype) / 255).unsqueeze(-1)\n",
        "Puts the centres on [0, 1] while the means live on [-1, 1].",
    ),
    bug(
        "logistic-unnormalised-weights",
        "2.B",
        LOGISTIC,
        D_RETURN,
        "    return torch.logsumexp(log_p + logits, dim=-1)\n",
        "Weights the components by exp(logits) without the softmax.",
    ),
    bug(
        "logistic-scale-inverted",
        "2.B",
        LOGISTIC,
        D_INV,
        "    inv_s = torch.exp(log_scales)\n",
        "Divides by 1/s instead of s.",
    ),
]

WGAN_BUGS = [
    bug(
        "critic-loss-sign",
        "3.1",
        Q3,
        C_RETURN,
        "    return vf_wasserstein_distance(x, y, critic) + lp_coeff * lp_reg(x, y, critic)\n",
        "Minimises the Wasserstein estimate instead of maximising it.",
    ),
    bug(
        "critic-loss-real-fake-swapped",
        "3.1",
        Q3,
        C_RETURN,
        "    return -vf_wasserstein_distance(y, x, critic) + lp_coeff * lp_reg(x, y, critic)\n",
        "Passes the generated images as samples of P.",
    ),
    bug(
        "critic-loss-no-penalty",
        "3.1",
        Q3,
        C_RETURN,
        "    return -vf_wasserstein_distance(x, y, critic)\n",
        "Forgets the Lipschitz penalty.",
    ),
    bug(
        "critic-loss-fixed-coefficient",
        "3.1",
        Q3,
        C_RETURN,
        "    return -vf_wasserstein_distance(x, y, critic) + 10 * lp_reg(x, y, critic)\n",
        "Hard-codes lambda = 10 instead of using lp_coeff.",
    ),
    bug(
        "critic-loss-penalty-subtracted",
        "3.1",
        Q3,
        C_RETURN,
        "    return -vf_wasserstein_distance(x, y, critic) - lp_coeff * lp_reg(x, y, critic)\n",
        "Rewards the critic for steep gradients.",
    ),
    bug(
        "critic-loss-not-flattened",
        "3.1",
        Q3,
        C_FLAT,
        "    x, y = real, fake\n",
        "Passes images to hw_vae's functions, written for (batch, D) points.",
    ),
    bug(
        "generator-loss-sign",
        "3.1",
        Q3,
        G_RETURN,
        "    return critic(fake).mean().reshape(1)\n",
        "Minimises the critic's score of the fakes: the generator runs away from the data.",
    ),
    bug(
        "generator-loss-sum",
        "3.1",
        Q3,
        G_RETURN,
        "    return -critic(fake).sum().reshape(1)\n",
        "Sums over the batch instead of averaging.",
    ),
    bug(
        "generator-loss-detached",
        "3.1",
        Q3,
        G_RETURN,
        "    return -critic(fake.detach()).mean().reshape(1)\n",
        "Detaches the fakes: no gradient reaches the generator.",
    ),
    bug(
        "interpolation-alpha-swapped",
        "3.2",
        Q3,
        I_LATENT,
        "    latent = generator((1 - a) * z0 + a * z1)\n",
        "Weights z0 by 1 - alpha: the latent row runs the wrong way.",
    ),
    bug(
        "interpolation-data-decodes-mix",
        "3.2",
        Q3,
        I_RETURN,
        "    return latent, latent\n",
        "Returns the latent interpolation for both rows.",
    ),
]

BUGS = FSVAE_BUGS + MASK_BUGS + FLOW_BUGS + LOGISTIC_BUGS + WGAN_BUGS

# ==================================================================================== VARIANTS

VARIANTS = [
    variant(
        "fsvae-distributions",
        FSVAE,
        F_BODY,
        "        Normal = torch.distributions.Normal\n"
        "        m, v = self.enc(x, y)\n"
        "        q = Normal(m, v.sqrt())\n"
        "        z = q.rsample()\n"
        "        rec = -Normal(self.dec(z, y), X_VARIANCE ** 0.5).log_prob(x).sum(-1)\n"
        "        prior = Normal(torch.zeros_like(m), torch.ones_like(m))\n"
        "        kl_z = torch.distributions.kl_divergence(q, prior).sum(-1)\n"
        "        return (kl_z + rec).mean(), kl_z.mean(), rec.mean()\n",
        "torch.distributions throughout: rsample, log_prob and kl_divergence.",
    ),
    variant(
        "fsvae-own-reparameterization",
        FSVAE,
        F_Z,
        "        z = m + torch.randn_like(v) * torch.sqrt(v)\n",
        "Samples z by hand, drawing its own noise.",
    ),
    variant(
        "mask-raster-index",
        FLOW,
        M_BODY,
        "    k = kernel_size\n"
        "    index = torch.arange(k * k).reshape(k, k)  # raster index of each kernel entry\n"
        "    centre = (k * k) // 2\n"
        "    return index < centre if mask_type == 'A' else index <= centre\n",
        "Compares raster indices with the centre's; returns a bool mask.",
    ),
    variant(
        "mask-four-dimensional",
        FLOW,
        M_RETURN,
        "    return mask[None, None]\n    # END SOLUTION\n",
        "Returns the mask as (1, 1, k, k), which broadcasts against the weight just the same.",
    ),
    variant(
        "flow-distributions",
        FLOW,
        L_BODY,
        "        mu, log_sigma = self.shift_and_log_scale(z)\n"
        "        density = torch.distributions.Normal(mu, log_sigma.exp())\n"
        "        return density.log_prob(z).sum(dim=(1, 2, 3))\n",
        "N(z; mu, sigma) is N(eps; 0, 1) / sigma: the same log-density in one call.",
    ),
    variant(
        "logistic-pixelcnnpp",
        LOGISTIC,
        D_AFTER_SPLIT,
        "    x = (2 * x.to(params.dtype) / 255 - 1).unsqueeze(-1)\n"
        "    centred = x - means\n"
        "    inv_stdv = torch.exp(-log_scales)\n"
        "    plus_in = inv_stdv * (centred + 1.0 / 255)\n"
        "    min_in = inv_stdv * (centred - 1.0 / 255)\n"
        "    cdf_delta = torch.sigmoid(plus_in) - torch.sigmoid(min_in)\n"
        "    log_cdf_plus = plus_in - torch.nn.functional.softplus(plus_in)\n"
        "    log_one_minus_cdf_min = -torch.nn.functional.softplus(min_in)\n"
        "    mid_in = inv_stdv * centred\n"
        "    log_pdf_mid = mid_in - log_scales - 2.0 * torch.nn.functional.softplus(mid_in)\n"
        "    inner = torch.where(cdf_delta > 1e-5, torch.log(cdf_delta.clamp(min=1e-12)),\n"
        "                        log_pdf_mid - torch.log(torch.tensor(127.5)))\n"
        "    log_probs = torch.where(x < -0.999, log_cdf_plus,\n"
        "                            torch.where(x > 0.999, log_one_minus_cdf_min, inner))\n"
        "    return torch.logsumexp(log_probs + torch.log_softmax(logits, -1), dim=-1)\n",
        "PixelCNN++'s recipe: the density at the bin's centre where the bin's mass is tiny.",
    ),
    variant(
        "critic-loss-own-penalty-on-images",
        Q3,
        C_FLAT + C_RETURN,
        "    t = torch.rand(real.size(0), 1, 1, 1)\n"
        "    x_hat = (t * real + (1 - t) * fake).requires_grad_(True)\n"
        "    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)\n"
        "    penalty = torch.relu(g.flatten(1).norm(dim=1) - 1).pow(2).mean()\n"
        "    return critic(fake).mean() - critic(real).mean() + lp_coeff * penalty\n",
        "Writes the penalty on images directly, without hw_vae's functions; a 0-dim loss.",
    ),
    variant(
        "generator-loss-zero-dim",
        Q3,
        G_RETURN,
        "    return -torch.mean(critic(fake))\n",
        "A 0-dim loss.",
    ),
    variant(
        "interpolation-loop",
        Q3,
        I_BODY,
        "    latent, data = [], []\n"
        "    x0, x1 = generator(z0[None])[0], generator(z1[None])[0]\n"
        "    for a in alphas:\n"
        "        latent.append(generator((a * z0 + (1 - a) * z1)[None])[0])\n"
        "        data.append(a * x0 + (1 - a) * x1)\n"
        "    return torch.stack(latent), torch.stack(data)\n",
        "One image at a time in a loop (the generator is in eval mode, so this is the same).",
    ),
]

__all__ = ["BUGS", "VARIANTS", "Entry"]

# Graded only with CATALOGUE=all, to keep CI's catalogue run short: in CI, every hidden test that
# any bug of this catalogue fails is still failed by at least three bugs of BUGS (or by all of
# them, where fewer fail it). Chosen greedily from one grading of every bug (the failed tests
# per bug); the real-world patterns of the blind-spot work stay in CI whatever the count.
LATER = {
    "critic-loss-fixed-coefficient",
    "critic-loss-real-fake-swapped",
    "critic-loss-sign",
    "flow-eps-times-sigma",
    "flow-logdet-sign",
    "flow-mean-over-entries",
    "flow-no-log-2pi",
    "flow-params-detached",
    "fsvae-squared-error-only",
    "fsvae-std-for-variance",
    "fsvae-variance-one",
    "fsvae-z-detached",
    "fsvae-z-is-mean",
    "logistic-bin-width-256",
    "logistic-naive-difference",
    "mask-a-includes-centre",
    "mask-b-excludes-centre",
    "mask-transposed",
}
MORE_BUGS = [e for e in BUGS if e.id in LATER]
BUGS = [e for e in BUGS if e.id not in LATER]
