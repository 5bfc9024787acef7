"""Problem 2: pieces of the SVHN VAE with an autoregressive-flow prior, and the bonus's output."""
