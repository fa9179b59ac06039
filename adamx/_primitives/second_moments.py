"""Second-moment statistics beyond the EMA of squares.

* :func:`additive_moment`: Yogi's second moment, moved by a signed additive
  step instead of a multiplicative decay;
* :func:`ema_deviation`: the deviation of the updates from their running
  mean (AdaBelief's and ACProp's "belief");
* :func:`ema_plus_eps`: an EMA that adds a constant every step.

Statistics are kept in the parameters' dtype unless ``dtype`` is given and
computed in float32 or wider (:func:`adamx._core.lift.leafwise`).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import statistic
from adamx._core.transform import Transform


@primitive
def additive_moment(decay: hp.Scalar, initial_value: hp.Scalar = 0.0, *, dtype: Any = None,
                    name: str = "nu") -> Transform:
  """Yogi's additive second moment (Zaheer et al., 2018, Algorithm 2).

  .. math::  v_t = v_{t-1} - (1-\\beta)\\, \\operatorname{sign}(v_{t-1} - u_t)\\, u_t,
             \\qquad v_0 = \\text{initial\\_value}

  with :math:`u_t` a square (``square()`` in front gives :math:`g_t^2`). Adam's
  :math:`v_t - v_{t-1} = (1-\\beta)(u_t - v_{t-1})` is proportional to the gap;
  here the step is :math:`\\pm(1-\\beta) u_t`, so :math:`v` grows or shrinks by at
  most a fraction of the current square and the effective learning rate
  cannot jump up when gradients suddenly become small. Emits :math:`v_t` in
  float32 or wider (it is a denominator).

  State: :math:`v` under ``name``.
  """

  def yogi(u, v, *, b):
    new = v - (1 - b) * jnp.sign(v - u) * u
    return new, new

  return statistic("additive_moment", yogi, name, initial_value, dtype, wide=True, b=decay)


@primitive
def ema_deviation(decay: hp.Scalar, *, previous: bool = False, dtype: Any = None,
                  name: str = "mu") -> Transform:
  """The deviation of the updates from their exponential moving average.

  .. math::
     m_t = \\beta m_{t-1} + (1-\\beta) u_t,\\qquad
     \\text{emits } u_t - m_t \\;\\;(\\text{or } u_t - m_{t-1} \\text{ with } \\texttt{previous})

  AdaBelief's "belief" :math:`g_t - m_t` (Zhuang et al., 2020), whose square's
  EMA replaces Adam's :math:`g_t^2`; ``previous=True`` is Optax's ACProp,
  which centres on the mean before this step. Emits in the updates' dtype
  (complex for complex updates: ``square()`` after it takes :math:`|\\cdot|^2`).

  State: :math:`m` under ``name``.
  """

  def deviation(u, m, *, b):
    new = (1 - b) * u + b * m
    return u - (m if previous else new), new

  return statistic("ema_deviation", deviation, name, 0.0, dtype, b=decay)


@primitive
def ema_plus_eps(decay: hp.Scalar, eps: hp.Scalar = 0.0, *, dtype: Any = None,
                 name: str = "nu") -> Transform:
  """An exponential moving average that adds :math:`\\epsilon` every step.

  .. math::  s_t = \\beta s_{t-1} + (1-\\beta) u_t + \\epsilon,\\qquad s_0 = 0

  AdaBelief's :math:`s_t` (Zhuang et al., 2020, Algorithm 2): the
  :math:`\\epsilon` is part of the statistic (it accumulates to
  :math:`\\epsilon/(1-\\beta)`), not a constant added to the denominator.
  With :math:`\\epsilon = 0` it is :func:`adamx.scale_by_ema`. Emits
  :math:`s_t` in float32 or wider.

  State: :math:`s` under ``name``.
  """

  def ema(u, s, *, b, eps):
    new = (1 - b) * u + b * s + eps
    return new, new

  return statistic("ema_plus_eps", ema, name, 0.0, dtype, wide=True, b=decay, eps=eps)
