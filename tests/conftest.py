"""Test settings: float64 available everywhere, strict dtype promotion.

Numerical claims are checked in float64; contract tests pick their dtypes
explicitly. Strict promotion makes an implicit dtype widening an error.
"""

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "strict")
