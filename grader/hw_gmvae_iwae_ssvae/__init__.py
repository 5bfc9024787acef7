"""Hidden tests and the full-tier protocol of hw_gmvae_iwae_ssvae."""
