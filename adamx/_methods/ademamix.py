"""AdEMAMix (Pagliardini et al., 2024) and its simplified form: a mix of averages.

* AdEMAMix: a fast bias-corrected EMA plus :math:`\\alpha` times a slow EMA;
* Simplified AdEMAMix: a heavy-ball trace plus :math:`\\alpha` times the gradient.

Each numerator is ``linear`` over branches that all see the raw updates. A
coefficient or decay that Optax lets be a schedule (AdEMAMix's ``alpha`` and
``b3``) is evaluated at the shared step ``count``: a coefficient through
:func:`~adamx._primitives.schedules.scale_by_schedule` at the end of its
branch, a decay through
:func:`~adamx._primitives.schedules.scale_by_scheduled_ema`.
"""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.fanout import linear, ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import arrangement, method
from adamx._core.transform import Transform
from adamx._methods.denominators import rms_denominator
from adamx._methods.terms import ema, term
from adamx._primitives.corrections import bias_correct
from adamx._primitives.moments import scale_by_ema
from adamx._primitives.momentum import momentum
from adamx._primitives.scale import add_decayed_weights, identity, scale_by_learning_rate


@arrangement
def scale_by_ademamix(
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    b3: hp.ScalarOrSchedule = 0.9999,
    alpha: hp.ScalarOrSchedule = 6.0,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    mu_dtype: Any = None,
) -> Transform:
  """AdEMAMix's direction before the rate, as ``optax.contrib.scale_by_ademamix``
  (see :func:`ademamix`).

  ``ratio(linear((1, chain(scale_by_ema(b1, name="m1"), bias_correct(b1))),
  (alpha, scale_by_ema(b3, name="m2"))), rms_denominator(b2, eps, eps_root))``;
  a scheduled ``b3`` is ``scale_by_scheduled_ema``, a scheduled ``alpha``
  ``scale_by_schedule`` after the slow EMA. State: ``count``, ``m1``, ``m2``, ``nu``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.chain(
    ...   adamx.scale_by_ademamix(alpha=5.0),
    ...   adamx.scale_by_learning_rate(0.1))
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  fast = chain(scale_by_ema(b1, dtype=mu_dtype, name="m1"), bias_correct(b1))
  slow = ema(b3, name="m2", dtype=mu_dtype)
  return ratio(linear((1.0, fast), term(alpha, slow)),
               rms_denominator(b2, eps, eps_root, dtype=mu_dtype))


@method
def ademamix(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    b3: hp.ScalarOrSchedule = 0.9999,
    alpha: hp.ScalarOrSchedule = 5.0,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    mu_dtype: Any = None,
    weight_decay: hp.ScalarOrSchedule = 0.0,
    mask: Any = None,
) -> Transform:
  """AdEMAMix: Adam with a mixture of a fast and a slow EMA (Pagliardini, Ablin & Grangier, 2024).

  .. math::
     m^{(1)}_t &= \\beta_1 m^{(1)}_{t-1} + (1-\\beta_1) g_t,\\qquad
     m^{(2)}_t = \\beta_{3,t}\\, m^{(2)}_{t-1} + (1-\\beta_{3,t}) g_t \\\\
     \\nu_t &= \\beta_2 \\nu_{t-1} + (1-\\beta_2) |g_t|^2 \\\\
     w_{t+1} &= w_t - \\eta_t \\left(\\frac{m^{(1)}_t/(1-\\beta_1^t) + \\alpha_t m^{(2)}_t}
              {\\sqrt{\\nu_t/(1-\\beta_2^t) + \\epsilon_{root}} + \\epsilon} + \\lambda w_t\\right)

  The slow EMA is not bias-corrected (it fills slowly on purpose).
  ``alpha`` and ``b3`` may be schedules, evaluated at ``count`` = 0, 1, ...
  (as Optax; the paper's schedulers :math:`\\alpha(t), \\beta_3(t)` index
  steps from :math:`t = 1`, so its scheduler ``f`` is ``lambda c: f(c + 1)`` here).

  Recipe: ``chain(scale_by_ademamix(b1, b2, b3, alpha, eps, eps_root, mu_dtype),
  add_decayed_weights(wd, mask), scale_by_learning_rate(lr))``: a ``ratio``
  whose numerator is ``linear((1, fast), (alpha, slow))``.
  State ``AdemamixState``: ``count``, ``m1``, ``m2``, ``nu``, ``learning_rate``
  (Optax's names; Optax's second counter ``count_m2`` always equals ``count``).
  All three moments are kept in ``mu_dtype``, as Optax keeps them.

  Reproduces exactly: ``optax.contrib.ademamix`` with the same arguments,
  schedules included, and the paper's Algorithm 1.

  Args:
    learning_rate: :math:`\\eta_t`, a number or a schedule.
    b1, b2: decays of the fast EMA and of :math:`\\nu`, in ``[0, 1)``.
    b3: decay of the slow EMA, in ``[0, 1)``, a number or a schedule.
    alpha: weight of the slow EMA, a number or a schedule.
    eps, eps_root: added outside and inside the root.
    mu_dtype: dtype of the three moments; defaults to the parameters'.
    weight_decay: :math:`\\lambda`, decoupled (multiplied by the rate).
    mask: the leaves to decay, as in Optax.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.ademamix(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(scale_by_ademamix(b1, b2, b3, alpha, eps, eps_root, mu_dtype),
               add_decayed_weights(weight_decay, mask),
               scale_by_learning_rate(learning_rate))


@arrangement
def scale_by_simplified_ademamix(
    b1: hp.Scalar = 0.99,
    b2: hp.Scalar = 0.95,
    alpha: hp.ScalarOrSchedule = 0.0,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
) -> Transform:
  """Simplified AdEMAMix's direction, as ``optax.contrib.scale_by_simplified_ademamix``
  (see :func:`simplified_ademamix`).

  ``ratio(linear((1, momentum(b1, name="m")), (alpha, identity())),
  rms_denominator(b2, eps, eps_root, name="n"))``. State: ``count``, ``m``, ``n``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.chain(
    ...   adamx.scale_by_simplified_ademamix(b1=0.9),
    ...   adamx.scale_by_learning_rate(0.01))
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return ratio(linear((1.0, momentum(b1, name="m")), term(alpha, identity())),
               rms_denominator(b2, eps, eps_root, name="n"))


@method
def simplified_ademamix(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.99,
    b2: hp.Scalar = 0.95,
    alpha: hp.ScalarOrSchedule = 0.0,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    weight_decay: hp.ScalarOrSchedule = 0.0,
    mask: Any = None,
) -> Transform:
  """Simplified AdEMAMix (Morwani, Vyas, Zhang & Kakade, 2025).

  .. math::
     m_t &= \\beta_1 m_{t-1} + g_t \\quad(\\text{a heavy-ball trace, not an average}) \\\\
     \\nu_t &= \\beta_2 \\nu_{t-1} + (1-\\beta_2) |g_t|^2 \\\\
     w_{t+1} &= w_t - \\eta_t \\left(\\frac{m_t + \\alpha_t g_t}
              {\\sqrt{\\nu_t/(1-\\beta_2^t) + \\epsilon_{root}} + \\epsilon} + \\lambda w_t\\right)

  One momentum buffer instead of AdEMAMix's two; :math:`\\alpha = 0` is
  Adam with a rescaled rate and :math:`\\beta_1`. ``alpha`` may be a schedule
  (evaluated at ``count`` = 0, 1, ..., as Optax).

  Recipe: ``chain(scale_by_simplified_ademamix(b1, b2, alpha, eps, eps_root),
  add_decayed_weights(wd, mask), scale_by_learning_rate(lr))``: a ``ratio``
  whose numerator is ``linear((1, momentum(b1)), (alpha, identity()))``.
  State ``SimplifiedAdemamixState``: ``count``, ``m``, ``n``, ``learning_rate``
  (Optax's names).

  Reproduces exactly: ``optax.contrib.simplified_ademamix`` with the same
  arguments, and the paper's algorithm. On complex parameters adamx averages
  :math:`|g|^2`; Optax averages :math:`g^2` (complex), which is not a second
  moment.

  Args:
    learning_rate: :math:`\\eta_t`, a number or a schedule.
    b1: decay of the trace :math:`m`, in ``[0, 1)``.
    b2: decay of :math:`\\nu`, in ``[0, 1)``.
    alpha: weight of the current gradient, a number or a schedule.
    eps, eps_root: added outside and inside the root.
    weight_decay: :math:`\\lambda`, decoupled (multiplied by the rate).
    mask: the leaves to decay, as in Optax.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.simplified_ademamix(learning_rate=0.01, b1=0.9)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(scale_by_simplified_ademamix(b1, b2, alpha, eps, eps_root),
               add_decayed_weights(weight_decay, mask),
               scale_by_learning_rate(learning_rate))
