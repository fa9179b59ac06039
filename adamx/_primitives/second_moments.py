"""Second-moment statistics beyond the EMA of squares, and the parts around them.

* :func:`additive_moment`: Yogi's second moment, moved by a signed additive
  step instead of a multiplicative decay;
* :func:`ema_deviation`: the deviation of the updates from their running
  mean (AdaBelief's and ACProp's "belief");
* :func:`ema_plus_eps`: an EMA that adds a constant every step;
* :func:`delayed_ema`: an EMA that emits its value *before* this step's
  update (ADOPT, ACProp: the denominator does not see the current gradient);
* :func:`periodic_ema`: an EMA of an estimator's output, refreshed every
  ``k`` steps and emitted delayed (Sophia's Hessian diagonal);
* :func:`max_eps`, :func:`cube_root`, :func:`clip_by_schedule`: elementwise maps;
* :func:`scale_by_sqrt_step` and :func:`dual_average`: MADGRAD's weights
  :math:`\\lambda_k = (\\eta_k + \\epsilon)\\sqrt{k+1}` and its averaging step
  towards the dual-averaging iterate :math:`x_0 - s/\\sigma`.

Statistics are kept in the parameters' dtype unless ``dtype`` is given and
computed in float32 or wider (:func:`adamx._core.lift.leafwise`).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import optax

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import dtype_of, leafwise, moments_like, statistic
from adamx._core.records import record
from adamx._core.steps import increment, zero_count
from adamx._core.transform import Transform, transform
from adamx._primitives.elementwise import _stateless


def _refuse_complex(owner: str, u: jax.Array, why: str) -> None:
  if jnp.iscomplexobj(u):
    raise TypeError(f"{owner}: complex updates {why}.")


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


@primitive
def max_eps(eps: hp.Scalar) -> Transform:
  """:math:`u \\mapsto \\max(u, \\epsilon)`, in float32 or wider: a floor for a denominator.

  ADOPT divides by :math:`\\max(\\sqrt{v_{t-1}}, \\epsilon)` and Sophia by
  :math:`\\max(\\gamma h, \\epsilon)`, where Adam adds :math:`\\epsilon`
  (:func:`adamx.add_eps`). Complex values have no order and are refused.
  """

  def floor(u, *, eps):
    _refuse_complex("max_eps", u, "have no order and cannot be floored")
    return jnp.maximum(u, eps)

  return _stateless("max_eps", floor, wide=True, eps=eps)


@primitive
def cube_root() -> Transform:
  """:math:`u \\mapsto u^{1/3}` (real cube root), in float32 or wider.

  MADGRAD's denominator is the cube root of a weighted sum of squares
  (Defazio & Jelassi, 2021). Complex values are refused (put ``square()``
  in front, which gives :math:`|g|^2`).
  """

  def cbrt(u):
    _refuse_complex("cube_root", u, "have no single real cube root; put square() in front")
    return jnp.cbrt(u)

  return _stateless("cube_root", cbrt, wide=True)


ClipByScheduleState = record("ClipByScheduleState", ("count",))


@primitive
def clip_by_schedule(clip_value_fn: hp.ScalarOrSchedule) -> Transform:
  """:math:`u \\mapsto \\min(\\max(u, -c_t), c_t)` with :math:`c_t` = ``clip_value_fn(t)``, t = 0, 1, ...

  ADOPT's clip (Taniguchi et al., 2024, Algorithm 2) with
  :math:`c_t = t^{1/4}`: 0 on the first step, growing after. Complex updates
  have no order and are refused, as by :func:`adamx.clip`.

  State: ``count``.
  """

  def clipped(u, *, c):
    _refuse_complex("clip_by_schedule", u, "have no order and cannot be clipped elementwise")
    return jnp.clip(u, -c, c)

  def update(updates, state, params=None):
    del params
    bound = hp.evaluate(clip_value_fn, state.count)
    out, _ = leafwise("clip_by_schedule", clipped, updates, c=bound)
    return out, ClipByScheduleState(increment(state.count))

  return transform(lambda params: ClipByScheduleState(zero_count()), update,
                   record=ClipByScheduleState)


ScaleBySqrtStepState = record("ScaleBySqrtStepState", ("count",))


@primitive
def scale_by_sqrt_step(learning_rate: hp.ScalarOrSchedule, eps: hp.Scalar = 0.0) -> Transform:
  """:math:`u_k \\mapsto \\lambda_k u_k`, :math:`\\lambda_k = (\\eta_k + \\epsilon)\\sqrt{k+1}`, k = 0, 1, ...

  MADGRAD's dual-averaging weights (Defazio & Jelassi, 2021, Algorithm 1,
  :math:`\\lambda_k = \\gamma_k \\sqrt{k+1}`; the authors' code and Optax use
  :math:`\\gamma_k = \\eta_k + \\epsilon`). Followed by
  :func:`adamx.accumulate` it is the weighted sum :math:`s_k = \\sum_i \\lambda_i g_i`;
  after ``square()``, :math:`\\nu_k = \\sum_i \\lambda_i g_i^2`. :math:`\\sqrt{k+1}`
  is computed in the step dtype (float64 under ``jax_enable_x64``).

  State: ``count``.
  """

  def update(updates, state, params=None):
    del params
    rate = hp.evaluate(learning_rate, state.count)
    out, _ = leafwise("scale_by_sqrt_step", lambda u, *, rate, eps, k:
                      ((rate + eps) * jnp.sqrt(k + 1)) * u, updates, rate=rate, eps=eps,
                      k=state.count)
    return out, ScaleBySqrtStepState(increment(state.count))

  return transform(lambda params: ScaleBySqrtStepState(zero_count()), update,
                   record=ScaleBySqrtStepState)


@primitive
def dual_average(momentum: hp.Scalar, *, name: str = "x0") -> Transform:
  """The step to MADGRAD's averaged iterate (Defazio & Jelassi, 2021, Algorithm 1).

  .. math::
     z = x_0 - u,\\qquad x_{k+1} = \\mu\\, x_k + (1-\\mu)\\, z,\\qquad
     \\text{emits } x_{k+1} - x_k

  with :math:`x_0` the parameters given to ``init`` and :math:`u` the
  dual-averaging displacement :math:`s_k/(\\nu_k^{1/3} + \\epsilon)`. The
  paper's :math:`c_{k+1} = 1 - \\mu`. Needs the parameters.

  State: :math:`x_0` under ``name``.
  """
  state_type = record("DualAverageState", (name,))

  def init(params):
    return state_type(jax.tree.map(
        lambda p: p if isinstance(p, jax.ShapeDtypeStruct) else jnp.array(p), params))

  def step(u, x0, x, *, m):
    z = x0 - u
    return ((1 - m) * z + m * x) - x, x0

  def update(updates, state, params=None):
    out, (x0,) = leafwise("dual_average", step, updates, state[0], params=params, m=momentum)
    return out, state_type(x0)

  return transform(init, update, record=state_type)
