"""Helpers around a built optimizer: reading its state, placing it on devices."""
