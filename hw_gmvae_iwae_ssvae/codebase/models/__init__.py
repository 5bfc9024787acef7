"""The homework's models: VAE, GMVAE and SSVAE."""
