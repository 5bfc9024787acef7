"""The homework's model: the fully supervised VAE (FSVAE)."""
