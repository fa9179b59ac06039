"""Methods: named compositions of primitives."""
