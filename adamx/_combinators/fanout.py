"""Fan-out: several branches see the *same* incoming updates.

A serial chain feeds each transform the previous one's output, so it cannot
say "divide an average of raw gradients by the RMS of raw gradients" (Adam).
A fan-out can: both branches receive the raw gradient and their outputs are
combined leaf by leaf. That is the whole difference between

    adam       = ratio(numerator=ema(g) -> bias_correct, denominator=rms(g))
    rmsprop+m  = chain(ratio(numerator=identity, denominator=rms(g)), momentum)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from adamx._combinators.parts import Parts
from adamx._core import hyperparams as hp
from adamx._core.lift import cast, mixing, narrowed, widened
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
    roles: Sequence[str],
    fallback: Callable[..., Any],
    combine: Callable[..., jax.Array],
    branches: Sequence[optax.GradientTransformation],
) -> Transform:
  parts = Parts(f"{name.capitalize()}State", branches, fallback)

  def update(updates, state, params=None, **extra_args):
    received, updates = updates, widened(updates)  # branches exchange float32 or wider
    outs, new_states = [], []
    for branch, branch_state in zip(parts.transforms, parts.unpack(state)):
      out, new = branch.update(updates, branch_state, params, **extra_args)
      outs.append(out)
      new_states.append(new)
    # Combined in float32 or wider; the result keeps the incoming updates'
    # dtype, whatever the branches used.
    out = jax.tree.map(lambda u, *xs: _combine_leaf(combine, u, *xs), updates, *outs)
    return narrowed(out, received), parts.pack(new_states)

  return transform(parts.init, update, record=parts.record, name=name,
                   parts=list(zip(roles, branches)), extra_args=True)


def _combine_leaf(combine: Callable[..., jax.Array], u: Any, *xs: Any) -> jax.Array:
  """``combine(*xs)`` in float32 or wider, cast to the incoming update's dtype.

  A real branch stays real (a complex numerator over a real denominator is
  divided component by component)."""
  d = hp.compute_dtype(*(jnp.result_type(x) for x in xs))
  xs = [cast(x, d if jnp.iscomplexobj(x) else hp.real_dtype(d)) for x in xs]
  with mixing(any(jnp.iscomplexobj(x) for x in xs)):
    return cast(combine(*xs), jnp.result_type(u))


def _safe_divide(x: jax.Array, y: jax.Array) -> jax.Array:
  # 0/0 happens only when every statistic is zero (e.g. eps=0 on an all-zero
  # gradient); the step is then 0, not NaN. NaN inputs still propagate.
  # One comparison and two selects (jnp.where would stage a nested jit per
  # leaf, which costs tracing and compile time on trees of many leaves).
  zero = y == 0
  quotient = x / jax.lax.select(zero, jnp.ones_like(y), y)
  zero = jnp.broadcast_to(zero, quotient.shape)
  return jax.lax.select(zero, jnp.zeros_like(quotient), quotient)


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
                 (numerator, denominator))


def difference(
    minuend: optax.GradientTransformation,
    subtrahend: optax.GradientTransformation,
) -> Transform:
  """Subtracts one branch's output from another's; both see the raw updates.

  Used for a centered second moment: ``E[g^2] - E[g]^2``.
  """
  return _fanout("difference", ("minuend", "subtrahend"), DifferenceState, _subtract,
                 (minuend, subtrahend))


def linear(*terms: tuple[Any, optax.GradientTransformation]) -> Transform:
  """A linear combination of branches; every branch sees the raw updates.

  .. math::  u \\mapsto \\sum_i c_i\\, T_i(u)

  ``linear((1.0, identity()), (-1.0, lag()))`` is :math:`u_t - u_{t-1}`;
  AdEMAMix's numerator is ``linear((1.0, fast_ema), (alpha, slow_ema))``.

  Args:
    *terms: ``(coefficient, branch)`` pairs; a coefficient is a finite real
      number or a 0-d array (traced under ``vmap``).
  """
  for i, (c, _) in enumerate(terms):
    hp.check_number("linear", f"coefficient {i}", c, hp.REAL)
  coefficients = [c for c, _ in terms]

  def combine(*xs):
    total = xs[0] * hp.cast(coefficients[0], hp.real_dtype(xs[0].dtype))
    for c, x in zip(coefficients[1:], xs[1:]):
      total = total + x * hp.cast(c, hp.real_dtype(x.dtype))
    return total

  return _fanout("linear", [f"{c!r}*" for c in coefficients], lambda *s: tuple(s), combine,
                 [t for _, t in terms])

