"""Code shared by every homework: data sets, seeding, image grids, where a --dry-run writes and
the public self-checks of check.py (shipped into each homework by the release step)."""
