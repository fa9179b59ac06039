"""Adam's relatives that change the second moment: AdaBelief, Yogi, AdaMaxW,
ACProp, ADOPT, MADGRAD and Sophia.

Each is a ratio of a numerator and a denominator branch (both see the raw
gradient), like Adam; what differs is the statistic in the denominator and
*when* it is read:

=========  ==============================================================================
method     denominator
=========  ==============================================================================
AdaBelief  ema_deviation(b1) → square → ema_plus_eps(b2, eps_root) → bias_correct → root → add_eps
Yogi       square → additive_moment(b2) → bias_correct → root(eps_root) → add_eps
AdaMaxW    infinity_moment(b2, eps)   (AdaMax), then decoupled weight decay
ACProp     ema_deviation(b1, previous) → square → delayed_ema(b2, eps_root, corrected) → root → add_eps
ADOPT      square → delayed_ema(b2, from_first) → root → max_eps(eps), then clip and the EMA
MADGRAD    square → scale_by_sqrt_step → accumulate → cube_root → add_eps, over Σ λ_k g_k
Sophia     periodic_ema(b2, every k, Hessian estimator) → scale(γ) → max_eps(eps), then clip
=========  ==============================================================================
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import optax
from optax.contrib import hutchinson_estimator_diag_hessian

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._methods.arrangements import first_moment, infinity_denominator
from adamx._primitives.corrections import bias_correct
from adamx._primitives.elementwise import add_eps, clip, root, square
from adamx._primitives.moments import accumulate, scale_by_ema
from adamx._primitives.scale import (
    add_decayed_weights, identity, scale, scale_by_learning_rate,
)
from adamx._primitives.second_moments import (
    additive_moment, clip_by_schedule, cube_root, delayed_ema, dual_average, ema_deviation,
    ema_plus_eps, max_eps, periodic_ema, scale_by_sqrt_step,
)


@method
def adabelief(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-16,
    eps_root: hp.Scalar = 1e-16,
    *,
    nesterov: bool = False,
) -> Transform:
  """AdaBelief (Zhuang et al., 2020, Algorithm 2): Adam with the variance of the "belief".

  .. math::
     m_t &= \\beta_1 m_{t-1} + (1-\\beta_1) g_t \\\\
     s_t &= \\beta_2 s_{t-1} + (1-\\beta_2) |g_t - m_t|^2 + \\epsilon_{root} \\\\
     w_t &= w_{t-1} - \\eta_t\\, \\frac{m_t/(1-\\beta_1^t)}{\\sqrt{s_t/(1-\\beta_2^t)} + \\epsilon}

  The step is large where the gradient agrees with its running mean (small
  :math:`s`) and small where it does not. ``eps_root`` is added to the
  *statistic* every step, as in the paper, whose Algorithm 2 uses one
  :math:`\\epsilon` for both ``eps`` and ``eps_root`` (Optax's defaults are 1e-16).
  ``nesterov=True`` replaces :math:`\\hat m_t` by
  :math:`\\beta_1 m_t/(1-\\beta_1^{t+1}) + (1-\\beta_1) g_t/(1-\\beta_1^t)`.

  Recipe::

     chain(ratio(first_moment(b1, nesterov),
                 chain(ema_deviation(b1, name="mean"), square(), ema_plus_eps(b2, eps_root),
                       bias_correct(b2), root(), add_eps(eps))),
           scale_by_learning_rate(lr))

  The deviation branch keeps its own copy of :math:`m` (``mean``): a branch
  cannot read another's state, so the state holds :math:`m` twice (Optax's once).

  State ``AdabeliefState``: ``count``, ``mu`` (:math:`m`; with ``nesterov`` also
  ``mu_product``), ``mean`` (the same :math:`m`), ``nu`` (:math:`s`), ``learning_rate``.

  Reproduces exactly: ``optax.adabelief`` with the same arguments.
  """
  return chain(
      ratio(first_moment(b1, nesterov=nesterov),
            chain(ema_deviation(b1, name="mean"), square(), ema_plus_eps(b2, eps_root),
                  bias_correct(b2), root(), add_eps(eps))),
      scale_by_learning_rate(learning_rate),
  )


@method
def yogi(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-3,
    *,
    eps_root: hp.Scalar = 0.0,
    initial_accumulator_value: hp.Scalar = 1e-6,
    bias_correction: bool = True,
) -> Transform:
  """Yogi (Zaheer et al., 2018, Algorithm 2): Adam with an additive second moment.

  .. math::
     m_t &= \\beta_1 m_{t-1} + (1-\\beta_1) g_t \\\\
     v_t &= v_{t-1} - (1-\\beta_2)\\, \\operatorname{sign}(v_{t-1} - g_t^2)\\, g_t^2 \\\\
     w_t &= w_{t-1} - \\eta_t\\, \\hat m_t / (\\sqrt{\\hat v_t + \\epsilon_{root}} + \\epsilon)

  :math:`v` moves by at most :math:`(1-\\beta_2) g_t^2` per step, so it cannot
  collapse when gradients become small and the effective rate stays bounded.

  Recipe: ``ratio(chain(scale_by_ema(b1, initial_value=v0), bias_correct(b1)),
  chain(square(), additive_moment(b2, v0), bias_correct(b2), root(eps_root),
  add_eps(eps)))``, then the rate.

  Optax (and so the defaults here) starts *both* :math:`m` and :math:`v` at
  ``initial_accumulator_value`` = 1e-6 and divides them by :math:`1-\\beta^t`
  like Adam. The paper starts from :math:`m_0 = v_0 = 0` and corrects
  neither: ``initial_accumulator_value=0.0, bias_correction=False``.
  State ``YogiState``: ``count``, ``mu``, ``nu``, ``learning_rate``.

  Reproduces exactly: ``optax.yogi`` with the same arguments
  (``eps_root`` and ``initial_accumulator_value`` are ``optax.scale_by_yogi``'s).
  """
  correct = (lambda b: [bias_correct(b)]) if bias_correction else (lambda b: [])
  v0 = initial_accumulator_value
  return chain(
      ratio(chain(scale_by_ema(b1, initial_value=v0), *correct(b1)),
            chain(square(), additive_moment(b2, v0), *correct(b2), root(eps_root), add_eps(eps))),
      scale_by_learning_rate(learning_rate),
  )


@method
def adamaxw(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    weight_decay: hp.ScalarOrSchedule = 1e-4,
    mask: Any = None,
) -> Transform:
  """AdaMaxW: AdaMax (Kingma & Ba, 2015, §7.1) with decoupled weight decay (Loshchilov & Hutter, 2019).

  .. math::
     u_t = \\max(\\beta_2 u_{t-1}, |g_t| + \\epsilon),\\qquad
     w_t = w_{t-1} - \\eta_t \\left(\\frac{m_t}{(1-\\beta_1^t)\\, u_t} + \\lambda_t w_{t-1}\\right)

  Recipe: ``chain(ratio(first_moment(b1), infinity_moment(b2, eps)),
  add_decayed_weights(wd, mask), scale_by_learning_rate(lr))``. As in Optax
  the decay is multiplied by the learning rate.
  State ``AdamaxwState``: ``count``, ``mu``, ``nu``, ``learning_rate``.

  Reproduces exactly: ``optax.adamaxw`` with the same arguments.
  """
  return chain(ratio(first_moment(b1), infinity_denominator(b2, eps)),
               add_decayed_weights(weight_decay, mask),
               scale_by_learning_rate(learning_rate))


@method
def acprop(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-16,
    eps_root: hp.Scalar = 1e-16,
    weight_decay: hp.ScalarOrSchedule = 0.0,
    mask: Any = None,
    *,
    previous_mean: bool = True,
) -> Transform:
  """ACProp (Zhuang et al., 2021): AdaBelief's centred statistic, read one step late.

  .. math::
     m_t &= \\beta_1 m_{t-1} + (1-\\beta_1) g_t \\\\
     s_t &= \\beta_2 s_{t-1} + (1-\\beta_2) |g_t - m_{t-1}|^2 + \\epsilon_{root} \\\\
     w_t &= w_{t-1} - \\eta_t \\left(\\frac{g_t}{\\sqrt{s_{t-1}/(1-\\beta_2^{t-1})} + \\epsilon}
            + \\lambda w_{t-1}\\right),\\qquad \\text{first step: } \\frac{g_1}{1 + \\epsilon}

  The denominator uses information up to step :math:`t-1` only
  (asynchronous), the numerator the current gradient.

  Recipe::

     chain(ratio(identity(),
                 chain(ema_deviation(b1, previous=True), square(),
                       delayed_ema(b2, eps_root, bias_correction=True, first=1.0),
                       root(), add_eps(eps))),
           add_decayed_weights(wd, mask), scale_by_learning_rate(lr))

  Optax centres on the mean *before* this step, :math:`m_{t-1}`, although
  its docstring writes :math:`g_t - m_t`; the authors' code
  (github.com/juntang-zhuang/ACProp-Optimizer, ``optimizers/ACProp.py``,
  with the settings of its ``main.py``: gradient numerator, no
  rectification) centres on :math:`m_t`: ``previous_mean=False``.
  State ``AcpropState``: ``count``, ``mu`` (:math:`m`), ``nu`` (:math:`s`), ``learning_rate``.

  Reproduces exactly: ``optax.contrib.acprop`` with the same arguments.
  """
  return chain(
      ratio(identity(),
            chain(ema_deviation(b1, previous=previous_mean), square(),
                  delayed_ema(b2, eps_root, bias_correction=True, first=1.0),
                  root(), add_eps(eps))),
      add_decayed_weights(weight_decay, mask),
      scale_by_learning_rate(learning_rate),
  )


@method
def adopt(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.9999,
    eps: hp.Scalar = 1e-6,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
    use_clipping: bool = True,
    clip_value_fn: Callable[[jax.Array], jax.Array] = lambda x: x**0.25,
) -> Transform:
  """ADOPT (Taniguchi et al., 2024, Algorithm 2): normalise, *then* average.

  .. math::
     v_0 &= g_0^2 \\quad(\\text{first step: no update}) \\\\
     m_t &= \\beta_1 m_{t-1} + (1-\\beta_1)\\,
            \\operatorname{clip}\\!\\left(\\frac{g_t}{\\max(\\sqrt{v_{t-1}}, \\epsilon)},\\; c_t\\right) \\\\
     w_t &= w_{t-1} - \\eta_t m_t,\\qquad v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2

  with :math:`c_t = t^{1/4}` (``clip_value_fn``, at ``count`` t = 0, 1, ...).
  Dividing by :math:`v_{t-1}`, which does not contain :math:`g_t`, and
  averaging the normalised gradient (Adam averages first) is what makes
  ADOPT converge for any :math:`\\beta_2`. ``nesterov=True`` emits
  :math:`\\beta_1 m_t + (1-\\beta_1) x_t` (:math:`x_t` the clipped ratio).

  Recipe::

     chain(ratio(identity(), chain(square(), delayed_ema(b2, from_first=True), root(),
                                   max_eps(eps))),
           clip_by_schedule(clip_value_fn), scale_by_ema(b1), scale_by_learning_rate(lr))

  ``delayed_ema`` emits :math:`\\infty` on the first step (there is no
  :math:`v_{-1}`), so the first gradient only initialises :math:`v`, with or
  without clipping, as in the paper and Optax.
  State ``AdoptState``: ``count``, ``nu`` (:math:`v`), ``mu`` (:math:`m`), ``learning_rate``.

  Complex parameters: refused with clipping (no order), as by Optax;
  without clipping they work as in Optax (:math:`v` of :math:`|g|^2`).

  Reproduces exactly: ``optax.contrib.adopt`` with the same arguments.
  """
  clipping = [clip_by_schedule(clip_value_fn)] if use_clipping else []
  return chain(
      ratio(identity(), chain(square(), delayed_ema(b2, from_first=True), root(), max_eps(eps))),
      *clipping,
      scale_by_ema(b1, nesterov=nesterov, dtype=mu_dtype),
      scale_by_learning_rate(learning_rate),
  )


@method
def madgrad(
    learning_rate: hp.ScalarOrSchedule,
    momentum: hp.Scalar = 0.9,
    weight_decay: hp.ScalarOrSchedule = 0.0,
    eps: hp.Scalar = 1e-6,
) -> Transform:
  """MADGRAD (Defazio & Jelassi, 2021, Algorithm 1): momentumised, adaptive dual averaging.

  .. math::
     \\lambda_k &= (\\eta_k + \\epsilon)\\sqrt{k+1},\\qquad
     s_{k+1} = s_k + \\lambda_k g_k,\\qquad \\nu_{k+1} = \\nu_k + \\lambda_k g_k^2 \\\\
     z_{k+1} &= x_0 - \\frac{s_{k+1}}{\\nu_{k+1}^{1/3} + \\epsilon},\\qquad
     x_{k+1} = \\mu\\, x_k + (1-\\mu)\\, z_{k+1}

  (k = 0, 1, ...; :math:`g_k` includes the coupled L2 term
  ``weight_decay`` · :math:`x_k`). The learning rate acts inside the
  weights, so there is no ``scale_by_learning_rate``. The paper writes
  :math:`\\lambda_k = \\gamma_k\\sqrt{k+1}` and :math:`c_{k+1} = 1-\\mu`; the
  authors' code and Optax take :math:`\\gamma_k = \\eta_k + \\epsilon`.

  Recipe::

     chain(add_decayed_weights(wd),
           ratio(chain(scale_by_sqrt_step(lr, eps), accumulate(name="s")),
                 chain(square(), scale_by_sqrt_step(lr, eps), accumulate(name="grad_sum_sq"),
                       cube_root(), add_eps(eps))),
           dual_average(momentum))

  State ``MadgradState``: ``count``, ``s``, ``grad_sum_sq`` (:math:`\\nu`), ``x0``
  (the parameters given to ``init``), as Optax's.

  Reproduces ``optax.contrib.madgrad`` with the same arguments, with one
  difference: Optax computes :math:`\\sqrt{k+1}` from its int32 count in
  float32 (and so :math:`\\lambda_k`), even under ``jax_enable_x64``; adamx
  computes it in the step dtype. In float64 the trajectories agree to the
  float32 rounding of :math:`\\lambda_k` (about 1e-8 relative); with Optax's
  count made int64 they agree to 1e-10 (``tests/test_second_moments.py``).
  Complex parameters work (:math:`\\nu` of :math:`|g|^2`, as AdaGrad's);
  Optax's fails on them (``cbrt`` of a complex square).
  """
  weights = lambda: scale_by_sqrt_step(learning_rate, eps)  # noqa: E731
  return chain(
      add_decayed_weights(weight_decay),
      ratio(chain(weights(), accumulate(name="s")),
            chain(square(), weights(), accumulate(name="grad_sum_sq"), cube_root(),
                  add_eps(eps))),
      dual_average(momentum),
  )


@method
def sophia(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.965,
    b2: hp.Scalar = 0.99,
    eps: hp.Scalar = 1e-8,
    weight_decay: hp.ScalarOrSchedule = 1e-4,
    weight_decay_mask: Any = None,
    gamma: hp.Scalar = 0.01,
    clip_threshold: hp.Scalar | None = 1.0,
    update_interval: int = 10,
    hessian_diagonal_fn: optax.GradientTransformation = hutchinson_estimator_diag_hessian(),
    mu_dtype: Any = None,
    verbose: bool = False,
    print_win_rate_every_n_steps: int = 0,
    *,
    bias_correction: bool = True,
    delayed_hessian: bool = True,
) -> Transform:
  """Sophia (Liu et al., 2023, Algorithm 3): momentum over a clipped diagonal-Hessian preconditioner.

  .. math::
     m_t &= \\beta_1 m_{t-1} + (1-\\beta_1) g_t \\\\
     h_t &= \\beta_2 h_{t-k} + (1-\\beta_2)\\, \\hat h_t \\;\\text{ if } t \\equiv 1 \\pmod k,
            \\text{ else } h_{t-1} \\\\
     w_t &= w_{t-1} - \\eta_t \\left(\\operatorname{clip}\\!\\left(
            \\frac{\\hat m_t}{\\max(\\gamma h_{t-1}, \\epsilon)}, \\rho\\right) + \\lambda w_{t-1}\\right)

  :math:`\\hat h_t` is ``hessian_diagonal_fn``'s output (default: Optax's
  Hutchinson estimator, which needs ``obj_fn=`` passed to ``update``; any
  gradient transformation works, e.g. ``adamx.square()`` for a
  Gauss-Newton-like :math:`g_t^2`). Extra keyword arguments of ``update``
  reach it on refresh steps only.

  Recipe::

     chain(ratio(first_moment(b1),
                 chain(periodic_ema(b2, k, hessian_diagonal_fn), scale(gamma), max_eps(eps))),
           clip(clip_threshold), add_decayed_weights(wd, mask), scale_by_learning_rate(lr))

  Where Optax deviates from the paper: Optax bias-corrects :math:`m`
  (:math:`\\hat m_t = m_t/(1-\\beta_1^t)`) and divides by the Hessian EMA from
  *before* this step's refresh, :math:`h_{t-1}`; the paper divides
  :math:`m_t` by :math:`h_t`. ``bias_correction=False, delayed_hessian=False``
  is the paper's Algorithm 3. ``clip_threshold=None`` drops the clip.
  ``verbose`` and ``print_win_rate_every_n_steps`` are accepted for Optax's
  signature; the win-rate printout is not produced (it changes no number).

  State ``SophiaState``: ``count``, ``mu``, ``nu`` (:math:`h`),
  ``hessian_fn_state``, ``learning_rate``.

  Reproduces exactly: ``optax.contrib.sophia`` with the same arguments.
  """
  del verbose, print_win_rate_every_n_steps
  clipping = [clip(clip_threshold)] if clip_threshold is not None else []
  hessian = periodic_ema(b2, update_interval, hessian_diagonal_fn, delayed=delayed_hessian,
                         estimator_name="hessian_fn_state")
  return chain(
      ratio(first_moment(b1, bias_correction=bias_correction, dtype=mu_dtype),
            chain(hessian, scale(gamma), max_eps(eps))),
      *clipping,
      add_decayed_weights(weight_decay, weight_decay_mask),
      scale_by_learning_rate(learning_rate),
  )
