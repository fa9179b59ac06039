"""Adam's relatives with another second moment: AdaBelief, Yogi, AdaMaxW.

Each is a ratio of a numerator and a denominator branch (both see the raw
gradient), like Adam; what differs is the statistic in the denominator:

=========  ==============================================================================
method     denominator
=========  ==============================================================================
AdaBelief  ema_deviation(b1) → square → ema_plus_eps(b2, eps_root) → bias_correct → root → add_eps
Yogi       square → additive_moment(b2) → bias_correct → root(eps_root) → add_eps
AdaMaxW    infinity_moment(b2, eps)   (AdaMax), then decoupled weight decay
=========  ==============================================================================
"""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._methods.arrangements import first_moment
from adamx._methods.denominators import infinity_denominator
from adamx._primitives.corrections import bias_correct
from adamx._primitives.elementwise import add_eps, root, square
from adamx._primitives.moments import scale_by_ema
from adamx._primitives.scale import add_decayed_weights, scale_by_learning_rate
from adamx._primitives.second_moments import additive_moment, ema_deviation, ema_plus_eps


@method
def adabelief(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-16,
    eps_root: hp.Scalar = 1e-16,
    *,
    nesterov: bool = False,
) -> Transform:
  """AdaBelief (Zhuang et al., 2020, Algorithm 2): Adam with the variance of the "belief".

  .. math::
     m_t &= \\beta_1 m_{t-1} + (1-\\beta_1) g_t \\\\
     s_t &= \\beta_2 s_{t-1} + (1-\\beta_2) |g_t - m_t|^2 + \\epsilon_{root} \\\\
     w_t &= w_{t-1} - \\eta_t\\, \\frac{m_t/(1-\\beta_1^t)}{\\sqrt{s_t/(1-\\beta_2^t)} + \\epsilon}

  The step is large where the gradient agrees with its running mean (small
  :math:`s`) and small where it does not. ``eps_root`` is added to the
  *statistic* every step, as in the paper, whose Algorithm 2 uses one
  :math:`\\epsilon` for both ``eps`` and ``eps_root`` (Optax's defaults are 1e-16).
  ``nesterov=True`` replaces :math:`\\hat m_t` by
  :math:`\\beta_1 m_t/(1-\\beta_1^{t+1}) + (1-\\beta_1) g_t/(1-\\beta_1^t)`.

  Recipe::

     chain(ratio(first_moment(b1, nesterov),
                 chain(ema_deviation(b1, name="mean"), square(), ema_plus_eps(b2, eps_root),
                       bias_correct(b2), root(), add_eps(eps))),
           scale_by_learning_rate(lr))

  The deviation branch keeps its own copy of :math:`m` (``mean``): a branch
  cannot read another's state, so the state holds :math:`m` twice (Optax's once).

  State ``AdabeliefState``: ``count``, ``mu`` (:math:`m`; with ``nesterov`` also
  ``mu_product``), ``mean`` (the same :math:`m`), ``nu`` (:math:`s`), ``learning_rate``.

  Reproduces exactly: ``optax.adabelief`` with the same arguments.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.adabelief(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(
      ratio(first_moment(b1, nesterov=nesterov),
            chain(ema_deviation(b1, name="mean"), square(), ema_plus_eps(b2, eps_root),
                  bias_correct(b2), root(), add_eps(eps))),
      scale_by_learning_rate(learning_rate),
  )


@method
def yogi(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-3,
    *,
    eps_root: hp.Scalar = 0.0,
    initial_accumulator_value: hp.Scalar = 1e-6,
    bias_correction: bool = True,
) -> Transform:
  """Yogi (Zaheer et al., 2018, Algorithm 2): Adam with an additive second moment.

  .. math::
     m_t &= \\beta_1 m_{t-1} + (1-\\beta_1) g_t \\\\
     v_t &= v_{t-1} - (1-\\beta_2)\\, \\operatorname{sign}(v_{t-1} - g_t^2)\\, g_t^2 \\\\
     w_t &= w_{t-1} - \\eta_t\\, \\hat m_t / (\\sqrt{\\hat v_t + \\epsilon_{root}} + \\epsilon)

  :math:`v` moves by at most :math:`(1-\\beta_2) g_t^2` per step, so it cannot
  collapse when gradients become small and the effective rate stays bounded.

  Recipe: ``ratio(chain(scale_by_ema(b1, initial_value=v0), bias_correct(b1)),
  chain(square(), additive_moment(b2, v0), bias_correct(b2), root(eps_root),
  add_eps(eps)))``, then the rate.

  Optax (and so the defaults here) starts *both* :math:`m` and :math:`v` at
  ``initial_accumulator_value`` = 1e-6 and divides them by :math:`1-\\beta^t`
  like Adam. The paper starts from :math:`m_0 = v_0 = 0` and corrects
  neither: ``initial_accumulator_value=0.0, bias_correction=False``.
  State ``YogiState``: ``count``, ``mu``, ``nu``, ``learning_rate``.

  Reproduces exactly: ``optax.yogi`` with the same arguments
  (``eps_root`` and ``initial_accumulator_value`` are ``optax.scale_by_yogi``'s).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.yogi(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  correct = (lambda b: [bias_correct(b)]) if bias_correction else (lambda b: [])
  v0 = initial_accumulator_value
  return chain(
      ratio(chain(scale_by_ema(b1, initial_value=v0), *correct(b1)),
            chain(square(), additive_moment(b2, v0), *correct(b2), root(eps_root), add_eps(eps))),
      scale_by_learning_rate(learning_rate),
  )


@method
def adamaxw(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    weight_decay: hp.ScalarOrSchedule = 1e-4,
    mask: Any = None,
) -> Transform:
  """AdaMaxW: AdaMax (Kingma & Ba, 2015, §7.1) with decoupled weight decay (Loshchilov & Hutter, 2019).

  .. math::
     u_t = \\max(\\beta_2 u_{t-1}, |g_t| + \\epsilon),\\qquad
     w_t = w_{t-1} - \\eta_t \\left(\\frac{m_t}{(1-\\beta_1^t)\\, u_t} + \\lambda_t w_{t-1}\\right)

  Recipe: ``chain(ratio(first_moment(b1), infinity_moment(b2, eps)),
  add_decayed_weights(wd, mask), scale_by_learning_rate(lr))``. As in Optax
  the decay is multiplied by the learning rate.
  State ``AdamaxwState``: ``count``, ``mu``, ``nu``, ``learning_rate``.

  Reproduces exactly: ``optax.adamaxw`` with the same arguments.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.adamaxw(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(ratio(first_moment(b1), infinity_denominator(b2, eps)),
               add_decayed_weights(weight_decay, mask),
               scale_by_learning_rate(learning_rate))
