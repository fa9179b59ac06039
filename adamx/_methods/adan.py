"""Adan (Xie et al., 2022): Adam-like, with an EMA of the gradient *difference* and
the second moment of the extrapolated gradient :math:`g_t + w (g_t - g_{t-1})`.

Each branch is ``linear`` over parts that all see the raw updates, with ``lag``
for :math:`u_{t-1}` (optimistic gradient descent and optimistic Adam, the other
methods that read the previous input, are in :mod:`adamx._methods.optimistic`).
"""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.fanout import linear, ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import arrangement, method
from adamx._core.transform import Transform
from adamx._methods.denominators import rms_denominator
from adamx._methods.terms import change
from adamx._primitives.corrections import bias_correct
from adamx._primitives.moments import scale_by_ema
from adamx._primitives.scale import add_decayed_weights, identity, scale_by_learning_rate


@arrangement
def scale_by_adan(
    b1: hp.Scalar = 0.98,
    b2: hp.Scalar = 0.92,
    b3: hp.Scalar = 0.99,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    *,
    paper_weight: bool = False,
) -> Transform:
  """Adan's direction before the rate, as ``optax.scale_by_adan`` (see :func:`adan`).

  ``ratio(linear((1, m̂), (w, v̂)), chain(linear((1, identity()), (w, Δg)),
  rms_denominator(b3, eps, eps_root, name="n")))`` with
  :math:`\\Delta g_t = g_t - g_{t-1}` from ``lag``; :math:`w = 1 - b_2`
  (Optax) or :math:`b_2` (``paper_weight``). State: ``count``, ``m``, ``g``,
  ``v``, ``g_1``, ``n``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.chain(
    ...   adamx.scale_by_adan(b1=0.9),
    ...   adamx.scale_by_learning_rate(0.05))
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  weight = b2 if paper_weight else hp.OneMinus(b2)
  numerator = linear((1.0, chain(scale_by_ema(b1, name="m"), bias_correct(b1))),
                     (weight, chain(change("g"), scale_by_ema(b2, name="v"), bias_correct(b2))))
  extrapolated = linear((1.0, identity()), (weight, change("g")))
  return ratio(numerator, chain(extrapolated, rms_denominator(b3, eps, eps_root, name="n")))


@method
def adan(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.98,
    b2: hp.Scalar = 0.92,
    b3: hp.Scalar = 0.99,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 1e-8,
    weight_decay: hp.ScalarOrSchedule = 0.0,
    mask: Any = None,
    *,
    paper_weight: bool = False,
) -> Transform:
  """Adan: adaptive Nesterov momentum (Xie et al., 2022), as Optax computes it.

  .. math::
     \\Delta_t &= g_t - g_{t-1} \\;(\\Delta_1 = 0),\\qquad h_t = g_t + w\\,\\Delta_t \\\\
     m_t &= b_1 m_{t-1} + (1-b_1) g_t,\\quad
     v_t = b_2 v_{t-1} + (1-b_2) \\Delta_t,\\quad
     n_t = b_3 n_{t-1} + (1-b_3) |h_t|^2 \\\\
     w_{t+1} &= w_t - \\eta_t \\left(\\frac{\\hat m_t + w\\, \\hat v_t}
              {\\sqrt{\\hat n_t + \\epsilon_{root}} + \\epsilon} + \\lambda_t w_t\\right)

  with every moment bias-corrected (:math:`\\hat x_t = x_t / (1 - b^t)`) and
  :math:`w = 1 - b_2`, Optax's weight of the gradient difference.

  Recipe: ``chain(scale_by_adan(b1, b2, b3, eps, eps_root), add_decayed_weights(wd, mask),
  scale_by_learning_rate(lr))``, where the direction is a ``ratio`` of
  ``linear`` combinations of EMAs, the difference :math:`\\Delta_t` being
  ``linear((1, identity()), (-1, lag(first_step_current=True)))``. The
  numerator and the denominator each hold their own :math:`g_{t-1}`
  (``g``, ``g_1``; a fan-out's branches do not share state): one buffer more
  than Optax's state.
  State ``AdanState``: ``count``, ``m``, ``g``, ``v``, ``g_1``, ``n``, ``learning_rate``
  (``m``, ``v``, ``n``, ``g`` as Optax names them).

  Reproduces exactly: ``optax.adan`` with the same arguments.

  Where Optax differs from the paper: Algorithm 1 (in its convention
  :math:`\\beta_i = 1 - b_i`) weights the difference by :math:`1-\\beta_2 = b_2`
  (0.92 by default), as does the authors' implementation (sail-sg/Adan);
  Optax weights it by :math:`1 - b_2` (0.08; an open Optax pull request,
  #1715, changes it). ``paper_weight=True`` uses :math:`w = b_2` and then,
  with ``eps_root=0``, reproduces the authors' implementation with
  ``no_prox=True`` exactly. The paper's Algorithm 1 further starts from
  :math:`m_0 = g_0, v_1 = g_1 - g_0, n_0 = g_0^2` without bias correction,
  and applies the decay proximally (:math:`(w_t - \\eta\\,\\cdot)/(1+\\lambda\\eta)`);
  with ``paper_weight=True, eps_root=0`` and no decay, its first step is this
  one's and its later steps agree with these once the start is forgotten
  (tested with fast decays).

  Args:
    learning_rate: :math:`\\eta_t`, a number or a schedule.
    b1, b2, b3: decays of :math:`m`, :math:`v`, :math:`n`, in ``[0, 1)``.
    eps, eps_root: added outside and inside the root.
    weight_decay: :math:`\\lambda_t`, decoupled, a number or a schedule.
    mask: the leaves to decay, as in ``optax.adan``.
    paper_weight: weight the difference by :math:`b_2` (the paper) instead of
      :math:`1 - b_2` (Optax).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.adan(learning_rate=0.05, b1=0.9)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(scale_by_adan(b1, b2, b3, eps, eps_root, paper_weight=paper_weight),
               add_decayed_weights(weight_decay, mask),
               scale_by_learning_rate(learning_rate))
