"""Fixtures of the hidden tests of hw_gmvae_iwae_ssvae."""

import pytest

from grader.hw_gmvae_iwae_ssvae import harness


@pytest.fixture(scope="session")
def weights() -> dict:
    """kind -> the shipped trained weights of the VAE, GMVAE and SSVAE, as float32."""
    return {kind: harness.load_weights(kind) for kind in harness.MODELS}


@pytest.fixture(scope="session")
def images():
    """(50, 784) binary digits sampled from the trained reference VAE."""
    return harness.synthetic_images()
