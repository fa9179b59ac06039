"""Fast paths: a single-pass multi-tensor Adam kernel (XLA FFI) and flat parameter buffers."""
