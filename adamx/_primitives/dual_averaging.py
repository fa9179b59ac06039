"""MADGRAD's dual averaging (Defazio & Jelassi, 2021): the weights
:math:`\\lambda_k = (\\eta_k + \\epsilon)\\sqrt{k+1}` and the averaging step
towards the dual-averaging iterate :math:`x_0 - s/\\sigma`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import leafwise
from adamx._core.records import record
from adamx._core.steps import increment, zero_count
from adamx._core.transform import Transform, transform


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
