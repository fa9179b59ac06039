"""The step counter and the dtype of per-step scalars."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from adamx._core.hyperparams import compute_dtype

_INT32_MAX = jnp.iinfo(jnp.int32).max


def zero_count() -> jax.Array:
  return jnp.zeros([], jnp.int32)


def increment(count: jax.Array) -> jax.Array:
  """``count + 1``, saturating at the int32 maximum instead of wrapping."""
  return jnp.where(count < _INT32_MAX, count + 1, _INT32_MAX).astype(jnp.int32)


def step_dtype() -> jnp.dtype:
  """dtype of per-step scalars (corrections, products): float32 or wider."""
  return compute_dtype(jnp.result_type(float))
