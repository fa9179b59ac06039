"""Reading values back from an optimizer state during training."""

from __future__ import annotations

from typing import Any

import jax

from adamx._combinators.groups import ParamGroupsState
from adamx._core.records import is_record


def _is_rate_state(node: Any) -> bool:
  return is_record(node) and "learning_rate" in node._fields


def _is_grouped(node: Any) -> bool:
  return type(node) is ParamGroupsState


def learning_rate(state: Any) -> jax.Array | dict[str, jax.Array]:
  """The learning rate applied at the latest step, read from ``state``.

  For an ``adamx.param_groups`` state, the rate of each group: ``{group: rate}``.

  Finds the one adamx state record with a ``learning_rate`` field (a
  method's, or ``scale_by_learning_rate``'s) in any state tree: an
  adamx method's, or one wrapped by ``optax.chain``, ``optax.MultiSteps``,
  ``optax.inject_hyperparams``, ``optax.masked``, Flax ``TrainState.opt_state``
  and so on. Before the first step it is the rate the first step will use
  (a schedule's value at count 0). Works under ``jit`` (it only reads a leaf).

  Raises:
    ValueError: if the state holds no learning-rate state, or more than one
      (e.g. ``optax.partition`` of two adamx methods): pass the sub-state.

  Example:
    >>> import jax.numpy as jnp, optax, adamx
    >>> opt = adamx.sgd(optax.linear_schedule(1.0, 0.0, 10))
    >>> state = opt.init(jnp.zeros(2))
    >>> _, state = opt.update(jnp.ones(2), state)
    >>> _, state = opt.update(jnp.ones(2), state)
    >>> round(float(adamx.learning_rate(state)), 6)  # step 2's rate (count 1)
    0.9
  """
  grouped = [n for n in jax.tree.leaves(state, is_leaf=_is_grouped) if _is_grouped(n)]
  if len(grouped) == 1:
    return {name: learning_rate(inner) for name, inner in grouped[0].inner.items()}
  found = [
      node for node in jax.tree.leaves(state, is_leaf=_is_rate_state)
      if _is_rate_state(node)
  ]
  if len(found) != 1:
    raise ValueError(
        f"learning_rate: the state holds {len(found)} learning-rate states"
        " (adamx records with a learning_rate field); expected exactly one. Pass the sub-state"
        " of the optimizer whose rate you want."
    )
  return found[0].learning_rate
