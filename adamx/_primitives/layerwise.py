"""Layer-wise scalings: each leaf (a layer's array) is scaled by a ratio of its norms
or RMS (LARS, LAMB, Adafactor's update clipping and parameter scale)."""

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


def block_rms(x: jax.Array) -> jax.Array:
  """:math:`\\sqrt{\\mathrm{mean}(|x|^2)}` over the whole array (real for complex ``x``)."""
  return jnp.sqrt(jnp.mean(abs_sq(x)))


@primitive
def clip_block_rms(max_rms: hp.Scalar) -> Transform:
  """Scales each leaf down to an RMS of at most ``max_rms`` (Shazeer & Stern, 2018, §5).

  .. math::  u \\mapsto u / \\max\\!\\big(1,\\ \\mathrm{RMS}(u) / d\\big)

  per leaf (a layer's array), with :math:`d` = ``max_rms``, as
  ``optax.clip_by_block_rms(threshold=d)`` and torch.optim.Adafactor's ``d``.
  Complex leaves use :math:`|u|^2`.
  """

  def clipped(u, *, d):
    return u / jnp.maximum(1, block_rms(u) / d)

  def update(updates, state, params=None):
    del params
    return leafwise("clip_block_rms", clipped, updates, d=max_rms)[0], state

  return transform(lambda params: EmptyState(), update, record=EmptyState)


@primitive
def scale_by_param_block_rms(min_scale: hp.Scalar = 1e-3) -> Transform:
  """Multiplies each leaf by the RMS of its parameter, at least ``min_scale``,
  as ``optax.scale_by_param_block_rms`` (Shazeer & Stern, 2018, §8).

  .. math::  u \\mapsto u \\cdot \\max\\!\\big(\\mathrm{RMS}(w),\\ \\epsilon_2\\big)

  Makes a step relative to the parameters' scale (Adafactor's
  ``multiply_by_parameter_scale``; torch.optim.Adafactor's ``eps[1]``). Needs
  the parameters; complex parameters use :math:`|w|^2`.
  """

  def scaled(u, p, *, m):
    return u * jnp.maximum(block_rms(p), m)

  def update(updates, state, params=None):
    out, _ = leafwise("scale_by_param_block_rms", scaled, updates, params=params, m=min_scale)
    return out, state

  return transform(lambda params: EmptyState(), update, record=EmptyState)


@primitive
def clip_by_norm(max_norm: hp.Scalar = 1.0) -> Transform:
  """Rescales each leaf whose Euclidean norm exceeds ``max_norm`` down to it.

  .. math::
     u \\mapsto \\begin{cases} c\\, u / \\|u\\|_2 & \\|u\\|_2 > c \\\\
                                u & \\text{otherwise} \\end{cases}

  with :math:`\\|u\\|_2` over the whole leaf (real for complex ``u``) and
  :math:`c` = ``max_norm``. MARS's ``Clip(c_t, 1)`` (Yuan et al., 2024),
  applied per parameter array as the authors' code does. For one norm over
  the whole tree use ``optax.clip_by_global_norm``. No state.

  Args:
    max_norm: :math:`c \\ge 0`.
  """

  def clipped(u, *, c):
    size = norm(u, 0)
    over = size > c
    return jnp.where(over, u * (c / jnp.where(over, size, 1)), u)

  def update(updates, state, params=None):
    del params
    return leafwise("clip_by_norm", clipped, updates, c=max_norm)[0], state

  return transform(lambda params: EmptyState(), update, record=EmptyState)
