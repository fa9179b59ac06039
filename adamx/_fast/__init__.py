"""Fast paths: ``adamx.fused``, multi-tensor kernels over a flat optimizer state (XLA FFI)."""
