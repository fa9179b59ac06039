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

from adamx._combinators.parts import Parts
from adamx._core import hyperparams as hp
from adamx._core.lift import cast, mixing
from adamx._core.transform import Transform, transform


class RatioState(NamedTuple):
  """State of a ratio with an Optax branch (else one merged record)."""

  numerator: Any
  denominator: Any


class DifferenceState(NamedTuple):
  """State of a difference with an Optax branch (else one merged record)."""

  minuend: Any
  subtrahend: Any


def _fanout(
    name: str,
    roles: tuple[str, str],
    fallback: type,
    combine: Callable[[jax.Array, jax.Array], jax.Array],
    first: optax.GradientTransformation,
    second: optax.GradientTransformation,
) -> Transform:
  parts = Parts(f"{name.capitalize()}State", (first, second), fallback)

  def update(updates, state, params=None, **extra_args):
    (a_t, b_t), (a_s, b_s) = parts.transforms, parts.unpack(state)
    a, a_state = a_t.update(updates, a_s, params, **extra_args)
    b, b_state = b_t.update(updates, b_s, params, **extra_args)
    # Combined in float32 or wider; the result keeps the incoming updates'
    # dtype, whatever the branches used.
    out = jax.tree.map(lambda u, x, y: _combine_leaf(combine, u, x, y), updates, a, b)
    return out, parts.pack([a_state, b_state])

  return transform(parts.init, update, record=parts.record, name=name,
                   parts=[(roles[0], first), (roles[1], second)], extra_args=True)


def _combine_leaf(combine: Callable[..., jax.Array], u: Any, x: Any, y: Any) -> jax.Array:
  """``combine(x, y)`` in float32 or wider, cast to the incoming update's dtype.

  A real branch stays real (a complex numerator over a real denominator is
  divided component by component)."""
  d = hp.compute_dtype(jnp.result_type(x), jnp.result_type(y))
  x, y = (cast(z, d if jnp.iscomplexobj(z) else hp.real_dtype(d)) for z in (x, y))
  with mixing(jnp.iscomplexobj(x)):
    return cast(combine(x, y), jnp.result_type(u))


def _safe_divide(x: jax.Array, y: jax.Array) -> jax.Array:
  # 0/0 happens only when every statistic is zero (e.g. eps=0 on an all-zero
  # gradient); the step is then 0, not NaN. NaN inputs still propagate.
  return jnp.where(y == 0, jnp.zeros_like(x), x / jnp.where(y == 0, 1, y))


def _subtract(x: jax.Array, y: jax.Array) -> jax.Array:
  return x - y


def ratio(
    numerator: optax.GradientTransformation,
    denominator: optax.GradientTransformation,
) -> Transform:
  """Divides one branch's output by another's; both see the raw updates.

  .. math::  u \\mapsto N(u) / D(u),\\qquad 0/0 := 0

  Args:
    numerator: transform of the raw updates (e.g. a bias-corrected EMA).
    denominator: transform of the raw updates giving a positive statistic
      (e.g. ``chain(square(), scale_by_ema(b2, name="nu"), root(), add_eps(eps))``).
  """
  return _fanout("ratio", ("numerator", "denominator"), RatioState, _safe_divide,
                 numerator, denominator)


def difference(
    minuend: optax.GradientTransformation,
    subtrahend: optax.GradientTransformation,
) -> Transform:
  """Subtracts one branch's output from another's; both see the raw updates.

  Used for a centered second moment: ``E[g^2] - E[g]^2``.
  """
  return _fanout("difference", ("minuend", "subtrahend"), DifferenceState, _subtract,
                 minuend, subtrahend)

