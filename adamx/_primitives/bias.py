"""Corrections that depend on the step count: bias correction, Nesterov
look-ahead with bias correction (Dozat), and RAdam's variance rectification.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.checks import check_updates
from adamx._core.kernels import (
    full_like, increment, leaf_dtype, nondefault, unzip, zero_count,
)
from adamx._core.transform import Transform, transform


class BiasCorrectState(NamedTuple):
  count: jax.Array  # steps taken, saturating at the int32 maximum


def bias_correct(decay: hp.Scalar, *, power: float = 1.0) -> Transform:
  """Divides by the bias of a zero-initialised EMA (Kingma & Ba, 2015, §3).

  .. math::  u \\mapsto u / (1 - \\beta^t)^{p},\\qquad t = 1, 2, \\dots

  With ``power=1`` it corrects a mean (:math:`\\hat m_t = m_t / (1-\\beta_1^t)`);
  with ``power=0.5`` a root mean square, which is where torch applies
  Adam's second-moment correction (after the root).

  Args:
    decay: the EMA's :math:`\\beta`, in ``[0, 1)``.
    power: static exponent :math:`p` of the correction (1 or 0.5 in practice).
  """
  hp.validate("bias_correct", decay=decay, power=power)

  def update(updates, state, params=None):
    del params
    count = increment(state.count)

    def leaf(u):
      d = leaf_dtype(u)
      correction = 1 - hp.cast(decay, d) ** count.astype(d)
      if power == 0.5:
        correction = jnp.sqrt(correction)
      elif power != 1.0:
        correction = correction ** hp.cast(power, d)
      return (u.astype(d) / correction).astype(jnp.result_type(u))

    return jax.tree.map(leaf, updates), BiasCorrectState(count=count)

  return transform(
      "bias_correct", lambda params: BiasCorrectState(count=zero_count()),
      update, decay=decay, **nondefault(power=(power, 1.0)),
  )


class NesterovEmaState(NamedTuple):
  count: jax.Array
  mu: Any  # EMA of the updates with constant decay
  mu_product: jax.Array  # prod_{i<=t} mu_i of the momentum schedule


def nesterov_ema(
    decay: hp.Scalar, *, momentum_decay: hp.Scalar | None = None, dtype: Any = None
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
  """
  hp.validate("nesterov_ema", decay=decay, momentum_decay=momentum_decay)

  def schedule(t: jax.Array, d: Any) -> jax.Array:
    beta = hp.cast(decay, d)
    if momentum_decay is None:
      return beta
    psi = hp.cast(momentum_decay, d)
    return beta * (1 - 0.5 * hp.cast(0.96, d) ** (t.astype(d) * psi))

  def init(params):
    # The schedule is computed in the parameters' arithmetic dtype, so a
    # Python float and a float32 array give the same float32 trajectory.
    return NesterovEmaState(
        count=zero_count(), mu=full_like(params, 0.0, dtype),
        mu_product=jnp.ones([], leaf_dtype(*jax.tree.leaves(params))),
    )

  def update(updates, state, params=None):
    del params
    check_updates("nesterov_ema", updates, state.mu)
    count = increment(state.count)
    sd = state.mu_product.dtype
    mu_now = schedule(count, sd)
    product = state.mu_product * mu_now
    mu_next = schedule(increment(count), sd)
    weight_m = mu_next / (1 - product * mu_next)
    weight_u = (1 - mu_now) / (1 - product)

    def leaf(u, m):
      d = leaf_dtype(u, m, sd)
      b = hp.cast(decay, d)
      new = b * m.astype(d) + (1 - b) * u.astype(d)
      out = weight_m.astype(d) * new + weight_u.astype(d) * u.astype(d)
      return out.astype(jnp.result_type(u)), new.astype(m.dtype)

    out, mu = unzip(jax.tree.map(leaf, updates, state.mu), updates)
    return out, NesterovEmaState(count=count, mu=mu, mu_product=product)

  return transform(
      "nesterov_ema", init, update, decay=decay,
      **nondefault(momentum_decay=(momentum_decay, None)),
  )


class RectifyState(NamedTuple):
  count: jax.Array


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
  """
  hp.validate("rectify", decay=decay, threshold=threshold)

  def update(updates, state, params=None):
    del params
    count = increment(state.count)

    def leaf(u):
      d = leaf_dtype(u)
      b2 = hp.cast(decay, d)
      t = count.astype(d)
      rho_inf = 2 / (1 - b2) - 1
      b2t = b2**t
      rho = rho_inf - 2 * t * b2t / (1 - b2t)
      r = jnp.sqrt(
          (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)
      )
      tractable = rho >= hp.cast(threshold, d)
      return jnp.where(tractable, u.astype(d) / jnp.where(tractable, r, 1), 1)

    return jax.tree.map(leaf, updates), RectifyState(count=count)

  return transform(
      "rectify", lambda params: RectifyState(count=zero_count()), update,
      decay=decay, threshold=threshold,
  )
