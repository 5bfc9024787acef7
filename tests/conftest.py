"""Fixtures shared by the project's own tests."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real data sets: $VAECOURSE_DATA, else ../shared/data beside the repository."""
    root = Path(os.environ.get("VAECOURSE_DATA", REPO.parent / "shared" / "data"))
    if not (root / "MNIST").exists():
        pytest.fail(f"no data sets in {root}: set VAECOURSE_DATA to the folder holding MNIST/")
    return root
