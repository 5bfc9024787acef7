"""The provided code of hw_svhn's solution: the flow's sampler inverts the map that log_prob
uses, and the FSVAE's grid puts class i in row i and one shared z in each column."""

import sys

import torch

from grader import reference

HW = "hw_svhn"


def test_flow_sample_inverts_eps():
    """Does sample() draw z whose eps(z) = (z - mu) / sigma is exactly the noise it drew?"""
    (flow,) = reference.load(HW, "svhn_vae.flow")
    torch.manual_seed(0)
    prior = flow.AutoregressiveFlowPrior(3, hidden=8)
    z = prior.sample(5, 4, 4, generator=torch.Generator().manual_seed(1))
    noise = torch.randn(5, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        mu, log_sigma = prior.shift_and_log_scale(z)
    assert torch.allclose((z - mu) * torch.exp(-log_sigma), noise, atol=1e-5)


def test_class_by_style_grid_layout():
    """Is image (i, j) of the grid clip(mu(y = i, z_j), 0, 1), with z_j shared down column j?"""
    solution = str(reference.SOLUTIONS / HW)
    (fsvae,) = reference.load(HW, "codebase.models.fsvae")
    sys.path.insert(0, solution)
    try:
        import run_fsvae
    finally:
        sys.path.remove(solution)
    torch.manual_seed(0)
    model = fsvae.FSVAE()
    grid = run_fsvae.class_by_style_grid(model, columns=4, seed=3)
    assert grid.shape == (40, 3, 32, 32) and grid.min() >= 0 and grid.max() <= 1
    z = torch.randn(4, model.z_dim, generator=torch.Generator().manual_seed(3))
    y = torch.nn.functional.one_hot(torch.tensor(7), 10).float()[None]
    with torch.no_grad():
        want = model.compute_mean_given(z[2:3], y).clamp(0, 1).reshape(3, 32, 32)
    assert torch.allclose(grid[7 * 4 + 2], want, atol=1e-6)


def test_shared_files_are_links_not_copies():
    """Are utils.py and q2_solution.py links to the other homeworks' files, and released
    byte for byte like there (written once, shipped to both)?"""
    solutions, repo = reference.SOLUTIONS, reference.ROOT
    shared = {
        "codebase/utils.py": "hw_gmvae_iwae_ssvae",
        "q2_solution.py": "hw_vae",
        "q2_model.py": "hw_vae",
        "q2_sampler.py": "hw_vae",
    }
    for path, owner in shared.items():
        link = solutions / HW / path
        assert link.is_symlink(), path
        assert link.resolve() == (solutions / owner / path).resolve(), path
        assert (repo / HW / path).read_bytes() == (repo / owner / path).read_bytes(), path
