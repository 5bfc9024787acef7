"""Code shared by every homework: data sets, seeding, image grids (shipped by the release step)."""
