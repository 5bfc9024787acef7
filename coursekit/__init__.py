"""Code shared by every homework: data sets, seeding and image grids (shipped by the release step)."""
