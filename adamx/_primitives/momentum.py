"""Heavy-ball momentum: a trace of past updates."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import statistic
from adamx._core.transform import Transform


@primitive
def momentum(
    decay: hp.Scalar,
    *,
    nesterov: bool = False,
    dampening: hp.Scalar = 0.0,
    dtype: Any = None,
    name: str = "trace",
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

  Under :func:`~adamx._combinators.accumulation.accumulate_in_state` (not
  with ``nesterov``) the trace accumulates over the :math:`k` micro-steps
  :math:`u_{t,1..k}` of a step: :math:`v \\leftarrow \\mu v + c_t u_{t,1}/k`,
  then :math:`v \\leftarrow v + c_t u_{t,i}/k`, so that
  :math:`v_t = \\mu v_{t-1} + c_t \\operatorname{mean}_i u_{t,i}`.

  State: ``count`` (for the first-step rule); :math:`v` under ``name``
  (``trace``, as Optax's ``TraceState``).

  Args:
    decay: :math:`\\mu`, in ``[0, 1)``.
    nesterov: emit the look-ahead :math:`u_t + \\mu v_t`.
    dampening: torch's dampening, in ``[0, 1]``.
    dtype: dtype of :math:`v`; defaults to the parameters'.
    name: the state field of :math:`v`.
  """
  def heavy_ball(u, v, *, mu, dampening, t):
    new = mu * v + jnp.where(t == 0, 1, 1 - dampening) * u
    return (u + mu * new if nesterov else new), new

  def heavy_ball_micro(u, v, *, mu, dampening, t, first, k):
    new = jnp.where(first, mu, 1) * v + jnp.where(t == 0, 1, 1 - dampening) * (u / k)
    return new, new

  return statistic("momentum", heavy_ball, name, 0.0, dtype, counted=True,
                   micro=None if nesterov else heavy_ball_micro, mu=decay,
                   dampening=dampening)
