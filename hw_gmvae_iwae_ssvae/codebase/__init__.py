"""Starter code of the VAE / GMVAE / IWAE / SSVAE homework."""
