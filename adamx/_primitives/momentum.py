"""Heavy-ball momentum: a trace of past updates."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.checks import check_updates
from adamx._core.kernels import full_like, increment, leaf_dtype, nondefault, unzip, zero_count
from adamx._core.transform import Transform, transform


class MomentumState(NamedTuple):
  count: jax.Array  # steps taken (for torch's first-step dampening rule)
  trace: Any  # the velocity v


def momentum(
    decay: hp.Scalar,
    *,
    nesterov: bool = False,
    dampening: hp.Scalar = 0.0,
    dtype: Any = None,
) -> Transform:
  """Heavy-ball trace (Polyak, 1964), optionally with Nesterov's look-ahead.

  .. math::
     v_t = \\mu v_{t-1} + c_t u_t,\\qquad
     c_1 = 1,\\; c_{t>1} = 1 - \\text{dampening}

  Emits :math:`v_t`, or with ``nesterov=True`` :math:`u_t + \\mu v_t`
  (Sutskever et al., 2013). Unlike an EMA the trace is not normalised: on a
  constant input it grows to :math:`u/(1-\\mu)`. With ``dampening=0`` this is
  ``optax.trace``; with dampening it is torch.optim.SGD's buffer, whose first
  step copies the update undamped.

  Args:
    decay: :math:`\\mu`, in ``[0, 1)``.
    nesterov: emit the look-ahead :math:`u_t + \\mu v_t`.
    dampening: torch's dampening, in ``[0, 1]``.
    dtype: dtype of :math:`v`; defaults to the parameters'.
  """
  hp.validate("momentum", decay=decay, dampening=dampening)

  def init(params):
    return MomentumState(count=zero_count(), trace=full_like(params, 0.0, dtype))

  def update(updates, state, params=None):
    del params
    check_updates("momentum", updates, state.trace)

    def leaf(u, v):
      d = leaf_dtype(u, v)
      mu = hp.cast(decay, d)
      weight = jnp.where(state.count == 0, 1, 1 - hp.cast(dampening, d))
      new = mu * v.astype(d) + weight * u.astype(d)
      out = u.astype(d) + mu * new if nesterov else new
      return out.astype(jnp.result_type(u)), new.astype(v.dtype)

    out, trace = unzip(jax.tree.map(leaf, updates, state.trace), updates)
    return out, MomentumState(count=increment(state.count), trace=trace)

  return transform(
      "momentum", init, update, decay=decay,
      **nondefault(nesterov=(nesterov, False), dampening=(dampening, 0.0)),
  )
