"""Factors that depend only on the step count: bias correction and RAdam's
variance rectification. Each keeps the step ``count`` (shared with the
other counting parts of a recipe)."""

from __future__ import annotations

import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import leafwise
from adamx._core.records import record
from adamx._core.steps import increment, zero_count
from adamx._core.transform import Transform, transform

BiasCorrectState = record("BiasCorrectState", ("count",))
RectifyState = record("RectifyState", ("count",))


@primitive
def bias_correct(decay: hp.Scalar, *, power: float = 1.0) -> Transform:
  """Divides by the bias of a zero-initialised EMA (Kingma & Ba, 2015, §3).

  .. math::  u \\mapsto u / (1 - \\beta^t)^{p},\\qquad t = 1, 2, \\dots

  With ``power=1`` it corrects a mean (:math:`\\hat m_t = m_t / (1-\\beta_1^t)`);
  with ``power=0.5`` a root mean square, which is where torch applies
  Adam's second-moment correction (after the root).

  State: ``count``, the steps taken (saturating at the int32 maximum).

  Args:
    decay: the EMA's :math:`\\beta`, in ``[0, 1)``.
    power: static exponent :math:`p` of the correction (1 or 0.5 in practice).
  """

  def correct(u, *, b_t):
    # 1 - b^t per leaf, b^t once: XLA multiplies by the reciprocal of a
    # divisor used by one leaf only, and divides by a shared one, which
    # rounds differently.
    correction = 1 - b_t
    if power == 0.5:
      correction = jnp.sqrt(correction)
    elif power != 1.0:
      correction = correction ** hp.cast(power, correction.dtype)
    return u / correction

  def update(updates, state, params=None):
    del params
    count = increment(state.count)
    b_t = hp.Formed(lambda b, t: b**t, b=decay, t=count)  # once per step and dtype
    out, _ = leafwise("bias_correct", correct, updates, b_t=b_t)
    return out, BiasCorrectState(count)

  return transform(lambda params: BiasCorrectState(zero_count()), update,
                   record=BiasCorrectState)


@primitive
def rectify(decay: hp.Scalar, threshold: hp.Scalar = 5.0) -> Transform:
  """RAdam's variance rectification, applied to a denominator (Liu et al., 2020).

  .. math::
     \\rho_\\infty = \\tfrac{2}{1-\\beta_2} - 1,\\quad
     \\rho_t = \\rho_\\infty - \\tfrac{2 t \\beta_2^t}{1-\\beta_2^t},\\quad
     r_t = \\sqrt{\\tfrac{(\\rho_t-4)(\\rho_t-2)\\rho_\\infty}
                       {(\\rho_\\infty-4)(\\rho_\\infty-2)\\rho_t}}

  Emits :math:`D / r_t` while :math:`\\rho_t \\ge` ``threshold`` and 1
  otherwise, so that ``ratio(m_hat, rectify(D))`` is :math:`r_t \\hat m / D`
  once the variance is tractable and the un-adapted :math:`\\hat m` before.

  State: ``count``.
  """

  def rectified(u, *, b2, t, threshold):
    rho_inf = 2 / (1 - b2) - 1
    b2t = b2**t
    rho = rho_inf - 2 * t * b2t / (1 - b2t)
    r = jnp.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    tractable = rho >= threshold
    return jnp.where(tractable, u / jnp.where(tractable, r, 1), 1)

  def update(updates, state, params=None):
    del params
    count = increment(state.count)
    out, _ = leafwise("rectify", rectified, updates, b2=decay, t=count, threshold=threshold)
    return out, RectifyState(count)

  return transform(lambda params: RectifyState(zero_count()), update, record=RectifyState)
