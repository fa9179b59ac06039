"""Primitives: single-purpose gradient transformations."""
