"""Starter code of the FSVAE (bonus problem): the CS236 codebase with SVHN in place of MNIST."""
