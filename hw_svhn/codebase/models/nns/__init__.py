"""Network families; `v2` holds the MLPs for 32 x 32 x 3 SVHN images."""

from codebase.models.nns import v2  # noqa: F401
