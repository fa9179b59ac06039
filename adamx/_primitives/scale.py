"""Scalings that do not look at statistics: learning rate, constants, weight decay."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import leafwise
from adamx._core.records import EmptyState, record
from adamx._core.steps import increment, step_dtype, zero_count
from adamx._core.transform import Transform, transform


ScaleByLearningRateState = record("ScaleByLearningRateState", ("count", "learning_rate"))
AddDecayedWeightsState = record("AddDecayedWeightsState", ("count",))


@primitive
def identity() -> Transform:
  """Passes the updates through unchanged."""
  return transform(lambda params: EmptyState(), lambda updates, state, params=None:
                   (updates, state), record=EmptyState)


@primitive
def scale(step_size: hp.Scalar) -> Transform:
  """Multiplies by a constant: :math:`u \\mapsto c\\,u` (``-1`` to maximise), as ``optax.scale``."""

  def update(updates, state, params=None):
    del params
    return leafwise("scale", lambda u, *, c: c * u, updates, c=step_size)[0], state

  return transform(lambda params: EmptyState(), update, record=EmptyState)


@primitive
def scale_by_learning_rate(
    learning_rate: hp.ScalarOrSchedule, *, flip_sign: bool = True
) -> Transform:
  """Multiplies by :math:`-\\eta_t` (a descent step), or :math:`\\eta_t`.

  ``learning_rate`` is a number, an array, or a schedule ``count -> rate``
  evaluated at ``count = 0, 1, 2, ...`` as in Optax.

  State: ``count``; ``learning_rate``, the rate applied at the latest step
  (read it with :func:`adamx.learning_rate`).
  """
  sign = -1 if flip_sign else 1

  def rate_at(count):
    return hp.cast(hp.evaluate(learning_rate, count), step_dtype())

  def init(params):
    del params
    return ScaleByLearningRateState(zero_count(), rate_at(zero_count()))

  def update(updates, state, params=None):
    del params
    rate = rate_at(state.count)
    out, _ = leafwise("scale_by_learning_rate", lambda u, *, c: c * u, updates, c=sign * rate)
    return out, ScaleByLearningRateState(increment(state.count), rate)

  return transform(init, update, record=ScaleByLearningRateState)


def _select(mask: Any, decayed: Any, updates: Any) -> Any:
  """``decayed`` where ``mask`` is true, ``updates`` elsewhere (mask may be a prefix tree)."""

  def pick(m, new, old):
    if isinstance(m, (bool, np.bool_)):
      return new if m else old
    return jax.tree.map(lambda a, b: jnp.where(m, a, b), new, old)

  return jax.tree.map(pick, mask, decayed, updates)


@primitive
def add_decayed_weights(weight_decay: hp.ScalarOrSchedule = 0.0, mask: Any = None) -> Transform:
  """Adds :math:`\\lambda_t\\, w` to the updates (L2 / weight decay), as ``optax.add_decayed_weights``.

  Before the statistics it is coupled L2 regularisation (torch's
  ``weight_decay`` in SGD, Adam, ...); after them and before the learning
  rate it is decoupled weight decay (AdamW: :math:`w \\leftarrow w -
  \\eta(\\text{step} + \\lambda w)`). ``weight_decay`` may be a schedule.
  ``mask`` (a tree of booleans shaped like the parameters, or a prefix of
  it, or a function of the parameters returning one) selects the leaves
  to decay; the others pass unchanged.

  State: ``count`` (for a schedule).
  """

  def update(updates, state, params=None):
    decay_now = hp.evaluate(weight_decay, state.count)
    decayed, _ = leafwise("add_decayed_weights", lambda u, p, *, wd: u + wd * p, updates,
                          params=params, wd=decay_now)
    if mask is not None:
      decayed = _select(mask(params) if callable(mask) else mask, decayed, updates)
    return decayed, AddDecayedWeightsState(increment(state.count))

  return transform(lambda params: AddDecayedWeightsState(zero_count()), update,
                   record=AddDecayedWeightsState)


@primitive
def add_decayed_weights_at_rate(learning_rate: hp.ScalarOrSchedule,
                                weight_decay: hp.Scalar = 0.0) -> Transform:
  """Adds :math:`\\eta_t \\lambda\\, w` to the updates: weight decay at the rate
  :math:`\\eta_t`, added after a step whose own rate is another
  (torch.optim.Adafactor's :math:`w (1 - \\text{lr}\\,\\lambda)` beside its
  relative step).

  .. math::  u \\mapsto u + (\\eta_t \\lambda)\\, w

  The product is formed for each leaf in its arithmetic dtype (a Python
  float and a float32 array give the same float32 decay). ``learning_rate``
  may be a schedule (count 0 on the first step). Needs the parameters.
  State: ``count``.
  """
  state_type = record("AddDecayedWeightsAtRateState", ("count",))

  def decayed(u, p, *, lr, wd):
    return u + (lr * wd) * p

  def update(updates, state, params=None):
    out, _ = leafwise("add_decayed_weights_at_rate", decayed, updates, params=params,
                      lr=hp.evaluate(learning_rate, state.count), wd=weight_decay)
    return out, state_type(increment(state.count))

  return transform(lambda params: state_type(zero_count()), update, record=state_type)
