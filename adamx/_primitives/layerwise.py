"""Layer-wise scalings: each leaf (a layer's array) is scaled by a ratio of its norms."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import leafwise
from adamx._core.records import EmptyState
from adamx._core.transform import Transform, transform
from adamx._primitives.elementwise import abs_sq


def norm(x: jax.Array, floor: jax.Array) -> jax.Array:
  """:math:`\\max(\\|x\\|_2, \\text{floor})` over the whole array (real for complex ``x``)."""
  return jnp.maximum(jnp.sqrt(jnp.sum(abs_sq(x))), floor)


@primitive
def scale_by_trust_ratio(
    min_norm: hp.Scalar = 0.0, trust_coefficient: hp.Scalar = 1.0, eps: hp.Scalar = 0.0,
) -> Transform:
  """Scales each leaf by its trust ratio (You et al., 2017, LARS; 2020, LAMB),
  as ``optax.scale_by_trust_ratio``.

  .. math::  u \\mapsto u \\cdot c\\, \\frac{\\max(\\|w\\|, m)}{\\max(\\|u\\|, m) + \\epsilon}

  per leaf, and :math:`u` unchanged where either norm is 0 (a parameter that
  would never move). Needs the parameters.
  """

  def trust(u, p, *, m, c, eps):
    p_norm, u_norm = norm(p, m), norm(u, m)
    ratio = c * p_norm / (u_norm + eps)
    return u * jnp.where((p_norm == 0) | (u_norm == 0), jnp.ones_like(ratio), ratio)

  def update(updates, state, params=None):
    out, _ = leafwise("scale_by_trust_ratio", trust, updates, params=params, m=min_norm,
                      c=trust_coefficient, eps=eps)
    return out, state

  return transform(lambda params: EmptyState(), update, record=EmptyState)
