"""Methods with no Optax or torch.optim peer: MARS, Adam-mini, LaProp.

Each is checked against a float64 loop written from its paper
(``tests/reference_beyond.py``), not against a library.
"""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._methods.arrangements import first_moment, scale_by_adam
from adamx._methods.denominators import rms_denominator
from adamx._primitives.blocks import BlockAxes, block_mean_ema, gradient_correction
from adamx._primitives.corrections import bias_correct
from adamx._primitives.elementwise import add_eps, root, scale_by_sign, square
from adamx._primitives.layerwise import clip_by_norm
from adamx._primitives.moments import scale_by_ema
from adamx._primitives.scale import add_decayed_weights, identity, scale_by_learning_rate


_MARS_VARIANTS = ("adamw", "lion")


@method
def mars(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.95,
    b2: hp.Scalar = 0.99,
    eps: hp.Scalar = 1e-8,
    gamma: hp.Scalar = 0.025,
    weight_decay: hp.ScalarOrSchedule = 0.0,
    mask: Any = None,
    *,
    variant: str = "adamw",
    correct_first_step: bool = True,
) -> Transform:
  """MARS-AdamW and MARS-Lion in the approximate form (Yuan et al., 2024, "MARS:
  Unleashing the Power of Variance Reduction for Training Large Models", arXiv:2411.10438).

  A scaled stochastic recursive momentum: the gradient is corrected by the
  change since the last step, clipped, and fed to AdamW's or Lion's update.

  .. math::
     c_t &= g_t + \\gamma\\, \\tfrac{\\beta_1}{1-\\beta_1}\\, (g_t - g_{t-1}),\\qquad
     \\tilde c_t = \\operatorname{Clip}(c_t, 1) \\\\
     m_t &= \\beta_1 m_{t-1} + (1-\\beta_1)\\tilde c_t \\\\
     \\text{AdamW:}\\;& v_t = \\beta_2 v_{t-1} + (1-\\beta_2)\\tilde c_t^2,\\quad
        w_t = w_{t-1} - \\eta_t\\big(\\hat m_t / (\\sqrt{\\hat v_t} + \\epsilon) + \\lambda w_{t-1}\\big) \\\\
     \\text{Lion:}\\;& w_t = w_{t-1} - \\eta_t\\big(\\operatorname{sign}(m_t) + \\lambda w_{t-1}\\big)

  with :math:`\\hat m_t, \\hat v_t` Adam's bias corrections and
  :math:`\\operatorname{Clip}(c, 1) = c / \\|c\\|_2` where :math:`\\|c\\|_2 > 1`,
  the norm taken per parameter array as in the authors' code. "Approximate":
  :math:`g_{t-1}` is last step's gradient, not a second gradient at the old
  point on the new batch (which would need two gradients per step).
  ``correct_first_step=True`` takes :math:`g_0 = 0` (the authors' code:
  :math:`c_1 = (1 + \\gamma\\beta_1/(1-\\beta_1))\\, g_1`); ``False`` takes
  :math:`g_0 = g_1`, no correction on the first step (the exact algorithm's
  :math:`x_1 = x_0`). ``gamma=0`` is AdamW, or Lion with
  :math:`\\beta_2 = \\beta_1`, on per-array clipped gradients.

  Recipe::

     chain(gradient_correction(gamma, b1), clip_by_norm(1.0),
           scale_by_adam(b1, b2, eps)  |  chain(scale_by_ema(b1), scale_by_sign()),
           add_decayed_weights(weight_decay, mask), scale_by_learning_rate(lr))

  State ``MarsState``: ``count``, ``last_grad`` (:math:`g_{t-1}`), ``mu``,
  ``nu`` (AdamW variant), ``learning_rate``.

  Reproduces: the authors' ``MARS(mars_type="mars-adamw" | "mars-lion",
  is_approx=True, optimize_1d=True, amsgrad=False)`` (their defaults: lr
  3e-3, betas (0.95, 0.99), gamma 0.025); their default ``optimize_1d=False``
  instead updates every parameter that is not 2-D with plain AdamW
  (``optax.partition`` does that split). Not the MARS-Shampoo variant.

  Args:
    learning_rate: :math:`\\eta_t`, a number or a schedule.
    b1: :math:`\\beta_1`, the momentum, in ``[0, 1)``.
    b2: :math:`\\beta_2`, the second moment's decay (AdamW variant).
    eps: added to :math:`\\sqrt{\\hat v_t}` (AdamW variant).
    gamma: :math:`\\gamma \\ge 0`, the strength of the gradient correction.
    weight_decay: decoupled :math:`\\lambda_t`, a number or a schedule.
    mask: the leaves to decay, as in ``adamw``.
    variant: ``"adamw"`` or ``"lion"``.
    correct_first_step: :math:`g_0 = 0` (True) or :math:`g_0 = g_1` (False).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.mars(learning_rate=0.05)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(200):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  if variant not in _MARS_VARIANTS:
    raise hp.InvalidHyperparameter(f"mars: variant={variant!r}; valid: one of {_MARS_VARIANTS}.")
  direction = (scale_by_adam(b1, b2, eps) if variant == "adamw"
               else chain(scale_by_ema(b1), scale_by_sign()))
  return chain(gradient_correction(gamma, b1, first_step_current=not correct_first_step),
               clip_by_norm(1.0), direction,
               add_decayed_weights(weight_decay, mask), scale_by_learning_rate(learning_rate))


@method
def adam_mini(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    weight_decay: hp.ScalarOrSchedule = 0.0,
    mask: Any = None,
    *,
    block_axes: BlockAxes = (),
    mu_dtype: Any = None,
    nu_dtype: Any = None,
) -> Transform:
  """Adam-mini: Adam with one second moment per parameter block (Zhang et al.,
  2024, "Adam-mini: Use Fewer Learning Rates To Gain More", Algorithm 1).

  .. math::
     m_t &= \\beta_1 m_{t-1} + (1-\\beta_1) g_t \\\\
     v_{t,b} &= \\beta_2 v_{t-1,b} + (1-\\beta_2)\\, \\operatorname{mean}_{i\\in b}(g_{t,i}^2) \\\\
     w_{t,b} &= w_{t-1,b} - \\eta_t\\Big(\\frac{\\hat m_{t,b}}{\\sqrt{\\hat v_{t,b}} + \\epsilon}
                + \\lambda w_{t-1,b}\\Big)

  with :math:`\\hat m_t = m_t/(1-\\beta_1^t)`, :math:`\\hat v_t = v_t/(1-\\beta_2^t)`.
  The first moment is Adam's; the second keeps one number per block
  instead of one per coordinate, which is the memory saving.

  Blocks (``block_axes``, see :func:`block_mean_ema`): by default each leaf
  is one block, Adam-mini's rule for every block except embeddings, output
  layers and queries/keys. Give the block-indexing axes for a layout with
  heads or rows, e.g. ``lambda path, p: (1,) if "query" in
  jax.tree_util.keystr(path) else ()`` for Flax ``DenseGeneral`` query
  kernels shaped (embed, heads, head_dim); all axes of a leaf make it
  per-coordinate (Adam), which is the authors' rule for embedding and
  output layers.

  Recipe::

     chain(ratio(first_moment(b1),
                 chain(square(), block_mean_ema(b2, block_axes=..., name="nu"),
                       bias_correct(b2), root(), add_eps(eps))),
           add_decayed_weights(weight_decay, mask), scale_by_learning_rate(lr))

  State ``AdamMiniState``: ``count``, ``mu`` (shaped like the parameters),
  ``nu`` (one value per block: the leaf's shape with size 1 along averaged
  axes), ``learning_rate``.

  Reproduces: the authors' ``Adam_mini`` on parameters that fall in their
  "other blocks" (one :math:`v` per tensor), and on queries/keys with the
  heads as a leading axis; their names-based partition is ``block_axes``
  given as a callable. They exempt norm layers from weight decay: ``mask``.

  Args:
    learning_rate: :math:`\\eta_t`, a number or a schedule.
    b1, b2: decay rates of the two moments, in ``[0, 1)``.
    eps: added to :math:`\\sqrt{\\hat v}`.
    weight_decay: decoupled :math:`\\lambda_t`, a number or a schedule.
    mask: the leaves to decay, as in ``adamw``.
    block_axes: the block-indexing axes, for every leaf or per leaf.
    mu_dtype, nu_dtype: dtypes of the moments; default the parameters'.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.adam_mini(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  denominator = chain(square(), block_mean_ema(b2, block_axes=block_axes, dtype=nu_dtype, name="nu"),
                      bias_correct(b2), root(), add_eps(eps))
  return chain(ratio(first_moment(b1, dtype=mu_dtype), denominator),
               add_decayed_weights(weight_decay, mask), scale_by_learning_rate(learning_rate))


@method
def laprop(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-15,
    weight_decay: hp.ScalarOrSchedule = 0.0,
    mask: Any = None,
    *,
    mu_dtype: Any = None,
    nu_dtype: Any = None,
) -> Transform:
  """LaProp: momentum of the RMS-normalised gradient (Ziyin, Wang & Ueda, 2020,
  "LaProp: Separating Momentum and Adaptivity in Adam", Algorithm 1).

  .. math::
     n_t &= \\nu\\, n_{t-1} + (1-\\nu)\\, g_t^2 \\\\
     m_t &= \\mu\\, m_{t-1} + (1-\\mu)\\, \\frac{g_t}{\\sqrt{n_t / c_n} + \\epsilon},
        \\qquad c_n = 1 - \\nu^t \\\\
     w_t &= w_{t-1} - \\eta_t \\big(m_t / c_m + \\lambda w_{t-1}\\big), \\qquad c_m = 1 - \\mu^t

  Adam divides the momentum by the RMS; LaProp takes the momentum of the
  already divided gradient, so :math:`\\mu` (``b1``) and :math:`\\nu`
  (``b2``) are decoupled: every step is at most
  :math:`\\eta_t / \\sqrt{1-\\nu}` per coordinate whatever :math:`\\mu`,
  where Adam needs :math:`\\mu^2 < \\nu`.

  Recipe::

     chain(ratio(identity(), rms_denominator(b2, eps)),   # g / (sqrt(n_t / c_n) + eps)
           scale_by_ema(b1), bias_correct(b1),
           add_decayed_weights(weight_decay, mask), scale_by_learning_rate(lr))

  State ``LapropState``: ``count``, ``nu`` (:math:`n`), ``mu`` (:math:`m`),
  ``learning_rate``.

  Reproduces: the authors' ``LaProp(lr, betas, eps)`` (their default eps
  1e-15, as here) with a constant rate and no weight decay. With a
  schedule, their code folds :math:`\\eta_t` into the momentum and its
  correction; here :math:`\\eta_t` scales the step, as the paper's
  algorithm. Their ``weight_decay`` is :math:`w \\leftarrow (1-\\lambda) w`
  after the step, not scaled by :math:`\\eta`; here it is AdamW's
  :math:`\\eta_t\\lambda w_{t-1}`. Not their ``centered`` or ``amsgrad`` options.

  Args:
    learning_rate: :math:`\\eta_t`, a number or a schedule.
    b1: :math:`\\mu`, the momentum, in ``[0, 1)``.
    b2: :math:`\\nu`, the second moment's decay, in ``[0, 1)``.
    eps: added to :math:`\\sqrt{n_t / c_n}`.
    weight_decay: decoupled :math:`\\lambda_t`, a number or a schedule.
    mask: the leaves to decay, as in ``adamw``.
    mu_dtype, nu_dtype: dtypes of the moments; default the parameters'.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.laprop(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(ratio(identity(), rms_denominator(b2, eps, dtype=nu_dtype)),
               scale_by_ema(b1, dtype=mu_dtype), bias_correct(b1),
               add_decayed_weights(weight_decay, mask), scale_by_learning_rate(learning_rate))
