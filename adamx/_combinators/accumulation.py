"""Gradient accumulation into the method's own statistics, without a gradient buffer.

``optax.MultiSteps(opt, k)`` keeps the running mean of the micro-batch
gradients in a buffer as large as the parameters, then hands the mean to
``opt``. When every statistic of ``opt`` is linear in the gradient, the
statistic itself can take each micro-gradient's share as it comes, and the
buffer is not needed.
"""

from __future__ import annotations

import numbers
from typing import Any

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.records import record
from adamx._core.transform import Transform, transform

AccumulationState = record("AccumulationState", ("micro_step", "inner"))

_READS_GRADIENT = "its update reads the current gradient directly"
_NOT_LINEAR = "its statistic is not linear in the gradient"
# Why each known method cannot accumulate in its own state.
_REASONS = {
    "rmsprop": _READS_GRADIENT + " (the numerator of g / rms)",
    "adagrad": _READS_GRADIENT + " (the numerator of g / sqrt(sum of squares))",
    "sign_sgd": _READS_GRADIENT,
    "lion": _READS_GRADIENT + " (it interpolates its average with the current gradient)",
    "nadam": _READS_GRADIENT + " (Nesterov's look-ahead)",
    "nadamw": _READS_GRADIENT + " (Nesterov's look-ahead)",
    "amsgrad": _NOT_LINEAR + " (a running maximum of the second moment)",
    "adamax": _NOT_LINEAR + " (a running maximum, the infinity norm)",
    "adamaxw": _NOT_LINEAR + " (a running maximum, the infinity norm)",
}
_ACCEPTED = ("adam", "adamw", "sgd", "signum")


def _refusal(method: Any) -> str | None:
  """Why ``method`` cannot accumulate in its own state, or None if it can."""
  if not isinstance(method, Transform):
    return "it is not an adamx method, so its statistics are unknown"
  if method.name in _REASONS:
    return _REASONS[method.name]
  if method.name not in _ACCEPTED:
    return ("its statistics are not known to accumulate (accepted: adam and adamw without"
            " nesterov, sgd with momentum and without nesterov, signum)")
  if method.hyperparams.get("nesterov", False):
    return _READS_GRADIENT + " (Nesterov's look-ahead)"
  if method.name == "sgd" and method.hyperparams.get("momentum") is None:
    return _READS_GRADIENT + " (plain SGD keeps no statistic)"
  return None


def _check_every_k(every_k: Any) -> None:
  if isinstance(every_k, bool) or not isinstance(every_k, numbers.Integral):
    problem = f"is a {type(every_k).__name__}, not an int"
  elif every_k < 1:
    problem = "is less than 1"
  else:
    return
  raise hp.InvalidHyperparameter(
      f"accumulate_in_state: every_k={every_k!r} {problem}; valid: an int >= 1 (the"
      " micro-steps per step).")


def _zero_unless(final: jax.Array, u: Any) -> jax.Array:
  """``u`` where ``final``, else zeros of its dtype (a select: traced, vmap-safe)."""
  u = jnp.asarray(u)
  return jax.lax.select(jnp.broadcast_to(final, u.shape), u, jnp.zeros_like(u))


def accumulate_in_state(method: Transform, every_k: int) -> Transform:
  """``optax.MultiSteps(method, every_k)`` without the gradient buffer.

  Each call to ``update`` is one micro-step; a step is ``k`` = ``every_k``
  micro-steps with gradients :math:`g_{t,1}, \\dots, g_{t,k}`. The updates
  are zero on the first :math:`k-1` micro-steps of each step and the
  method's update on the :math:`k`-th, so the parameters move once per
  :math:`k` micro-steps, as with ``optax.MultiSteps``. Instead of keeping
  :math:`\\bar g_t = \\operatorname{mean}_i g_{t,i}` in a buffer of its own,
  each linear statistic of the method takes its share of every
  micro-gradient as it comes. For an average :math:`m` of decay
  :math:`\\beta` and a trace :math:`v` of momentum :math:`\\mu`:

  .. math::
     i = 1:&\\quad m \\leftarrow \\beta m + \\tfrac{1-\\beta}{k} u_{t,1},
            \\qquad v \\leftarrow \\mu v + u_{t,1}/k \\\\
     i > 1:&\\quad m \\leftarrow m + \\tfrac{1-\\beta}{k} u_{t,i},
            \\qquad\\;\\; v \\leftarrow v + u_{t,i}/k

  so that after the :math:`k`-th micro-step
  :math:`m_t = \\beta m_{t-1} + (1-\\beta) \\operatorname{mean}_i u_{t,i}` and
  :math:`v_t = \\mu v_{t-1} + \\operatorname{mean}_i u_{t,i}`: what the
  method computes from :math:`\\bar g_t`. The method's shared step ``count``
  is put back after every micro-step but the last, so bias corrections and
  learning-rate schedules see the step index :math:`t` throughout.

  Reproduces exactly ``optax.MultiSteps(method, every_k_schedule=k)``
  (to rounding, 1e-10 in float64, where MultiSteps is given
  ``accumulator_dtype=jnp.float64``: its buffer is float32 by default) for
  ``sgd`` with ``momentum`` (with or without torch's ``dampening``; equal to
  ``MultiSteps(optax.sgd(lr, momentum))`` too) and ``signum``; and the first
  moment of ``adam`` and ``adamw``.

  The stated difference: Adam's second moment is an average of
  :math:`u = g^2`, squared per micro-step, so it accumulates the mean of
  the squares, not the square of the mean:

  .. math::
     v_t = \\beta_2 v_{t-1} + (1-\\beta_2) \\operatorname{mean}_i g_{t,i}^2
         = v_t^{\\text{MultiSteps}} + (1-\\beta_2) \\operatorname{Var}_i g_{t,i}

  per coordinate, with the population variance of the :math:`k`
  micro-gradients (:math:`\\ge 0`, 0 when they are equal): the denominator
  sees the micro-batch noise, as in optimi's optimizer accumulation. No
  exact Adam is possible without a third buffer: at the last micro-step
  :math:`m_{t-1}`, :math:`v_{t-1}` and :math:`\\bar g_t` are three unknowns
  per coordinate held in two.

  Accepted methods: ``adamx.adam`` and ``adamx.adamw`` (without
  ``nesterov``), ``adamx.sgd`` with ``momentum`` and without ``nesterov``,
  ``adamx.signum``: each of their statistics is an average or a trace of
  the gradient (or of its square) and their update reads the gradient only
  through them. Refused, with ``ValueError``: methods whose update reads
  the current gradient directly (RMSProp and AdaGrad, whose numerator is
  :math:`g`; signSGD, plain SGD; Lion, which interpolates with :math:`g`;
  Nesterov look-aheads), statistics that are not linear (AMSGrad's
  maximum), any other method and Optax transformations: use
  ``optax.MultiSteps`` for those.

  Memory: the state is one parameter-sized buffer smaller than
  ``optax.MultiSteps``' (whose buffer is float32 by default, whatever the
  parameters' dtype): for ``adam`` on float32 parameters, 8 bytes per
  parameter instead of 12 (GPT-2 small, 124M parameters: 996 MB instead of
  1493 MB, 498 MB saved). With a low-precision moment dtype (``mu_dtype``)
  the moment is rounded to it after every micro-step, not once per step.

  Place it outermost, as ``optax.MultiSteps``: a transformation chained
  after it runs on every micro-step (one before it, such as
  ``optax.clip_by_global_norm``, sees each micro-gradient). ``every_k=1`` is
  the method itself, bit for bit.

  State ``AccumulationState``: ``micro_step`` (int32, ``0..k-1``), ``inner``
  (the method's own state: ``state.inner.mu``, and
  ``optax.tree_utils.tree_get(state, "mu")`` finds Optax's names).

  Args:
    method: an accepted adamx method, e.g. ``adamx.adamw(1e-3)``.
    every_k: :math:`k`, the micro-steps per step, an int >= 1.

  Raises:
    ValueError: ``method`` cannot accumulate in its own state (the message
      says why).
    adamx.InvalidHyperparameter: ``every_k`` is not an int >= 1.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.accumulate_in_state(adamx.adam(learning_rate=0.1), every_k=4)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(4 * 150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  _check_every_k(every_k)
  reason = _refusal(method)
  if reason is not None:
    label = getattr(method, "name", None) or type(method).__name__
    raise ValueError(
        f"accumulate_in_state: {label} cannot accumulate in its own state: {reason}."
        f" Use optax.MultiSteps(method, every_k_schedule={every_k}) instead: it keeps the"
        " mean gradient in a buffer of its own.")
  k = int(every_k)

  def init(params):
    return AccumulationState(jnp.zeros([], jnp.int32), method.init(params))

  def update(updates, state, params=None, **extra_args):
    out, inner = method.update(updates, state.inner, params, micro_step=state.micro_step,
                               micro_steps=k, **extra_args)
    final = state.micro_step == k - 1
    inner = inner._replace(count=jax.lax.select(final, inner.count, state.inner.count))
    out = jax.tree.map(lambda u: _zero_unless(final, u), out)
    return out, AccumulationState(jnp.where(final, 0, state.micro_step + 1), inner)

  def update_every_step(updates, state, params=None, **extra_args):
    # k = 1 is the method itself: its plain update, bit for bit in any program.
    out, inner = method.update(updates, state.inner, params, **extra_args)
    return out, AccumulationState(state.micro_step, inner)

  return transform(init, update if k > 1 else update_every_step, record=None,
                   name="accumulate_in_state", parts=(("method", method),), extra_args=True,
                   every_k=k)
