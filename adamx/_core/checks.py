"""Structure and shape checks of updates against state (the only chex user).

The checks are static: under ``jax.jit`` they run once at trace time and cost
nothing per step. Errors name the transform and the offending leaf path.
"""

from __future__ import annotations

from typing import Any

import chex
import jax
import jax.numpy as jnp

from adamx._core import quantized


def _path(path: Any) -> str:
  return jax.tree_util.keystr(path) or "<root>"


def check_updates(owner: str, updates: Any, state_tree: Any) -> None:
  """Raises if ``updates`` do not match ``state_tree`` leaf for leaf.

  Checks: same tree structure, same shape per leaf (nothing is broadcast),
  and floating-point or complex update leaves.
  """
  try:
    chex.assert_trees_all_equal_structs(
        updates, jax.tree.map(lambda s: 0, state_tree, is_leaf=quantized.is_quantized))
  except AssertionError as error:
    raise ValueError(
        f"{owner}: the updates' tree structure differs from the state's"
        f" (built by init from the parameters).\n  updates: "
        f"{jax.tree.structure(updates)}\n  state:   "
        f"{jax.tree.structure(state_tree, is_leaf=quantized.is_quantized)}"
    ) from error
  flat_updates = jax.tree_util.tree_flatten_with_path(updates)[0]
  for (path, u), s in zip(flat_updates, jax.tree.leaves(state_tree, is_leaf=quantized.is_quantized)):
    if quantized.is_quantized(s):
      expected = type(s).quantized_format.stored_shapes(jnp.shape(u))
      if expected != (jnp.shape(s.codes), jnp.shape(s.scales)):
        raise ValueError(f"{owner}: update leaf {_path(path)} has shape {jnp.shape(u)} but its "
                         f"quantized state is for another shape; nothing is broadcast.")
    elif jnp.shape(u) != jnp.shape(s):
      raise ValueError(
          f"{owner}: update leaf {_path(path)} has shape {jnp.shape(u)} but"
          f" its state has shape {jnp.shape(s)}; nothing is broadcast."
      )
    if not jnp.issubdtype(jnp.result_type(u), jnp.inexact):
      raise TypeError(
          f"{owner}: update leaf {_path(path)} has dtype"
          f" {jnp.result_type(u)}; gradients must be floating point or complex."
      )


def check_params(owner: str, params: Any, updates: Any) -> None:
  """Raises if ``params`` are missing or do not match ``updates``."""
  if params is None:
    raise ValueError(f"{owner} needs the parameters: call update(g, s, params).")
  check_updates(owner, updates, params)


def refuse_complex(owner: str, u: Any, why: str) -> None:
  """Raises ``TypeError`` for a complex array, where ``owner``'s maths has no
  complex meaning (an order, a sign, a real root): ``owner: complex updates <why>.``"""
  if jnp.iscomplexobj(u):
    raise TypeError(f"{owner}: complex updates {why}.")
