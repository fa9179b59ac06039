"""Fan-out: several branches see the *same* incoming updates.

A serial chain feeds each transform the previous one's output, so it cannot
say "divide an average of raw gradients by the RMS of raw gradients" (Adam).
A fan-out can: both branches receive the raw gradient and their outputs are
combined leaf by leaf. That is the whole difference between

    adam       = ratio(numerator=ema(g) -> bias_correct, denominator=rms(g))
    rmsprop+m  = chain(ratio(numerator=identity, denominator=rms(g)), momentum)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from adamx._core.kernels import leaf_dtype
from adamx._core.transform import Transform, transform


class RatioState(NamedTuple):
  numerator: Any
  denominator: Any


class DifferenceState(NamedTuple):
  minuend: Any
  subtrahend: Any


def _fanout(
    name: str,
    roles: tuple[str, str],
    state_type: type,
    combine: Callable[[jax.Array, jax.Array], jax.Array],
    first: optax.GradientTransformation,
    second: optax.GradientTransformation,
) -> Transform:
  first_x = optax.with_extra_args_support(first)
  second_x = optax.with_extra_args_support(second)

  def init(params):
    return state_type(first_x.init(params), second_x.init(params))

  def update(updates, state, params=None, **extra_args):
    a, a_state = first_x.update(updates, state[0], params, **extra_args)
    b, b_state = second_x.update(updates, state[1], params, **extra_args)
    # Combined in float32 or wider; the result keeps the incoming updates'
    # dtype, whatever the branches used.
    def leaf(u, x, y):
      d = leaf_dtype(x, y)
      return combine(x.astype(d), y.astype(d)).astype(jnp.result_type(u))

    out = jax.tree.map(leaf, updates, a, b)
    return out, state_type(a_state, b_state)

  return transform(
      name, init, update, parts=[(roles[0], first), (roles[1], second)]
  )


def _safe_divide(x: jax.Array, y: jax.Array) -> jax.Array:
  # 0/0 happens only when every statistic is zero (e.g. eps=0 on an all-zero
  # gradient); the step is then 0, not NaN. NaN inputs still propagate.
  return jnp.where(y == 0, jnp.zeros_like(x), x / jnp.where(y == 0, 1, y))


def ratio(
    numerator: optax.GradientTransformation,
    denominator: optax.GradientTransformation,
) -> Transform:
  """Divides one branch's output by another's; both see the raw updates.

  .. math::  u \\mapsto N(u) / D(u),\\qquad 0/0 := 0

  Args:
    numerator: transform of the raw updates (e.g. a bias-corrected EMA).
    denominator: transform of the raw updates giving a positive statistic
      (e.g. ``chain(square(), scale_by_ema(b2), root(), add_eps(eps))``).
  """
  return _fanout(
      "ratio", ("numerator", "denominator"), RatioState, _safe_divide,
      numerator, denominator,
  )


def difference(
    minuend: optax.GradientTransformation,
    subtrahend: optax.GradientTransformation,
) -> Transform:
  """Subtracts one branch's output from another's; both see the raw updates.

  Used for a centered second moment: ``E[g^2] - E[g]^2``.
  """
  return _fanout(
      "difference", ("minuend", "subtrahend"), DifferenceState,
      lambda x, y: x - y, minuend, subtrahend,
  )
