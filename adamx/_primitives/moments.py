"""Running statistics of the incoming updates: EMA, sum, max, infinity norm.

Each keeps its statistic in the parameters' dtype (or ``dtype`` if given),
computes in float32 or wider, and emits the new statistic.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.checks import check_updates
from adamx._core.kernels import full_like, leaf_dtype, nondefault, unzip
from adamx._core.transform import EmptyState, Transform, transform


class ScaleByEmaState(NamedTuple):
  mu: Any  # the exponential moving average


def scale_by_ema(
    decay: hp.Scalar,
    *,
    nesterov: bool = False,
    initial_value: hp.Scalar = 0.0,
    dtype: Any = None,
) -> Transform:
  """Exponential moving average of the updates (no bias correction).

  .. math::
     m_t = \\beta m_{t-1} + (1-\\beta) u_t,\\qquad m_0 = \\text{initial\\_value}

  Emits :math:`m_t`, or with ``nesterov=True`` the look-ahead
  :math:`\\beta m_t + (1-\\beta) u_t`. For a bias-corrected look-ahead see
  :func:`nesterov_ema`.

  Args:
    decay: :math:`\\beta`, in ``[0, 1)``.
    nesterov: emit the Nesterov look-ahead instead of :math:`m_t`.
    initial_value: :math:`m_0` (RMSProp's ``initial_scale``).
    dtype: dtype of :math:`m`; defaults to the parameters'.
  """
  hp.validate("scale_by_ema", decay=decay)

  def init(params):
    return ScaleByEmaState(mu=full_like(params, initial_value, dtype))

  def update(updates, state, params=None):
    del params
    check_updates("scale_by_ema", updates, state.mu)

    def leaf(u, m):
      d = leaf_dtype(u, m)
      b = hp.cast(decay, d)
      new = (1 - b) * u.astype(d) + b * m.astype(d)
      out = b * new + (1 - b) * u.astype(d) if nesterov else new
      return out.astype(jnp.result_type(u)), new.astype(m.dtype)

    out, mu = unzip(jax.tree.map(leaf, updates, state.mu), updates)
    return out, ScaleByEmaState(mu=mu)

  return transform(
      "scale_by_ema", init, update, decay=decay,
      **nondefault(nesterov=(nesterov, False), initial_value=(initial_value, 0.0)),
  )


class AccumulateState(NamedTuple):
  sum: Any


def accumulate(initial_value: hp.Scalar = 0.0, *, dtype: Any = None) -> Transform:
  """Running sum of the updates: :math:`s_t = s_{t-1} + u_t`, emits :math:`s_t`.

  With :func:`square` in front and :func:`root` behind it is AdaGrad's
  root-sum-of-squares.

  Args:
    initial_value: :math:`s_0`, at least 0 (Optax 0.1, torch 0).
    dtype: dtype of :math:`s`; defaults to the parameters'.
  """
  hp.validate("accumulate", initial_value=initial_value)

  def init(params):
    return AccumulateState(sum=full_like(params, initial_value, dtype))

  def update(updates, state, params=None):
    del params
    check_updates("accumulate", updates, state.sum)

    def leaf(u, s):
      d = leaf_dtype(u, s)
      new = s.astype(d) + u.astype(d)
      return new.astype(jnp.result_type(u)), new.astype(s.dtype)

    out, total = unzip(jax.tree.map(leaf, updates, state.sum), updates)
    return out, AccumulateState(sum=total)

  return transform("accumulate", init, update, initial_value=initial_value)


class RunningMaxState(NamedTuple):
  max: Any


def running_max(*, dtype: Any = None) -> Transform:
  """Elementwise maximum over time: :math:`\\hat m_t = \\max(\\hat m_{t-1}, u_t)`.

  Starts from 0 (its inputs are non-negative statistics). Placed after
  :func:`bias_correct` it is Optax's AMSGrad; before it, torch's.
  """

  def init(params):
    return RunningMaxState(max=full_like(params, 0.0, dtype))

  def update(updates, state, params=None):
    del params
    check_updates("running_max", updates, state.max)

    def leaf(u, m):
      d = leaf_dtype(u, m)
      new = jnp.maximum(m.astype(d), u.astype(d))
      return new.astype(jnp.result_type(u)), new.astype(m.dtype)

    out, maxima = unzip(jax.tree.map(leaf, updates, state.max), updates)
    return out, RunningMaxState(max=maxima)

  return transform("running_max", init, update)


class InfinityMomentState(NamedTuple):
  nu: Any


def infinity_moment(decay: hp.Scalar, eps: hp.Scalar = 1e-8, *, dtype: Any = None) -> Transform:
  """Exponentially weighted infinity norm (Kingma & Ba, 2015, §7.1).

  .. math::  \\nu_t = \\max(\\beta \\nu_{t-1}, |u_t| + \\epsilon)

  Emits :math:`\\nu_t`; it needs no bias correction. ``eps`` is added to
  :math:`|u_t|` as Optax and torch do, which keeps :math:`\\nu_t > 0`.
  """
  hp.validate("infinity_moment", decay=decay, eps=eps)

  def init(params):
    return InfinityMomentState(nu=full_like(params, 0.0, dtype))

  def update(updates, state, params=None):
    del params
    check_updates("infinity_moment", updates, state.nu)

    def leaf(u, n):
      d = leaf_dtype(u, n)
      new = jnp.maximum(hp.cast(decay, d) * n.astype(d), jnp.abs(u.astype(d)) + hp.cast(eps, d))
      return new.astype(d), new.astype(n.dtype)

    out, nu = unzip(jax.tree.map(leaf, updates, state.nu), updates)
    return out, InfinityMomentState(nu=nu)

  return transform("infinity_moment", init, update, decay=decay, eps=eps)


def square() -> Transform:
  """:math:`u \\mapsto u^2`, computed and emitted in float32 or wider.

  The head of every second-moment branch; the widening keeps float16 and
  bfloat16 squares from underflowing before they are averaged.
  """

  def update(updates, state, params=None):
    del params
    return jax.tree.map(lambda u: jnp.square(u.astype(leaf_dtype(u))), updates), state

  return transform("square", lambda params: EmptyState(), update)

