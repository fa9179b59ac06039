"""Sublinear-memory and sign-step methods: Adafactor, SM3, Rprop."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import arrangement, method
from adamx._core.transform import Transform
from adamx._primitives.cover import cover_accumulate
from adamx._primitives.elementwise import add_eps, root, square
from adamx._primitives.factored import factored_ema
from adamx._primitives.layerwise import clip_block_rms, scale_by_param_block_rms
from adamx._primitives.moments import scale_by_ema
from adamx._primitives.scale import add_decayed_weights, identity, scale, scale_by_learning_rate
from adamx._primitives.steps_adaptation import sign_agreement_step


@arrangement
def factored_rms(
    decay_rate: hp.Scalar = 0.8,
    decay_offset: hp.Scalar = 0,
    eps: hp.Scalar = 0.0,
    *,
    decay_dtype: Any = None,
    factored: bool = True,
    min_dim_size_to_factor: int = 128,
    axes: str = "largest",
    floor: hp.Scalar | None = None,
    names: tuple[str, str, str] = ("v_row", "v_col", "v"),
) -> Transform:
  """Adafactor's direction :math:`g / \\sqrt{\\hat V_t}`, :math:`\\hat V_t` the
  factored EMA of :math:`|g|^2 + \\epsilon_1`.

  ``ratio(identity(), chain(square(), add_eps(eps), factored_ema(...), root()))``.
  Optax adds :math:`\\epsilon_1` to :math:`g^2` (as the paper) and bounds
  nothing (``floor=0``); torch adds nothing and bounds the row normaliser
  and :math:`\\hat V` (``eps=0, floor=None``). State: ``count``, ``v_row``,
  ``v_col``, ``v`` (or ``names``).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.chain(
    ...   adamx.factored_rms(decay_rate=0.8, min_dim_size_to_factor=2),
    ...   adamx.scale_by_learning_rate(0.1))
    >>> params = jnp.zeros((4, 3), jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(50):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  moment = factored_ema(decay_rate, decay_offset, decay_dtype=decay_dtype, factored=factored,
                        min_dim_size_to_factor=min_dim_size_to_factor, axes=axes, floor=floor,
                        names=names)
  head = [square()] if hp.is_zero(eps) else [square(), add_eps(eps)]
  return ratio(identity(), chain(*head, moment, root()))


@method(specs={
    "min_dim_size_to_factor": hp.NONNEGATIVE, "decay_rate": hp.NONNEGATIVE,
    "decay_offset": hp.REAL, "weight_decay_rate": hp.RATE})
def adafactor(
    learning_rate: hp.ScalarOrSchedule | None = None,
    min_dim_size_to_factor: int = 128,
    decay_rate: hp.Scalar = 0.8,
    decay_offset: hp.Scalar = 0,
    multiply_by_parameter_scale: bool = True,
    clipping_threshold: hp.Scalar | None = 1.0,
    momentum: hp.Scalar | None = None,
    dtype_momentum: Any = jnp.float32,
    weight_decay_rate: hp.ScalarOrSchedule | None = None,
    eps: hp.Scalar = 1e-30,
    factored: bool = True,
    weight_decay_mask: Any = None,
    *,
    decay_dtype: Any = "float32",
) -> Transform:
  """Adafactor (Shazeer & Stern, 2018, Algorithms 4 and 5, with §5's update clipping).

  .. math::
     \\beta_t &= 1 - (t - \\text{offset})^{-c}, \\qquad
     r_t = \\beta_t r_{t-1} + (1-\\beta_t)\\,\\mathrm{mean}_j (g_t^2 + \\epsilon_1), \\quad
     c_t = \\beta_t c_{t-1} + (1-\\beta_t)\\,\\mathrm{mean}_i (g_t^2 + \\epsilon_1) \\\\
     \\hat V_t &= r_t c_t^\\top / \\mathrm{mean}(r_t), \\qquad
     U_t = g_t / \\sqrt{\\hat V_t}, \\qquad \\hat U_t = U_t / \\max(1, \\mathrm{RMS}(U_t)/d) \\\\
     w_t &= w_{t-1} - \\big(\\eta_t \\max(\\mathrm{RMS}(w_{t-1}), 10^{-3})\\, \\hat U_t
       + \\lambda_t w_{t-1}\\big)

  for a matrix whose two largest dimensions are at least
  ``min_dim_size_to_factor``; any other array keeps the full EMA
  :math:`v_t` of :math:`g^2 + \\epsilon_1` (Alg. 5). Memory is
  :math:`O(n + m)` per matrix instead of :math:`O(nm)`.

  Recipe: ``chain(factored_rms(c, offset, eps), clip_block_rms(d),
  scale_by_learning_rate(lr, flip_sign=False), scale_by_param_block_rms(),
  [scale_by_ema(momentum, name="ema")], [add_decayed_weights(wd, mask)], scale(-1))``;
  each bracketed part, the clipping, the rate and the parameter scale are
  left out when disabled, as in Optax.

  State ``AdafactorState``: ``count``, ``v_row``, ``v_col``, ``v`` (Optax's
  layout: placeholders of shape ``(1,)`` where unused), ``learning_rate``
  (with a rate), ``ema`` (with momentum, in ``dtype_momentum``).

  Reproduces exactly: ``optax.adafactor`` with the same arguments. Optax
  computes :math:`\\beta_t` in float32 whatever the precision (it casts
  :math:`t` to float32), which moves a float64 trajectory by about 1e-8
  relative to the paper's; ``decay_dtype=None`` computes it in each leaf's
  arithmetic dtype instead (float64 for float64 parameters), and with
  ``learning_rate=lambda count: min(1e-2, 1/sqrt(count + 1))`` (§8's relative
  step) this is the paper's Algorithms 4/5 with :math:`\\epsilon_2 = 10^{-3}`.
  The paper sums rows and columns where Optax averages: the same
  :math:`\\hat V`. ``momentum`` is an EMA of the final step (not in the
  paper's algorithms). For torch.optim.Adafactor (relative step, no
  :math:`\\epsilon_1`, bounded denominators, last two axes factored) use
  ``adamx.compat.torch.Adafactor``.

  Args:
    learning_rate: :math:`\\eta_t` (a number or a schedule), or None for no rate.
    min_dim_size_to_factor: factor only where the two largest dimensions
      are both at least this large (a Python int).
    decay_rate: :math:`c`, the exponent of the decay schedule.
    decay_offset: subtracted from the step number (fine-tuning from a step).
    multiply_by_parameter_scale: scale by :math:`\\max(\\mathrm{RMS}(w), 10^{-3})`.
    clipping_threshold: :math:`d` of the update clipping, or None.
    momentum: decay of an EMA of the steps, or None.
    dtype_momentum: dtype of that EMA.
    weight_decay_rate: :math:`\\lambda_t`, added to the step unscaled, or None.
    eps: :math:`\\epsilon_1`, added to :math:`g^2`.
    factored: factor matrices at all.
    weight_decay_mask: the leaves to decay (a tree, a prefix or a function).
    decay_dtype: the dtype :math:`\\beta_t` is computed in (Optax's float32
      by default; None for each leaf's arithmetic dtype).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.adafactor(learning_rate=0.1, min_dim_size_to_factor=2)  # factors a 4x3 matrix
    >>> params = jnp.full((4, 3), 0.5, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(30):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  parts = [factored_rms(decay_rate, decay_offset, eps, decay_dtype=decay_dtype,
                        factored=factored, min_dim_size_to_factor=min_dim_size_to_factor,
                        floor=0.0)]
  parts += [] if clipping_threshold is None else [clip_block_rms(clipping_threshold)]
  parts += [] if learning_rate is None else [
      scale_by_learning_rate(learning_rate, flip_sign=False)]
  parts += [scale_by_param_block_rms()] if multiply_by_parameter_scale else []
  parts += [] if momentum is None else [
      scale_by_ema(momentum, dtype=dtype_momentum, name="ema")]
  parts += [] if weight_decay_rate is None else [
      add_decayed_weights(weight_decay_rate, weight_decay_mask)]
  return chain(*parts, scale(-1.0))


@method
def sm3(
    learning_rate: hp.ScalarOrSchedule,
    momentum: hp.Scalar = 0.9,
    *,
    eps: hp.Scalar = 1e-8,
) -> Transform:
  """SM3 (Anil, Gupta, Koren & Singer, 2019, SM3-II), with an EMA of its steps.

  .. math::
     \\nu_t(i) &= g_t(i)^2 + \\min_a \\mu_{a,t-1}[i_a], \\qquad
     \\mu_{a,t}[n] = \\max_{i:\\, i_a = n} \\nu_t(i) \\\\
     m_t &= \\beta m_{t-1} + (1-\\beta)\\, g_t / \\sqrt{\\nu_t + \\epsilon}, \\qquad
     w_t = w_{t-1} - \\eta_t m_t

  with one maximum :math:`\\mu_a[n]` per slice of each axis (the cover), so
  the accumulator of a matrix takes :math:`n + m` numbers; a vector's cover
  is its entries (AdaGrad's sum). :math:`0/0 := 0`.

  Recipe: ``chain(ratio(identity(), chain(square(), cover_accumulate(name="mu"),
  root(eps))), scale_by_ema(momentum, name="nu"), scale_by_learning_rate(lr))``.
  State ``Sm3State``: ``count``, ``mu`` (per leaf, one vector per axis, as
  Optax), ``nu`` (the EMA of the steps), ``learning_rate``.

  Reproduces exactly: ``optax.sm3`` with the same arguments (whose ``eps``
  is fixed at 1e-8), on parameters of at least one dimension: Optax fails
  on a scalar (0-d) parameter, which adamx treats as its own cover, and
  refuses complex parameters, where adamx uses :math:`|g|^2`.
  ``momentum=0`` and ``eps=0`` is the paper's SM3-II; the paper
  uses momentum in its experiments, not in its algorithms. A schedule is
  accepted as the rate.

  Args:
    learning_rate: :math:`\\eta_t`, a number or a schedule.
    momentum: :math:`\\beta` of the EMA of the steps (0: none).
    eps: :math:`\\epsilon`, inside the root.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.sm3(learning_rate=0.5)
    >>> params = jnp.zeros((4, 3), jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  denominator = chain(square(), cover_accumulate(name="mu"), root(eps))
  return chain(ratio(identity(), denominator), scale_by_ema(momentum, name="nu"),
               scale_by_learning_rate(learning_rate))


@method(specs={"eta_minus": hp.Spec(0.0, 1.0), "eta_plus": hp.Spec(1.0),
               "min_step_size": hp.NONNEGATIVE, "max_step_size": hp.NONNEGATIVE})
def rprop(
    learning_rate: hp.Scalar,
    eta_minus: hp.Scalar = 0.5,
    eta_plus: hp.Scalar = 1.2,
    min_step_size: hp.Scalar = 1e-6,
    max_step_size: hp.Scalar = 50.0,
    *,
    one_step_late: bool = False,
) -> Transform:
  """Rprop, as iRprop⁻ (Riedmiller & Braun, 1993; Igel & Hüsken, 2000).

  .. math::
     \\Delta_t &= \\mathrm{clip}(\\eta^\\pm \\Delta_{t-1}, \\Delta_{min}, \\Delta_{max})
        \\text{ by the sign of } g_t g_{t-1} \\;(\\text{unchanged if } 0), \\qquad
        \\Delta_0 = \\text{learning\\_rate} \\\\
     w_t &= w_{t-1} - \\Delta_t \\operatorname{sign}(g_t)
        \\;\\text{ and } g_t := 0 \\text{ where the sign flipped}

  Only the signs of the gradients act, so every coordinate moves by its own
  step size whatever the gradient's scale.

  Recipe: ``chain(sign_agreement_step(lr, eta_minus, eta_plus, min, max), scale(-1))``.
  State ``RpropState``: ``step_sizes`` (:math:`\\Delta`), ``prev_updates``
  (:math:`\\Delta_t \\operatorname{sign}(g_t)`, 0 after a flip), as Optax.

  Reproduces exactly: ``optax.rprop`` with the same arguments *and*
  ``one_step_late=True``. ``optax.scale_by_rprop`` (0.2.8) returns the
  previous step's update instead of the current one, so its first update is
  0 and each later one lags by a step (Optax PR #1725); adamx takes the
  current step by default, as the paper and ``torch.optim.Rprop(lr, etas,
  step_sizes)`` do (torch also clips the initial step into the bounds; see
  ``adamx.compat.torch.Rprop``). Complex parameters are pairs of real
  coordinates, as torch's (Optax refuses them).

  Args:
    learning_rate: :math:`\\Delta_0`, the initial step size.
    eta_minus, eta_plus: factors on a sign flip and on a sign agreement.
    min_step_size, max_step_size: bounds of :math:`\\Delta`.
    one_step_late: reproduce Optax 0.2.8's lagged update.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.rprop(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(sign_agreement_step(learning_rate, eta_minus, eta_plus, min_step_size,
                                   max_step_size, one_step_late=one_step_late),
               scale(-1.0))
