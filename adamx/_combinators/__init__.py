"""Combinators: serial composition and fan-out."""
