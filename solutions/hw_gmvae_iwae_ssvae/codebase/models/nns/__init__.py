"""Network families; `v1` holds the MLPs for MNIST."""

from codebase.models.nns import v1  # noqa: F401
