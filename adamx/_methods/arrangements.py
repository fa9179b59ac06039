"""The numerator arrangements, and Optax's scalings built from them and the denominators.

``first_moment`` is every peer's numerator (bias-corrected EMA, Nesterov's
look-ahead, or the raw EMA); ``scale_by_adam`` and ``scale_by_rms`` are
Optax's names for a numerator over a denominator of
:mod:`adamx._methods.denominators`.
"""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import arrangement
from adamx._core.transform import Transform
from adamx._methods.denominators import rms, rms_denominator
from adamx._primitives.corrections import bias_correct
from adamx._primitives.moments import nesterov_ema, scale_by_ema
from adamx._primitives.scale import identity


@arrangement
def first_moment(
    b1: hp.Scalar,
    *,
    nesterov: bool = False,
    bias_correction: bool = True,
    momentum_decay: hp.Scalar | None = None,
    dtype: Any = None,
) -> Transform:
  """:math:`\\hat m_t`: the EMA of raw gradients (``mu``), corrected and/or look-ahead.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.chain(
    ...   adamx.ratio(adamx.first_moment(0.9, nesterov=True), adamx.rms_denominator(0.999, 1e-8)),
    ...   adamx.scale_by_learning_rate(0.1))
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  if nesterov and bias_correction:
    return nesterov_ema(b1, momentum_decay=momentum_decay, dtype=dtype)
  if bias_correction:
    return chain(scale_by_ema(b1, dtype=dtype), bias_correct(b1))
  return scale_by_ema(b1, nesterov=nesterov, dtype=dtype)


@arrangement
def scale_by_rms(
    decay: hp.Scalar = 0.9,
    eps: hp.Scalar = 1e-8,
    initial_scale: hp.Scalar = 0.0,
    eps_in_sqrt: bool = True,
    bias_correction: bool = False,
    *,
    numerator: Any = None,
    nu_dtype: Any = None,
) -> Transform:
  """Divides by the root mean square of the *raw* updates (Hinton, 2012), as ``optax.scale_by_rms``.

  .. math::  u \\mapsto N(u_t) / D_t

  with :math:`D_t` from :func:`rms` and :math:`N` = ``numerator`` (identity
  by default). The RMS is always taken of the raw updates, so with
  ``numerator=chain(scale_by_ema(b1), bias_correct(b1))`` and
  ``bias_correction=True`` this is Adam, not RMSProp followed by momentum.
  State: ``nu`` (and ``count`` with ``bias_correction``).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.chain(
    ...   adamx.scale_by_rms(decay=0.9),
    ...   adamx.scale_by_learning_rate(0.05))
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return ratio(numerator if numerator is not None else identity(),
               rms(decay, eps, eps_in_sqrt=eps_in_sqrt, bias_correction=bias_correction,
                   initial_scale=initial_scale, dtype=nu_dtype))


@arrangement
def scale_by_adam(
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
    bias_correction: bool = True,
    eps_hat: bool = False,
    momentum_decay: hp.Scalar | None = None,
    nu_dtype: Any = None,
) -> Transform:
  """Adam's direction :math:`\\hat m_t / (\\sqrt{\\hat v_t} + \\epsilon)`, before the rate,
  as ``optax.scale_by_adam``.

  ``ratio(numerator=first_moment(b1), denominator=rms_denominator(b2))``:
  both branches see the raw gradient. ``eps_hat`` is the :math:`\\hat\\epsilon`
  form (``correction="eps"``). State: ``count``, ``mu``, ``nu``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.chain(
    ...   adamx.scale_by_adam(b1=0.9, b2=0.999),
    ...   adamx.scale_by_learning_rate(0.1))
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return ratio(
      first_moment(b1, nesterov=nesterov, bias_correction=bias_correction,
                   momentum_decay=momentum_decay, dtype=mu_dtype),
      rms_denominator(b2, eps, eps_root, bias_correction=bias_correction,
                      correction="eps" if eps_hat else "moment", dtype=nu_dtype),
  )
