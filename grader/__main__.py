"""Entry point of `python -m grader`."""

import os
import sys

# Before torch starts its thread pool: idle OpenMP threads sleep instead of spinning, so that
# several gradings on one machine (a batch, a shared course server) do not slow each other down.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from grader.cli import main  # noqa: E402

sys.exit(main())
