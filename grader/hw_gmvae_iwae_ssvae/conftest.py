"""Fixtures of the hidden tests of hw_gmvae_iwae_ssvae."""

import pytest

from grader.hw_gmvae_iwae_ssvae import harness


@pytest.fixture(scope="session")
def sandbox(grading):
    """The worker process that runs the submission."""
    return grading.sandbox


@pytest.fixture(scope="session")
def weights() -> dict:
    return {kind: harness.load_weights(kind) for kind in harness.MODELS}


@pytest.fixture(scope="session")
def images():
    """(50, 784) binary digits sampled from the trained reference VAE."""
    return harness.synthetic_images()


@pytest.fixture(scope="session")
def ref_utils():
    from grader import reference

    (ut,) = reference.load(harness.HW, "codebase.utils")
    return ut
