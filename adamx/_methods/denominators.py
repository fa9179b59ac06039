"""Every denominator arrangement: where each peer puts the same parts.

Peers differ in *where* a part sits, not in the parts. Each function here
builds one family of denominators from the primitives, with each peer's
variant as an argument, and is what the methods and ``compat.torch`` /
``compat.keras`` compose (the numerators and Optax's ``scale_by_*`` are in
:mod:`adamx._methods.arrangements`). The statistics are named as Optax names them
(``mu``, ``nu``, ``nu_max``, ``sum_of_squares``).

=========================================  =========================================================
denominator                                 parts
=========================================  =========================================================
Adam (Optax, torch)                         square → ema(nu) → bias_correct → root(eps_root) → add_eps
ε̂ form (Keras Adam, torch RAdam)           square → ema(nu) → root(eps_root) → add_eps → bias_correct(½)
AMSGrad, Optax (max of corrected ν̂)         square → ema(nu) → bias_correct → running_max(nu_max) → root → add_eps
AMSGrad, torch (max of raw ν)               square → ema(nu) → running_max(nu_max) → root → bias_correct(½) → add_eps
AMSGrad, Keras (max of raw ν, ε̂ form)       square → ema(nu) → running_max(nu_max) → root → add_eps → bias_correct(½)
RMSProp (eps inside / outside the root)     square → ema(nu) → root(eps | 0) → add_eps(0 | eps)
centered RMSProp                            difference(square → ema(nu), ema(mu) → square) → root → add_eps
AdaGrad                                     square → accumulate(sum_of_squares) → root → add_eps
AdaMax (eps inside / outside the max)       infinity_moment(nu) [→ add_eps]
=========================================  =========================================================
"""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.fanout import difference
from adamx._core import hyperparams as hp
from adamx._core.declare import arrangement
from adamx._core.quantized import for_nonnegative
from adamx._core.transform import Transform
from adamx._primitives.corrections import bias_correct
from adamx._primitives.elementwise import add_eps, root, square
from adamx._primitives.moments import accumulate, infinity_moment, running_max, scale_by_ema

_CORRECTIONS = ("moment", "root", "eps")


@arrangement
def rms_denominator(
    b2: hp.Scalar,
    eps: hp.Scalar,
    eps_root: hp.Scalar = 0.0,
    *,
    bias_correction: bool = True,
    correction: str = "moment",
    amsgrad: bool = False,
    centered: bool = False,
    initial_scale: hp.Scalar = 0.0,
    dtype: Any = None,
    name: str = "nu",
) -> Transform:
  """:math:`\\sqrt{\\hat v_t + \\epsilon_{root}} + \\epsilon` of raw gradients, in every peer's arrangement.

  Args:
    b2: decay of the second moment :math:`v` (held as ``name``, default ``nu``).
    eps, eps_root: added outside and inside the root.
    bias_correction: correct for the zero start of :math:`v`.
    correction: where the correction :math:`1-\\beta_2^t` divides:
      ``"moment"``, :math:`v_t` itself (Optax); ``"root"``, :math:`\\sqrt{v_t}`
      before eps is added (torch Adam); ``"eps"``, :math:`\\sqrt{v_t} + \\epsilon`,
      Kingma & Ba's :math:`\\hat\\epsilon` form (Keras Adam, torch RAdam).
    amsgrad: keep a running max (``{name}_max``) of :math:`v` just before the
      root: of the corrected :math:`\\hat v_t` with ``correction="moment"``
      (Optax), of the raw :math:`v_t` otherwise (torch, Keras).
    centered: subtract the squared EMA of the gradient (``mu``), Graves (2013);
      each EMA is corrected on its own.
    initial_scale: :math:`v_0`.
    dtype: dtype of the statistics; defaults to the parameters'.
    name: the state field of :math:`v`.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.chain(
    ...   adamx.ratio(adamx.first_moment(0.9), adamx.rms_denominator(0.999, 1e-8)),
    ...   adamx.scale_by_learning_rate(0.1))
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  if correction not in _CORRECTIONS:
    raise hp.InvalidHyperparameter(
        f"rms_denominator: correction={correction!r}; valid: one of {_CORRECTIONS}.")
  squares = for_nonnegative(dtype)  # a quantized format stores them with its unsigned map
  moment = [square(), scale_by_ema(b2, initial_value=initial_scale, dtype=squares, name=name)]
  maximum = [running_max(dtype=squares, name=f"{name}_max")] if amsgrad else []
  tail = [root(eps_root), add_eps(eps)]
  if centered:
    correct = [bias_correct(b2)] if bias_correction else []
    moment = [difference(chain(*moment, *correct),
                         chain(scale_by_ema(b2, dtype=dtype, name="mu"), *correct, square()))]
  if centered or not bias_correction:
    return chain(*moment, *maximum, *tail)
  if correction == "moment":
    return chain(*moment, bias_correct(b2), *maximum, *tail)
  late = bias_correct(b2, power=0.5)
  tail.insert(1 if correction == "root" else 2, late)
  return chain(*moment, *maximum, *tail)


@arrangement
def rms(
    decay: hp.Scalar,
    eps: hp.Scalar = 0.0,
    *,
    eps_in_sqrt: bool = False,
    bias_correction: bool = False,
    initial_scale: hp.Scalar = 0.0,
    centered: bool = False,
    dtype: Any = None,
    name: str = "nu",
) -> Transform:
  """RMSProp's denominator: :func:`rms_denominator` with eps inside the root
  (``eps_in_sqrt``, Optax/Keras) or outside it (torch), uncorrected by default.

  .. math::
     v_t = \\beta v_{t-1} + (1-\\beta) u_t^2,\\quad
     D_t = \\sqrt{\\hat v_t} + \\epsilon \\;\\text{ or }\\;
     \\sqrt{\\hat v_t + \\epsilon}\\;(\\text{eps\\_in\\_sqrt})

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.chain(
    ...   adamx.ratio(adamx.identity(), adamx.rms(0.9, 1e-8, eps_in_sqrt=True)),
    ...   adamx.scale_by_learning_rate(0.05))
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return rms_denominator(decay, 0.0 if eps_in_sqrt else eps, eps if eps_in_sqrt else 0.0,
                         bias_correction=bias_correction, centered=centered,
                         initial_scale=initial_scale, dtype=dtype, name=name)


@arrangement
def rss_denominator(
    initial_accumulator_value: hp.Scalar, eps: hp.Scalar, *, eps_in_sqrt: bool = True,
    dtype: Any = None,
) -> Transform:
  """AdaGrad's :math:`\\sqrt{s_t + \\epsilon}` (or :math:`\\sqrt{s_t} + \\epsilon`),
  :math:`s_t = s_{t-1} + g_t^2` held as ``sum_of_squares``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.chain(
    ...   adamx.ratio(adamx.identity(), adamx.rss_denominator(0.1, 1e-7)),
    ...   adamx.scale_by_learning_rate(0.5))
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(square(), accumulate(initial_accumulator_value, dtype=for_nonnegative(dtype),
                                    name="sum_of_squares"),
               root(eps if eps_in_sqrt else 0.0), add_eps(0.0 if eps_in_sqrt else eps))


@arrangement
def infinity_denominator(b2: hp.Scalar, eps: hp.Scalar, *, eps_in_max: bool = True) -> Transform:
  """AdaMax's :math:`\\max(\\beta_2 u, |g| + \\epsilon)` (Optax, torch), or
  :math:`\\max(\\beta_2 u, |g|) + \\epsilon` with ``eps_in_max=False`` (Keras).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.chain(
    ...   adamx.ratio(adamx.first_moment(0.9), adamx.infinity_denominator(0.999, 1e-8)),
    ...   adamx.scale_by_learning_rate(0.1))
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  if eps_in_max:
    return infinity_moment(b2, eps)
  return chain(infinity_moment(b2, 0.0), add_eps(eps))
