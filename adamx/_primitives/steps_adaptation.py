"""Step sizes adapted from the iterates: Rprop's sign agreement and the average of the iterates.

* :func:`sign_agreement_step`: a per-coordinate step size grown while the
  gradient keeps its sign and shrunk when it flips (Rprop);
* :func:`scale_by_inverse_power_rate`: the rate :math:`\\eta/(1 + \\lambda\\eta t)^\\alpha`
  of averaged SGD;
* :func:`average_iterates`: the running average of the parameters after each
  step (Polyak & Juditsky; ASGD's ``ax``), kept in the state and not applied.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import dtype_of, leafwise, moments_like
from adamx._core.records import record
from adamx._core.steps import increment, step_dtype, zero_count
from adamx._core.transform import Transform, transform


def _fill(p: Any, value: Any) -> jax.Array:
  """``p``-shaped array of ``value`` (``value + i value`` for a complex ``p``)."""
  like = p if hasattr(p, "dtype") else jnp.asarray(p)
  dtype = dtype_of(like)
  if not jnp.issubdtype(dtype, jnp.complexfloating):
    return jnp.full_like(like, value)
  part = jnp.full_like(like, value, hp.real_dtype(dtype))
  return jax.lax.complex(part, part)


@primitive
def sign_agreement_step(
    initial_step: hp.Scalar,
    eta_minus: hp.Scalar = 0.5,
    eta_plus: hp.Scalar = 1.2,
    min_step_size: hp.Scalar = 1e-6,
    max_step_size: hp.Scalar = 50.0,
    *,
    clip_every_step: bool = False,
    one_step_late: bool = False,
    names: tuple[str, str] = ("step_sizes", "prev_updates"),
) -> Transform:
  """Rprop's per-coordinate step size, adapted by the sign agreement of
  successive gradients (Riedmiller & Braun, 1993; iRprop⁻, Igel & Hüsken, 2000).

  .. math::
     s_t &= u_t\\, d_{t-1} \\qquad (\\text{the sign of } g_t g_{t-1}) \\\\
     \\Delta_t &= \\begin{cases}
        \\mathrm{clip}(\\eta^+ \\Delta_{t-1}, \\Delta_{min}, \\Delta_{max}) & s_t > 0 \\\\
        \\mathrm{clip}(\\eta^- \\Delta_{t-1}, \\Delta_{min}, \\Delta_{max}) & s_t < 0 \\\\
        \\Delta_{t-1} & s_t = 0 \\end{cases} \\\\
     d_t &= \\begin{cases} 0 & s_t < 0 \\\\
        \\Delta_t \\operatorname{sign}(u_t) & \\text{else} \\end{cases}

  Emits :math:`d_t` (descend with ``scale(-1)``): after a sign flip no step
  is taken and the flip is forgotten (:math:`d_t = 0`, so the next
  :math:`s` is 0), iRprop⁻'s rule without the original's weight backtracking.
  :math:`\\Delta_0` = ``initial_step``.

  Complex updates are two real coordinates each (real and imaginary part),
  with two step sizes held as the real and imaginary parts of one complex
  array (both starting at :math:`\\Delta_0`), as torch.optim.Rprop.

  State: :math:`\\Delta` and :math:`d` under ``names`` (Optax's
  ``step_sizes`` and ``prev_updates``), in the parameters' dtype.

  Args:
    initial_step: :math:`\\Delta_0` (a schedule gives its value at count 0).
    eta_minus, eta_plus: the factors on a sign flip and on agreement.
    min_step_size, max_step_size: the bounds of :math:`\\Delta`.
    clip_every_step: also clip :math:`\\Delta_{t-1}` where :math:`s_t = 0`
      (torch). It differs only while :math:`\\Delta` lies outside the bounds:
      an ``initial_step`` outside them is clipped on the first step.
    one_step_late: emit :math:`d_{t-1}` (0 where :math:`s_t < 0`) instead of
      :math:`d_t`, as ``optax.scale_by_rprop`` up to at least 0.2.8 (its first
      update is 0 and each later one is the previous step's; Optax PR #1725).
    names: the state fields of :math:`\\Delta` and :math:`d`.
  """
  step_name, previous_name = names
  state_type = record("SignAgreementStepState", (step_name, previous_name))

  def adapt(u, step, previous, *, minus, plus, low, high):
    agreement = u * previous
    factor = jnp.where(agreement > 0, plus, jnp.where(agreement < 0, minus, 1))
    adapted = jnp.clip(step * factor, low, high)
    step = adapted if clip_every_step else jnp.where(agreement == 0, step, adapted)
    flipped = agreement < 0
    new_previous = jnp.where(flipped, 0, step * jnp.sign(u))
    out = jnp.where(flipped, 0, previous) if one_step_late else new_previous
    return out, step, new_previous

  def per_array(u, step, previous, **scalars):
    if not jnp.iscomplexobj(u):
      return adapt(u, step, previous, **scalars)
    parts = zip(adapt(u.real, step.real, previous.real, **scalars),
                adapt(u.imag, step.imag, previous.imag, **scalars))
    return tuple(jax.lax.complex(re, im) for re, im in parts)

  def init(params):
    first = hp.evaluate(initial_step, zero_count())
    return state_type(jax.tree.map(lambda p: _fill(p, first), params),
                      moments_like(params))

  def update(updates, state, params=None):
    del params
    out, (steps, previous) = leafwise(
        "sign_agreement_step", per_array, updates, *state, minus=eta_minus, plus=eta_plus,
        low=min_step_size, high=max_step_size)
    return out, state_type(steps, previous)

  return transform(init, update, record=state_type)


@primitive
def scale_by_inverse_power_rate(
    learning_rate: hp.ScalarOrSchedule, lambd: hp.Scalar = 1e-4, alpha: hp.Scalar = 0.75, *,
    flip_sign: bool = True,
) -> Transform:
  """Multiplies by :math:`-\\eta_t` (or :math:`\\eta_t`), a rate decaying as an inverse power
  of the step (Xu, 2011; Bottou, 2012, §5.3: :math:`\\alpha = 3/4` for averaged SGD).

  .. math::  \\eta_t = \\frac{\\eta}{(1 + \\lambda\\, \\eta\\, (t - 1))^{\\alpha}},
     \\qquad t = 1, 2, \\dots

  computed for each leaf in its arithmetic dtype (so a Python float and a
  float32 array give the same float32 rate). ``alpha`` may be a schedule
  (count 0 on the first step). With a schedule, :math:`\\eta`
  is its value at the step before (at count :math:`t-2`; count 0 on the first
  step), as torch.optim.ASGD, which computes the next rate at the end of a step.

  State: ``count``; ``learning_rate``, the rate :math:`\\eta_t` applied at the
  latest step (read it with :func:`adamx.learning_rate`).
  """
  state_type = record("ScaleByInversePowerRateState", ("count", "learning_rate"))
  sign = -1 if flip_sign else 1

  def rate(t, *, lr, lam, a):
    return lr / (1 + lam * lr * t) ** a

  def scaled(u, *, t, lr, lam, a):
    return sign * rate(t, lr=lr, lam=lam, a=a) * u

  def update(updates, state, params=None):
    del params
    count = state.count
    scalars = dict(lr=hp.evaluate(learning_rate, jnp.maximum(count - 1, 0)),
                   lam=lambd, a=hp.evaluate(alpha, count))
    out, _ = leafwise("scale_by_inverse_power_rate", scaled, updates, t=count, **scalars)
    applied = rate(count.astype(step_dtype()),
                   **{k: hp.cast(v, step_dtype()) for k, v in scalars.items()})
    return out, state_type(increment(count), applied)

  def init(params):
    del params
    first = hp.cast(hp.evaluate(learning_rate, zero_count()), step_dtype())
    return state_type(zero_count(), first)

  return transform(init, update, record=state_type)


@primitive
def average_iterates(t0: hp.Scalar = 0.0, *, name: str = "ax") -> Transform:
  """The running average of the parameters after each step, kept and not applied
  (Polyak & Juditsky, 1992; averaging from step :math:`t_0`, Bottou, 2012).

  .. math::
     \\bar w_t = \\bar w_{t-1} + \\mu_t\\,(w_t - \\bar w_{t-1}),\\qquad
     w_t = w_{t-1} + u_t,\\qquad \\mu_t = 1 / \\max(1,\\ t - 1 - t_0)

  with :math:`t = 1, 2, \\dots`: :math:`\\bar w_t = w_t` until step
  :math:`t_0 + 2`, then the mean of the iterates since. Emits :math:`u_t`
  unchanged, so it goes last in a recipe (after the rate), where its input is
  the step :func:`optax.apply_updates` will add. The average is what the
  theory's guarantees are about; read it from the state (as torch.optim.ASGD's
  ``state["ax"]``). Needs the parameters.

  State: ``count``; :math:`\\bar w` under ``name`` (``ax``, as torch), in the
  parameters' dtype.
  """
  state_type = record("AverageIteratesState", ("count", name))

  def average(u, mean, p, *, mu):
    new = p + u
    return u, jnp.where(mu == 1, new, mean + mu * (new - mean))

  def update(updates, state, params=None):
    count, mean = state
    mu = 1 / jnp.maximum(1, count.astype(step_dtype()) - hp.cast(t0, step_dtype()))
    out, (mean,) = leafwise("average_iterates", average, updates, mean, params=params, mu=mu)
    return out, state_type(increment(count), mean)

  return transform(lambda params: state_type(zero_count(), moments_like(params)), update,
                   record=state_type)
