"""Stateless elementwise maps: the denominator parts (square, root, eps, a floor,
a cube root), sign and clip.

The denominator parts compute and emit in float32 or wider (``wide``): the
denominator keeps that precision until the fan-out divides by it, so
float16 squares do not underflow and eps is not flushed to zero. Sign and
clip emit in the incoming updates' dtype.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.checks import refuse_complex
from adamx._core.declare import primitive
from adamx._core.lift import leafwise
from adamx._core.records import EmptyState
from adamx._core.transform import Transform, transform


def abs_sq(u: jax.Array) -> jax.Array:
  """:math:`|u|^2`, real: ``u*u`` for real arrays, ``Re(conj(u) u)`` for complex."""
  return jnp.real(jnp.conj(u) * u) if jnp.iscomplexobj(u) else jnp.square(u)


def _stateless(owner: str, maths, *, wide: bool, **scalars) -> Transform:
  def update(updates, state, params=None):
    del params
    return leafwise(owner, maths, updates, wide=wide, **scalars)[0], state

  return transform(lambda params: EmptyState(), update, record=EmptyState)


@primitive
def square() -> Transform:
  """:math:`u \\mapsto |u|^2`, computed and emitted in float32 or wider.

  The head of every second-moment branch. For complex updates it is
  :math:`\\bar u u` (real), as Optax's moments of complex gradients.
  """
  return _stateless("square", abs_sq, wide=True)


@primitive
def root(eps: hp.Scalar = 0.0) -> Transform:
  """:math:`u \\mapsto \\sqrt{\\max(u + \\epsilon, 0)}` (eps inside the root).

  A negative input can only come from rounding in a centered variance; the
  root is then 0 instead of NaN (where eps covers the rounding, the result
  is the plain :math:`\\sqrt{u + \\epsilon}`, as Optax's).
  """
  if hp.is_zero(eps):  # nothing to add (the same numbers: XLA drops an added 0 too)
    return _stateless("root", lambda u: jnp.sqrt(jnp.maximum(u, 0)), wide=True)
  return _stateless("root", lambda u, *, eps: jnp.sqrt(jnp.maximum(u + eps, 0)), wide=True,
                   eps=eps)


@primitive
def add_eps(eps: hp.Scalar) -> Transform:
  """:math:`u \\mapsto u + \\epsilon`, in float32 or wider (eps outside the root)."""
  return _stateless("add_eps", lambda u, *, eps: u + eps, wide=True, eps=eps)


@primitive
def scale_by_sign() -> Transform:
  """:math:`u \\mapsto \\operatorname{sign}(u)` (0 at 0), as ``optax.scale_by_sign``.

  The direction of signSGD, Signum and Lion (Bernstein et al., 2018; Chen et al., 2023).
  """
  return _stateless("scale_by_sign", jnp.sign, wide=False)


@primitive
def clip(max_delta: hp.Scalar) -> Transform:
  """:math:`u \\mapsto \\min(\\max(u, -c), c)`, elementwise, as ``optax.clip``.

  Complex updates have no order and are refused (clip the norm instead:
  ``optax.clip_by_global_norm``).
  """

  def clipped(u, *, c):
    refuse_complex("clip", u, "have no order and cannot be clipped elementwise; clip their"
                   " norm (optax.clip_by_global_norm) instead")
    return jnp.clip(u, -c, c)

  return _stateless("clip", clipped, wide=False, c=max_delta)


@primitive
def max_eps(eps: hp.Scalar) -> Transform:
  """:math:`u \\mapsto \\max(u, \\epsilon)`, in float32 or wider: a floor for a denominator.

  ADOPT divides by :math:`\\max(\\sqrt{v_{t-1}}, \\epsilon)` and Sophia by
  :math:`\\max(\\gamma h, \\epsilon)`, where Adam adds :math:`\\epsilon`
  (:func:`adamx.add_eps`). Complex values have no order and are refused.
  """

  def floor(u, *, eps):
    refuse_complex("max_eps", u, "have no order and cannot be floored")
    return jnp.maximum(u, eps)

  return _stateless("max_eps", floor, wide=True, eps=eps)


@primitive
def cube_root() -> Transform:
  """:math:`u \\mapsto u^{1/3}` (real cube root), in float32 or wider.

  MADGRAD's denominator is the cube root of a weighted sum of squares
  (Defazio & Jelassi, 2021). Complex values are refused (put ``square()``
  in front, which gives :math:`|g|^2`).
  """

  def cbrt(u):
    refuse_complex("cube_root", u, "have no single real cube root; put square() in front")
    return jnp.cbrt(u)

  return _stateless("cube_root", cbrt, wide=True)
