"""Helpers shared by the primitives: leafwise maps, counters, zeros."""

from __future__ import annotations

from typing import Any

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


def full_like(params: Any, value: Any, dtype: Any = None) -> Any:
  """A tree of constant arrays shaped like ``params``.

  Works on abstract parameters (``jax.ShapeDtypeStruct``) and keeps the
  parameters' sharding.
  """

  return jax.tree.map(lambda p: jnp.full_like(p, value, dtype or p.dtype), params)


def leaf_dtype(*arrays: Any) -> jnp.dtype:
  """dtype for arithmetic on these leaves: the widest, at least float32."""
  return compute_dtype(*(jnp.result_type(a) for a in arrays))


def unzip(pairs: Any, like: Any) -> tuple[Any, Any]:
  """Splits a tree of ``(a, b)`` leaf pairs into two trees shaped like ``like``."""
  structure = jax.tree.structure(like)
  leaves = structure.flatten_up_to(pairs)
  return (
      structure.unflatten([a for a, _ in leaves]),
      structure.unflatten([b for _, b in leaves]),
  )


def nondefault(**pairs: tuple[Any, Any]) -> dict[str, Any]:
  """Hyperparameters worth printing: those that differ from their default."""
  return {
      k: v for k, (v, default) in pairs.items()
      if not (isinstance(v, (bool, int, float, type(None))) and v == default)
  }
