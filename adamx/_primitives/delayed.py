"""Statistics read one step late: the denominator does not see the current gradient.

* :func:`delayed_ema`: an EMA that emits its value *before* this step's
  update (ADOPT, ACProp);
* :func:`periodic_ema`: an EMA of an estimator's output, refreshed every
  ``k`` steps and emitted delayed (Sophia's Hessian diagonal).

Both keep their statistic in float32 or wider: it is read back as the next
step's denominator.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import optax

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import dtype_of, leafwise, moments_like
from adamx._core.records import record
from adamx._core.steps import increment, zero_count
from adamx._core.transform import Transform, transform


def _stored_wide(params: Any, dtype: Any) -> Any:
  """Zeros like ``params`` in ``dtype``, or each leaf's dtype widened to at least float32.

  A delayed statistic is read back from storage as the denominator: kept in
  float16 it would flush small second moments to 0 and turn the next step
  into :math:`g/\\epsilon`.
  """
  if dtype is not None:
    return moments_like(params, 0.0, dtype)
  return jax.tree.map(lambda p: moments_like(p, 0.0, hp.compute_dtype(dtype_of(p))), params)


@primitive
def delayed_ema(
    decay: hp.Scalar,
    eps: hp.Scalar = 0.0,
    *,
    from_first: bool = False,
    bias_correction: bool = False,
    first: float = math.inf,
    dtype: Any = None,
    name: str = "nu",
) -> Transform:
  """An EMA that emits its value from *before* this step: :math:`s_{t-1}`.

  .. math::
     s_t = \\beta_t s_{t-1} + (1-\\beta_t) u_t + \\epsilon,\\qquad s_0 = 0,\\qquad
     \\text{emits } s_{t-1} \\;\\;\\Big(\\text{or } \\frac{s_{t-1}}{1-\\beta^{t-1}}
     \\text{ with } \\texttt{bias\\_correction}\\Big)

  with :math:`\\beta_t = \\beta`, or :math:`\\beta_1 = 0` with ``from_first``
  (the first input initialises :math:`s_1 = u_1 + \\epsilon`). A denominator
  built on it does not see the current gradient, which decorrelates the
  step from its scale (ADOPT, Taniguchi et al., 2024; ACProp, Zhuang et al.,
  2021). On the first step there is no previous statistic and it emits
  ``first``: ``inf`` (the default) makes a ratio over it 0, so the first
  gradient only initialises the statistic (ADOPT); ``1.0`` makes the first
  step a plain gradient step (Optax's ACProp). Emits in float32 or wider.

  State: ``count``; :math:`s` under ``name``, in ``dtype`` or else in the
  parameters' dtype widened to at least float32 (the emitted value is read
  back from storage, so float16 storage would flush small statistics to 0).
  """
  state_type = record("DelayedEmaState", ("count", name))

  def lagged(u, s, *, b, eps, t, first):
    b_now = jnp.where(t == 0, jnp.zeros_like(b), b) if from_first else b
    new = (1 - b_now) * u + b_now * s + eps
    old = s / jnp.where(t == 0, 1, 1 - b**t) if bias_correction else s
    return jnp.where(t == 0, first, old), new

  def update(updates, state, params=None):
    del params
    out, (new,) = leafwise("delayed_ema", lagged, updates, state[1], wide=True, b=decay,
                           eps=eps, t=state.count, first=first)
    return out, state_type(increment(state.count), new)

  return transform(lambda params: state_type(zero_count(), _stored_wide(params, dtype)),
                   update, record=state_type)


@primitive
def periodic_ema(
    decay: hp.Scalar,
    update_interval: int,
    estimator: optax.GradientTransformation,
    *,
    delayed: bool = True,
    dtype: Any = None,
    name: str = "nu",
    estimator_name: str = "estimator_state",
) -> Transform:
  """An EMA of an estimator's output, refreshed every ``update_interval`` steps.

  .. math::
     h_t = \\begin{cases} \\beta h_{t-1} + (1-\\beta)\\, E(u_t) & t \\equiv 1 \\pmod k \\\\
                          h_{t-1} & \\text{otherwise} \\end{cases},
     \\qquad h_0 = 0,\\quad \\text{emits } h_{t-1} \\;(\\text{or } h_t \\text{ with } \\texttt{delayed=False})

  :math:`E` is ``estimator``, any gradient transformation: its ``update`` is
  called only on refresh steps (inside ``lax.cond``, so an expensive
  estimate costs nothing in between) with the updates, the parameters and
  every extra keyword argument given to this transform's ``update`` (e.g.
  Optax's Hutchinson estimator needs ``obj_fn=``). Sophia's diagonal Hessian
  (Liu et al., 2023, Algorithm 3) is this with :math:`k = 10`; Optax divides
  by :math:`h_{t-1}` (``delayed``), the paper by :math:`h_t`. Emits in
  float32 or wider.

  State: ``count``; :math:`h` under ``name`` (stored as by :func:`delayed_ema`:
  in ``dtype``, else at least float32); the estimator's state under
  ``estimator_name``.
  """
  if isinstance(update_interval, (int, float)) and not (
      isinstance(update_interval, bool) or update_interval >= 1):
    raise hp.InvalidHyperparameter(
        f"periodic_ema: update_interval={update_interval!r} is outside the valid range;"
        " valid: 1 <= update_interval.")
  estimator = optax.with_extra_args_support(estimator)
  state_type = record("PeriodicEmaState", ("count", name, estimator_name))

  def init(params):
    return state_type(zero_count(), _stored_wide(params, dtype), estimator.init(params))

  def ema(u, h, *, b):
    new = (1 - b) * u + b * h
    return new, new

  def update(updates, state, params=None, **extra_args):
    count, h, estimator_state = state

    def refresh(estimator_state, h):
      estimate, estimator_state = estimator.update(updates, estimator_state, params,
                                                   **extra_args)
      return estimator_state, leafwise("periodic_ema", ema, estimate, h, b=decay)[1][0]

    estimator_state, new = jax.lax.cond(count % update_interval == 0, refresh,
                                        lambda e, n: (e, n), estimator_state, h)
    out, _ = leafwise("periodic_ema", lambda u, h: (h, h), updates, h if delayed else new,
                      wide=True)
    return out, state_type(increment(count), new, estimator_state)

  return transform(init, update, record=state_type, extra_args=True)
