"""Per-step values from a schedule: a scaled update, an EMA with a varying decay
and a clip with a varying bound.

Both evaluate their schedule once per step, at the shared step ``count``
(0 on the first step, as Optax evaluates learning rates and AdEMAMix's
``alpha`` and ``b3``), and apply it to every leaf in float32 or wider. A
number is accepted wherever a schedule is (a constant schedule).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.checks import refuse_complex
from adamx._core.declare import primitive
from adamx._core.lift import leafwise, moments_like
from adamx._core.records import record
from adamx._core.steps import increment, zero_count
from adamx._core.transform import Transform, transform


ScaleByScheduleState = record("ScaleByScheduleState", ("count",))


@primitive
def scale_by_schedule(step_size_fn: hp.ScalarOrSchedule) -> Transform:
  """:math:`u_t \\mapsto s(t)\\, u_t`: multiplies by a schedule, as ``optax.scale_by_schedule``.

  :math:`s` is evaluated at ``count`` = 0, 1, 2, ... A coefficient of
  :func:`adamx.linear` that changes over time is a branch ending in this
  primitive: ``linear((1.0, fast), (1.0, chain(slow, scale_by_schedule(alpha))))``
  is :math:`\\text{fast} + \\alpha_t\\,\\text{slow}` (AdEMAMix's numerator).

  State: ``count``.

  Args:
    step_size_fn: :math:`s`, a schedule ``count -> factor`` or a number.
  """

  def update(updates, state, params=None):
    del params
    factor = hp.evaluate(step_size_fn, state.count)
    out, _ = leafwise("scale_by_schedule", lambda u, *, s: s * u, updates, s=factor)
    return out, ScaleByScheduleState(increment(state.count))

  return transform(lambda params: ScaleByScheduleState(zero_count()), update,
                   record=ScaleByScheduleState)


@primitive
def scale_by_scheduled_ema(
    decay_fn: hp.ScalarOrSchedule, *, dtype: Any = None, name: str = "mu"
) -> Transform:
  """Exponential moving average whose decay follows a schedule.

  .. math::
     m_t = \\beta_t\\, m_{t-1} + (1-\\beta_t)\\, u_t,\\qquad m_0 = 0,\\quad
     \\beta_t = \\text{decay\\_fn}(t-1)

  Emits :math:`m_t` (no bias correction: with a varying decay there is no
  single :math:`1-\\beta^t` to divide by). With a constant decay it is
  :func:`adamx.scale_by_ema`. AdEMAMix's slow EMA warms its decay up from
  :math:`\\beta_1` to :math:`\\beta_3` this way (Pagliardini et al., 2024, §3).

  State: ``count``; :math:`m` under ``name``.

  Args:
    decay_fn: :math:`\\beta`, a schedule ``count -> decay`` in ``[0, 1)`` or a number.
    dtype: dtype of :math:`m`; defaults to the parameters'.
    name: the state field, by the role of :math:`m` (``"m2"`` in AdEMAMix, as Optax).
  """
  state_type = record("ScaleByScheduledEmaState", ("count", name))

  def ema(u, m, *, b):
    new = (1 - b) * u + b * m
    return new, new

  def init(params):
    return state_type(zero_count(), moments_like(params, 0.0, dtype))

  def update(updates, state, params=None):
    del params
    decay = hp.evaluate(decay_fn, state.count)
    out, (new,) = leafwise("scale_by_scheduled_ema", ema, updates, state[-1], b=decay)
    return out, state_type(increment(state.count), new)

  return transform(init, update, record=state_type)


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
    refuse_complex("clip_by_schedule", u, "have no order and cannot be clipped elementwise")
    return jnp.clip(u, -c, c)

  def update(updates, state, params=None):
    del params
    bound = hp.evaluate(clip_value_fn, state.count)
    out, _ = leafwise("clip_by_schedule", clipped, updates, c=bound)
    return out, ClipByScheduleState(increment(state.count))

  return transform(lambda params: ClipByScheduleState(zero_count()), update,
                   record=ClipByScheduleState)
