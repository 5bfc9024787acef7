"""Catalogues of realistic student bugs and of correct variants, one module per homework."""
