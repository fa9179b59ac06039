"""Stateless maps that turn a statistic into a denominator: square, root, eps.

Each computes and emits in float32 or wider (``wide``): the denominator
keeps that precision until the fan-out divides by it, so float16 squares do
not underflow and eps is not flushed to zero.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import leafwise
from adamx._core.records import EmptyState
from adamx._core.transform import Transform, transform


def abs_sq(u: jax.Array) -> jax.Array:
  """:math:`|u|^2`, real: ``u*u`` for real arrays, ``Re(conj(u) u)`` for complex."""
  return jnp.real(jnp.conj(u) * u) if jnp.iscomplexobj(u) else jnp.square(u)


def _stateless(owner: str, maths, **scalars) -> Transform:
  def update(updates, state, params=None):
    del params
    return leafwise(owner, maths, updates, wide=True, **scalars)[0], state

  return transform(lambda params: EmptyState(), update, record=EmptyState)


@primitive
def square() -> Transform:
  """:math:`u \\mapsto |u|^2`, computed and emitted in float32 or wider.

  The head of every second-moment branch. For complex updates it is
  :math:`\\bar u u` (real), as Optax's moments of complex gradients.
  """
  return _stateless("square", abs_sq)


@primitive
def root(eps: hp.Scalar = 0.0) -> Transform:
  """:math:`u \\mapsto \\sqrt{\\max(u + \\epsilon, 0)}` (eps inside the root).

  A negative input can only come from rounding in a centered variance; the
  root is then 0 instead of NaN (where eps covers the rounding, the result
  is the plain :math:`\\sqrt{u + \\epsilon}`, as Optax's).
  """
  return _stateless("root", lambda u, *, eps: jnp.sqrt(jnp.maximum(u + eps, 0)), eps=eps)


@primitive
def add_eps(eps: hp.Scalar) -> Transform:
  """:math:`u \\mapsto u + \\epsilon`, in float32 or wider (eps outside the root)."""
  return _stateless("add_eps", lambda u, *, eps: u + eps, eps=eps)
