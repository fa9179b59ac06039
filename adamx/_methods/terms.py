"""Terms of the linear combinations in :mod:`adamx._methods.adan`, :mod:`adamx._methods.ademamix` and
:mod:`adamx._methods.optimistic`: a coefficient or an EMA decay that Optax lets
be a schedule, and the change of the updates :math:`u_t - u_{t-1}`."""

from __future__ import annotations

from typing import Any

import jax

from adamx._combinators.chain import chain
from adamx._combinators.fanout import linear
from adamx._core import hyperparams as hp
from adamx._core.transform import Transform
from adamx._primitives.schedules import scale_by_schedule, scale_by_scheduled_ema
from adamx._primitives.moments import lag, scale_by_ema
from adamx._primitives.scale import identity


def is_schedule(value: Any) -> bool:
  return callable(value) and not isinstance(value, jax.Array)


def term(coefficient: hp.ScalarOrSchedule, branch: Any) -> tuple[Any, Any]:
  """A term of :func:`linear`: ``(c, branch)``, or for a schedule
  ``(1, chain(branch, scale_by_schedule(c)))``."""
  if is_schedule(coefficient):
    return 1.0, chain(branch, scale_by_schedule(coefficient))
  return coefficient, branch


def ema(decay: hp.ScalarOrSchedule, *, name: str, dtype: Any = None) -> Transform:
  """``scale_by_ema`` for a number, ``scale_by_scheduled_ema`` for a schedule."""
  if is_schedule(decay):
    return scale_by_scheduled_ema(decay, dtype=dtype, name=name)
  return scale_by_ema(decay, dtype=dtype, name=name)


def change(name: str) -> Transform:
  """:math:`u_t - u_{t-1}`, 0 on the first step; :math:`u_{t-1}` kept under ``name``."""
  return linear((1.0, identity()), (-1.0, lag(first_step_current=True, name=name)))
