"""Scalings that do not look at statistics: learning rate, constants, weight decay."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.checks import check_params
from adamx._core.kernels import increment, leaf_dtype, step_dtype, zero_count
from adamx._core.transform import EmptyState, Transform, transform


def identity() -> Transform:
  """Passes the updates through unchanged."""
  return transform(
      "identity", lambda params: EmptyState(),
      lambda updates, state, params=None: (updates, state),
  )


def scale(factor: hp.Scalar) -> Transform:
  """Multiplies by a constant: :math:`u \\mapsto c\\,u` (``-1`` to maximise)."""

  def update(updates, state, params=None):
    del params
    def leaf(u):
      d = leaf_dtype(u)
      return (hp.cast(factor, d) * u.astype(d)).astype(jnp.result_type(u))

    return jax.tree.map(leaf, updates), state

  return transform("scale", lambda params: EmptyState(), update, factor=factor)


class ScaleByLearningRateState(NamedTuple):
  count: jax.Array  # steps taken, saturating at the int32 maximum
  learning_rate: jax.Array  # the rate applied at the latest step


def scale_by_learning_rate(
    learning_rate: hp.ScalarOrSchedule, *, flip_sign: bool = True
) -> Transform:
  """Multiplies by :math:`-\\eta_t` (a descent step), or :math:`\\eta_t`.

  ``learning_rate`` is a number, an array, or a schedule ``count -> rate``
  evaluated at ``count = 0, 1, 2, ...`` as in Optax. The rate applied at the
  latest step can be read from the state (``state.learning_rate``).
  """
  hp.validate("scale_by_learning_rate", learning_rate=learning_rate)
  sign = -1 if flip_sign else 1

  def rate_at(count):
    return hp.cast(hp.evaluate(learning_rate, count), step_dtype())

  def init(params):
    del params
    return ScaleByLearningRateState(count=zero_count(), learning_rate=rate_at(zero_count()))

  def update(updates, state, params=None):
    del params
    rate = rate_at(state.count)

    def leaf(u):
      d = leaf_dtype(u)
      return (sign * rate.astype(d) * u.astype(d)).astype(jnp.result_type(u))

    out = jax.tree.map(leaf, updates)
    return out, ScaleByLearningRateState(count=increment(state.count), learning_rate=rate)

  return transform(
      "scale_by_learning_rate", init, update, learning_rate=learning_rate,
      **({} if flip_sign else {"flip_sign": False}),
  )


class AddDecayedWeightsState(NamedTuple):
  count: jax.Array


def add_decayed_weights(weight_decay: hp.ScalarOrSchedule = 0.0) -> Transform:
  """Adds :math:`\\lambda_t\\, w` to the updates (L2 / weight decay).

  Before the statistics it is coupled L2 regularisation (torch's
  ``weight_decay`` in SGD, Adam, ...); after them and before the learning
  rate it is decoupled weight decay (AdamW: :math:`w \\leftarrow w -
  \\eta(\\text{step} + \\lambda w)`). ``weight_decay`` may be a schedule.
  """
  hp.validate("add_decayed_weights", weight_decay=weight_decay)

  def update(updates, state, params=None):
    check_params("add_decayed_weights", params, updates)
    decay_now = hp.evaluate(weight_decay, state.count)

    def leaf(u, p):
      d = leaf_dtype(u, p)
      return (u.astype(d) + hp.cast(decay_now, d) * p.astype(d)).astype(jnp.result_type(u))

    out = jax.tree.map(leaf, updates, params)
    return out, AddDecayedWeightsState(count=increment(state.count))

  return transform(
      "add_decayed_weights", lambda params: AddDecayedWeightsState(count=zero_count()),
      update, weight_decay=weight_decay,
  )
