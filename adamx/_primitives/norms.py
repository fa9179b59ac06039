"""Per-layer norms: a statistic of a whole leaf (one number per layer instead of
one per coordinate), and a correction that keeps a layer's norm through a step."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import dtype_of, leafwise
from adamx._core.records import record
from adamx._core.steps import increment, zero_count
from adamx._core.transform import Transform, transform
from adamx._primitives.elementwise import abs_sq


@primitive
def layer_second_moment(decay: hp.Scalar, *, dtype: Any = None, name: str = "nu") -> Transform:
  """EMA of each leaf's squared norm, started at its first value (Ginsburg et al., 2019).

  .. math::
     v_1 = \\|u_1\\|^2,\\qquad
     v_t = \\beta\\, v_{t-1} + (1-\\beta)\\, \\|u_t\\|^2 \\quad (t > 1)

  with :math:`\\|u\\|^2 = \\sum_i |u_i|^2` over the whole leaf (a layer's
  array). Emits :math:`v_t` broadcast to the leaf's shape, in float32 or
  wider (it is a denominator): ``ratio(identity(), chain(layer_second_moment(b2),
  root(), add_eps(eps)))`` is NovoGrad's layer-normalised gradient. Starting
  at :math:`\\|u_1\\|^2` rather than 0 is NovoGrad's (and Optax's) rule; it
  needs no bias correction.

  State: ``count`` (for the first-step rule); :math:`v`, one 0-d array per
  leaf, under ``name`` (``nu``, as Optax's ``ScaleByNovogradState``), in
  ``dtype`` or the parameters' dtype.

  Args:
    decay: :math:`\\beta`, in ``[0, 1)``.
    dtype: dtype of :math:`v`; defaults to the parameters'.
    name: the state field of :math:`v`.
  """
  state_type = record("LayerSecondMomentState", ("count", name))
  owner = "layer_second_moment"

  def squared_norm(u):
    return jnp.sum(abs_sq(u))

  def moment(s, v, *, b, t):
    new = jnp.where(t == 0, s, b * v + (1 - b) * s)
    return new, new

  def init(params):
    return state_type(zero_count(),
                      jax.tree.map(lambda p: jnp.zeros([], dtype or dtype_of(p)), params))

  def update(updates, state, params=None):
    del params
    squares, _ = leafwise(owner, squared_norm, updates, wide=True)
    out, (nu,) = leafwise(owner, moment, squares, state[-1], wide=True, b=decay, t=state.count)
    out = jax.tree.map(lambda u, v: jnp.broadcast_to(v, jnp.shape(u)), updates, out)
    return out, state_type(increment(state.count), nu)

  return transform(init, update, record=state_type)


RetractState = record("RetractState", ("count",))


@primitive
def retract(learning_rate: hp.ScalarOrSchedule) -> Transform:
  """Divides the stepped parameters by :math:`\\sqrt{1 + \\eta_t^2}` (Bernstein et al., 2020).

  .. math::
     u \\mapsto \\frac{w + u}{\\sqrt{1+\\eta_t^2}} - w
     = \\frac{1}{s}\\left(u - \\frac{\\eta_t^2}{1+s}\\, w\\right),
     \\qquad s = \\sqrt{1+\\eta_t^2}

  so that the parameters become :math:`(w + u)/s`. A step :math:`u`
  orthogonal to :math:`w` with :math:`\\|u\\| = \\eta\\|w\\|` (what
  ``chain(scale_by_trust_ratio(), scale_by_learning_rate(eta))`` gives)
  grows the norm by :math:`s`; dividing by it keeps :math:`\\|w\\|`:
  Fromage's update. The second form has no cancellation at small
  :math:`\\eta`. ``learning_rate`` is a number, an array or a schedule, read
  at the same counts as ``scale_by_learning_rate``'s, and :math:`s` is
  computed in each leaf's arithmetic dtype. Needs the parameters.

  State: ``count`` (for a schedule).
  """

  def shrink(u, w, *, eta):
    s = jnp.sqrt(1 + eta**2)
    return (u - eta**2 / (1 + s) * w) / s

  def update(updates, state, params=None):
    eta = hp.evaluate(learning_rate, state.count)
    out, _ = leafwise("retract", shrink, updates, params=params, eta=eta)
    return out, RetractState(increment(state.count))

  return transform(lambda params: RetractState(zero_count()), update, record=RetractState)
