"""Hidden tests of hw_vae (Problems 1 and 2: likelihood and KL helpers, critics)."""
