"""Methods whose denominator is read one step late: ACProp and ADOPT.

=========  ==============================================================================
method     denominator
=========  ==============================================================================
ACProp     ema_deviation(b1, previous) → square → delayed_ema(b2, eps_root, corrected) → root → add_eps
ADOPT      square → delayed_ema(b2, from_first) → root → max_eps(eps), then clip and the EMA
=========  ==============================================================================
"""

from __future__ import annotations

from typing import Any, Callable

import jax

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._primitives.delayed import delayed_ema
from adamx._primitives.elementwise import add_eps, max_eps, root, square
from adamx._primitives.moments import scale_by_ema
from adamx._primitives.scale import add_decayed_weights, identity, scale_by_learning_rate
from adamx._primitives.schedules import clip_by_schedule
from adamx._primitives.second_moments import ema_deviation


@method
def acprop(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-16,
    eps_root: hp.Scalar = 1e-16,
    weight_decay: hp.ScalarOrSchedule = 0.0,
    mask: Any = None,
    *,
    previous_mean: bool = True,
) -> Transform:
  """ACProp (Zhuang et al., 2021): AdaBelief's centred statistic, read one step late.

  .. math::
     m_t &= \\beta_1 m_{t-1} + (1-\\beta_1) g_t \\\\
     s_t &= \\beta_2 s_{t-1} + (1-\\beta_2) |g_t - m_{t-1}|^2 + \\epsilon_{root} \\\\
     w_t &= w_{t-1} - \\eta_t \\left(\\frac{g_t}{\\sqrt{s_{t-1}/(1-\\beta_2^{t-1})} + \\epsilon}
            + \\lambda w_{t-1}\\right),\\qquad \\text{first step: } \\frac{g_1}{1 + \\epsilon}

  The denominator uses information up to step :math:`t-1` only
  (asynchronous), the numerator the current gradient.

  Recipe::

     chain(ratio(identity(),
                 chain(ema_deviation(b1, previous=True), square(),
                       delayed_ema(b2, eps_root, bias_correction=True, first=1.0),
                       root(), add_eps(eps))),
           add_decayed_weights(wd, mask), scale_by_learning_rate(lr))

  Optax centres on the mean *before* this step, :math:`m_{t-1}`, although
  its docstring writes :math:`g_t - m_t`; the authors' code
  (github.com/juntang-zhuang/ACProp-Optimizer, ``optimizers/ACProp.py``,
  with the settings of its ``main.py``: gradient numerator, no
  rectification) centres on :math:`m_t`: ``previous_mean=False``.
  State ``AcpropState``: ``count``, ``mu`` (:math:`m`), ``nu`` (:math:`s`), ``learning_rate``.

  Reproduces exactly: ``optax.contrib.acprop`` with the same arguments.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.acprop(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(
      ratio(identity(),
            chain(ema_deviation(b1, previous=previous_mean), square(),
                  delayed_ema(b2, eps_root, bias_correction=True, first=1.0),
                  root(), add_eps(eps))),
      add_decayed_weights(weight_decay, mask),
      scale_by_learning_rate(learning_rate),
  )


@method
def adopt(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.9999,
    eps: hp.Scalar = 1e-6,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
    use_clipping: bool = True,
    clip_value_fn: Callable[[jax.Array], jax.Array] = lambda x: x**0.25,
) -> Transform:
  """ADOPT (Taniguchi et al., 2024, Algorithm 2): normalise, *then* average.

  .. math::
     v_0 &= g_0^2 \\quad(\\text{first step: no update}) \\\\
     m_t &= \\beta_1 m_{t-1} + (1-\\beta_1)\\,
            \\operatorname{clip}\\!\\left(\\frac{g_t}{\\max(\\sqrt{v_{t-1}}, \\epsilon)},\\; c_t\\right) \\\\
     w_t &= w_{t-1} - \\eta_t m_t,\\qquad v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2

  with :math:`c_t = t^{1/4}` (``clip_value_fn``, at ``count`` t = 0, 1, ...).
  Dividing by :math:`v_{t-1}`, which does not contain :math:`g_t`, and
  averaging the normalised gradient (Adam averages first) is what makes
  ADOPT converge for any :math:`\\beta_2`. ``nesterov=True`` emits
  :math:`\\beta_1 m_t + (1-\\beta_1) x_t` (:math:`x_t` the clipped ratio).

  Recipe::

     chain(ratio(identity(), chain(square(), delayed_ema(b2, from_first=True), root(),
                                   max_eps(eps))),
           clip_by_schedule(clip_value_fn), scale_by_ema(b1), scale_by_learning_rate(lr))

  ``delayed_ema`` emits :math:`\\infty` on the first step (there is no
  :math:`v_{-1}`), so the first gradient only initialises :math:`v`, with or
  without clipping, as in the paper and Optax.
  State ``AdoptState``: ``count``, ``nu`` (:math:`v`), ``mu`` (:math:`m`), ``learning_rate``.

  Complex parameters: refused with clipping (no order), as by Optax;
  without clipping they work as in Optax (:math:`v` of :math:`|g|^2`).

  Reproduces exactly: ``optax.contrib.adopt`` with the same arguments.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.adopt(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  clipping = [clip_by_schedule(clip_value_fn)] if use_clipping else []
  return chain(
      ratio(identity(), chain(square(), delayed_ema(b2, from_first=True), root(), max_eps(eps))),
      *clipping,
      scale_by_ema(b1, nesterov=nesterov, dtype=mu_dtype),
      scale_by_learning_rate(learning_rate),
  )
