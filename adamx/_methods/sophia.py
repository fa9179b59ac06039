"""Sophia (Liu et al., 2023): Adam's numerator over a clipped, periodically refreshed
Hessian-diagonal estimate, ``periodic_ema(b2, every k, estimator) → scale(γ) → max_eps(eps)``."""

from __future__ import annotations

from typing import Any

import optax
from optax.contrib import hutchinson_estimator_diag_hessian

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._methods.arrangements import first_moment
from adamx._primitives.delayed import periodic_ema
from adamx._primitives.elementwise import clip, max_eps
from adamx._primitives.scale import add_decayed_weights, scale, scale_by_learning_rate


@method
def sophia(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.965,
    b2: hp.Scalar = 0.99,
    eps: hp.Scalar = 1e-8,
    weight_decay: hp.ScalarOrSchedule = 1e-4,
    weight_decay_mask: Any = None,
    gamma: hp.Scalar = 0.01,
    clip_threshold: hp.Scalar | None = 1.0,
    update_interval: int = 10,
    hessian_diagonal_fn: optax.GradientTransformation = hutchinson_estimator_diag_hessian(),
    mu_dtype: Any = None,
    verbose: bool = False,
    print_win_rate_every_n_steps: int = 0,
    *,
    bias_correction: bool = True,
    delayed_hessian: bool = True,
) -> Transform:
  """Sophia (Liu et al., 2023, Algorithm 3): momentum over a clipped diagonal-Hessian preconditioner.

  .. math::
     m_t &= \\beta_1 m_{t-1} + (1-\\beta_1) g_t \\\\
     h_t &= \\beta_2 h_{t-k} + (1-\\beta_2)\\, \\hat h_t \\;\\text{ if } t \\equiv 1 \\pmod k,
            \\text{ else } h_{t-1} \\\\
     w_t &= w_{t-1} - \\eta_t \\left(\\operatorname{clip}\\!\\left(
            \\frac{\\hat m_t}{\\max(\\gamma h_{t-1}, \\epsilon)}, \\rho\\right) + \\lambda w_{t-1}\\right)

  :math:`\\hat h_t` is ``hessian_diagonal_fn``'s output (default: Optax's
  Hutchinson estimator, which needs ``obj_fn=`` passed to ``update``; any
  gradient transformation works, e.g. ``adamx.square()`` for a
  Gauss-Newton-like :math:`g_t^2`). Extra keyword arguments of ``update``
  reach it on refresh steps only.

  Recipe::

     chain(ratio(first_moment(b1),
                 chain(periodic_ema(b2, k, hessian_diagonal_fn), scale(gamma), max_eps(eps))),
           clip(clip_threshold), add_decayed_weights(wd, mask), scale_by_learning_rate(lr))

  Where Optax deviates from the paper: Optax bias-corrects :math:`m`
  (:math:`\\hat m_t = m_t/(1-\\beta_1^t)`) and divides by the Hessian EMA from
  *before* this step's refresh, :math:`h_{t-1}`; the paper divides
  :math:`m_t` by :math:`h_t`. ``bias_correction=False, delayed_hessian=False``
  is the paper's Algorithm 3. ``clip_threshold=None`` drops the clip.
  ``verbose`` and ``print_win_rate_every_n_steps`` are accepted for Optax's
  signature; the win-rate printout is not produced (it changes no number).

  State ``SophiaState``: ``count``, ``mu``, ``nu`` (:math:`h`),
  ``hessian_fn_state``, ``learning_rate``.

  Reproduces exactly: ``optax.contrib.sophia`` with the same arguments.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.sophia(learning_rate=0.01, b1=0.9)  # Hutchinson's estimate: needs obj_fn
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> @jax.jit
    ... def step(params, state):
    ...   grads = jax.grad(loss)(params)
    ...   updates, state = opt.update(grads, state, params, obj_fn=loss)
    ...   return optax.apply_updates(params, updates), state
    >>> for _ in range(200):
    ...   params, state = step(params, state)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  del verbose, print_win_rate_every_n_steps
  clipping = [clip(clip_threshold)] if clip_threshold is not None else []
  hessian = periodic_ema(b2, update_interval, hessian_diagonal_fn, delayed=delayed_hessian,
                         estimator_name="hessian_fn_state")
  return chain(
      ratio(first_moment(b1, bias_correction=bias_correction, dtype=mu_dtype),
            chain(hessian, scale(gamma), max_eps(eps))),
      *clipping,
      add_decayed_weights(weight_decay, weight_decay_mask),
      scale_by_learning_rate(learning_rate),
  )
