"""Running statistics of the incoming updates: EMA, Nesterov EMA, sum, max,
infinity norm, and the RMS of past outputs.

Each keeps its statistic under the field ``name`` (the role the recipe
gives it: ``mu`` for a first moment, ``nu`` for a second...), in the
parameters' dtype unless ``dtype`` is given; computes in float32 or wider.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import dtype_of, leafwise, moments_like, statistic
from adamx._core.records import record
from adamx._core.steps import increment, zero_count
from adamx._core.transform import Transform, transform
from adamx._primitives.elementwise import abs_sq


@primitive
def scale_by_ema(
    decay: hp.Scalar,
    *,
    nesterov: bool = False,
    initial_value: hp.Scalar = 0.0,
    dtype: Any = None,
    name: str = "mu",
) -> Transform:
  """Exponential moving average of the updates (no bias correction).

  .. math::
     m_t = \\beta m_{t-1} + (1-\\beta) u_t,\\qquad m_0 = \\text{initial\\_value}

  Emits :math:`m_t`, or with ``nesterov=True`` the look-ahead
  :math:`\\beta m_t + (1-\\beta) u_t`. For a bias-corrected look-ahead see
  :func:`nesterov_ema`.

  Under :func:`~adamx._combinators.accumulation.accumulate_in_state` (not
  with ``nesterov``) the average accumulates over the :math:`k` micro-steps
  :math:`u_{t,1..k}` of a step:
  :math:`m \\leftarrow \\beta m + \\tfrac{1-\\beta}{k} u_{t,1}`, then
  :math:`m \\leftarrow m + \\tfrac{1-\\beta}{k} u_{t,i}`, so that
  :math:`m_t = \\beta m_{t-1} + (1-\\beta) \\operatorname{mean}_i u_{t,i}`.

  State: :math:`m` under the field ``name``.

  Args:
    decay: :math:`\\beta`, in ``[0, 1)``.
    nesterov: emit the Nesterov look-ahead instead of :math:`m_t`.
    initial_value: :math:`m_0` (RMSProp's ``initial_scale``).
    dtype: dtype of :math:`m`; defaults to the parameters'.
    name: the state field, by the role of :math:`m` (``"nu"`` for a second moment).
  """

  def ema(u, m, *, b, one_minus_b):
    new = one_minus_b * u + b * m
    return (b * new + one_minus_b * u if nesterov else new), new

  def ema_micro(u, m, *, b, one_minus_b, first, k):
    new = (one_minus_b / k) * u + jnp.where(first, b, 1) * m
    return new, new

  return statistic("scale_by_ema", ema, name, initial_value, dtype,
                   micro=None if nesterov else ema_micro, b=decay,
                   one_minus_b=hp.OneMinus(decay))


@primitive
def nesterov_ema(
    decay: hp.Scalar, *, momentum_decay: hp.Scalar | None = None, dtype: Any = None,
    name: str = "mu",
) -> Transform:
  """Bias-corrected Nesterov look-ahead of the first moment (Dozat, 2016).

  .. math::
     m_t &= \\beta m_{t-1} + (1-\\beta) u_t \\\\
     \\bar m_t &= \\frac{\\mu_{t+1}\\, m_t}{1 - \\prod_{i\\le t+1}\\mu_i}
                + \\frac{(1-\\mu_t)\\, u_t}{1 - \\prod_{i\\le t}\\mu_i}

  with the momentum schedule :math:`\\mu_t = \\beta` (Optax, the default) or
  :math:`\\mu_t = \\beta\\,(1 - \\tfrac12\\, 0.96^{t\\psi})` with
  :math:`\\psi` = ``momentum_decay`` (Dozat's schedule, as torch.optim.NAdam
  and Keras Nadam).

  State: ``count``; :math:`m` under ``name``; ``mu_product``
  (:math:`\\prod_{i\\le t}\\mu_i`, a scalar).
  """
  state_type = record("NesterovEmaState", ("count", name, "mu_product"))

  def schedule(t, d):
    beta = hp.cast(decay, d)
    if momentum_decay is None:
      return beta
    return beta * (1 - 0.5 * hp.cast(0.96, d) ** (t.astype(d) * hp.cast(momentum_decay, d)))

  def look_ahead(u, m, *, b, weight_m, weight_u):
    new = b * m + (1 - b) * u
    return weight_m * new + weight_u * u, new

  def init(params):
    # The schedule is computed in the parameters' arithmetic dtype, so a
    # Python float and a float32 array give the same float32 trajectory.
    dtypes = [dtype_of(p) for p in jax.tree.leaves(params)]
    return state_type(zero_count(), moments_like(params, 0.0, dtype),
                      jnp.ones([], hp.real_dtype(hp.compute_dtype(*dtypes))))

  def update(updates, state, params=None):
    del params
    count, mu, product = state
    count = increment(count)
    mu_now = schedule(count, product.dtype)
    product = product * mu_now
    mu_next = schedule(increment(count), product.dtype)
    out, (mu,) = leafwise("nesterov_ema", look_ahead, updates, mu, b=decay,
                          weight_m=mu_next / (1 - product * mu_next),
                          weight_u=(1 - mu_now) / (1 - product))
    return out, state_type(count, mu, product)

  return transform(init, update, record=state_type)


@primitive
def accumulate(initial_value: hp.Scalar = 0.0, *, dtype: Any = None,
               name: str = "sum") -> Transform:
  """Running sum of the updates: :math:`s_t = s_{t-1} + u_t`, emits :math:`s_t`.

  With :func:`square` in front and :func:`root` behind it is AdaGrad's
  root-sum-of-squares. State: :math:`s` under ``name``.

  Args:
    initial_value: :math:`s_0`, at least 0 (Optax 0.1, torch 0).
    dtype: dtype of :math:`s`; defaults to the parameters'.
    name: the state field (``"sum_of_squares"`` in AdaGrad, as Optax).
  """
  return statistic("accumulate", lambda u, s: (s + u, s + u), name, initial_value, dtype)


@primitive
def running_max(*, dtype: Any = None, name: str = "max") -> Transform:
  """Elementwise maximum over time: :math:`\\hat m_t = \\max(\\hat m_{t-1}, u_t)`.

  Starts from 0 (its inputs are non-negative statistics). Placed after
  :func:`bias_correct` it is Optax's AMSGrad; before it, torch's.
  State: the maximum under ``name`` (``"nu_max"`` in AMSGrad).
  """

  def maximum(u, m):
    new = jnp.maximum(m, u)
    return new, new

  return statistic("running_max", maximum, name, 0.0, dtype)


@primitive
def infinity_moment(decay: hp.Scalar, eps: hp.Scalar = 1e-8, *, dtype: Any = None,
                    name: str = "nu") -> Transform:
  """Exponentially weighted infinity norm (Kingma & Ba, 2015, §7.1).

  .. math::  \\nu_t = \\max(\\beta \\nu_{t-1}, |u_t| + \\epsilon)

  Emits :math:`\\nu_t` (in float32 or wider: it is a denominator); it needs
  no bias correction. ``eps`` is added to :math:`|u_t|` as Optax and torch
  do, which keeps :math:`\\nu_t > 0`. State: :math:`\\nu` under ``name``.
  """

  def norm(u, n, *, b, eps):
    new = jnp.maximum(b * jnp.real(n), jnp.abs(u) + eps)
    return new, new

  return statistic("infinity_moment", norm, name, 0.0, dtype, wide=True, b=decay, eps=eps)


@primitive
def scale_by_update_rms(decay: hp.Scalar, eps: hp.Scalar = 1e-6, *, dtype: Any = None,
                        name: str = "nu") -> Transform:
  """Multiplies by the RMS of this transform's own past outputs (Zeiler, 2012).

  .. math::
     \\Delta_t = \\sqrt{E[\\Delta^2]_{t-1} + \\epsilon}\\; u_t,\\qquad
     E[\\Delta^2]_t = \\rho E[\\Delta^2]_{t-1} + (1-\\rho) |\\Delta_t|^2

  After ``ratio(identity(), rms(rho, eps, eps_in_sqrt=True))`` this is
  Adadelta's unit-correcting step. State: :math:`E[\\Delta^2]` under
  ``name`` (``"e_x"`` in Adadelta, as Optax).
  """

  def unit_correct(u, n, *, rho, eps):
    delta = jnp.sqrt(n + eps) * u
    return delta, rho * n + (1 - rho) * abs_sq(delta)

  return statistic("scale_by_update_rms", unit_correct, name, 0.0, dtype, rho=decay, eps=eps)


@primitive
def lag(*, first_step_current: bool = False, dtype: Any = None, name: str = "previous") -> Transform:
  """The previous input: emits :math:`u_{t-1}` and keeps :math:`u_t`.

  On the first step it emits 0, or with ``first_step_current`` the current
  input (so that ``linear((1.0, identity()), (-1.0, lag(first_step_current=True)))``
  is Adan's gradient difference, 0 on the first step). State: ``count``;
  the last input under ``name``.
  """

  def previous(u, prev, *, t):
    first = u if first_step_current else jnp.zeros_like(u)
    return jnp.where(t == 0, first, prev), u

  return statistic("lag", previous, name, 0.0, dtype, counted=True)
