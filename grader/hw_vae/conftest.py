"""Fixtures of the hidden tests of hw_vae."""

import pytest


@pytest.fixture(scope="session")
def sandbox(grading):
    """The worker process that runs the submission."""
    return grading.sandbox
