"""Adam and its Nesterov and decoupled-weight-decay variants."""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._methods.arrangements import scale_by_adam
from adamx._primitives.scale import add_decayed_weights, scale_by_learning_rate


@method
def adam(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
    bias_correction: bool = True,
    eps_hat: bool = False,
    nu_dtype: Any = None,
) -> Transform:
  """Adam (Kingma & Ba, 2015, Algorithm 1).

  .. math::
     m_t &= \\beta_1 m_{t-1} + (1-\\beta_1) g_t, \\qquad
     v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2 \\\\
     \\hat m_t &= m_t / (1-\\beta_1^t), \\qquad \\hat v_t = v_t / (1-\\beta_2^t) \\\\
     w_t &= w_{t-1} - \\eta_t\\, \\hat m_t / (\\sqrt{\\hat v_t + \\epsilon_{root}} + \\epsilon)

  Recipe::

     chain(ratio(numerator=chain(scale_by_ema(b1), bias_correct(b1)),
                 denominator=chain(square(), scale_by_ema(b2, name="nu"),
                                   bias_correct(b2), root(eps_root), add_eps(eps))),
           scale_by_learning_rate(lr))

  Not RMSProp followed by momentum: both moments are of the *raw*
  gradient, so on a constant slope the step is :math:`\\eta` from the start.

  State ``AdamState``: ``count`` (:math:`t`), ``mu`` (:math:`m`), ``nu``
  (:math:`v`), ``learning_rate`` (the latest :math:`\\eta_t`); with
  ``nesterov``, also ``mu_product``.

  Reproduces exactly: ``optax.adam`` with the same arguments (and
  ``optax.nadam`` with ``nesterov=True``); ``torch.optim.Adam(lr, betas,
  eps)``. ``eps_hat=True`` is the paper's :math:`\\hat\\epsilon` form used by
  Keras (:math:`\\eta\\sqrt{1-\\beta_2^t}/(1-\\beta_1^t) \\cdot m_t/(\\sqrt{v_t}+\\hat\\epsilon)`);
  ``bias_correction=False`` drops both corrections.

  Args:
    learning_rate: :math:`\\eta_t`, a number or a schedule.
    b1, b2: decay rates of the first and second moments, in ``[0, 1)``.
    eps, eps_root: added outside and inside the root.
    mu_dtype, nu_dtype: dtypes of the moments; default the parameters'.
    nesterov: Dozat's bias-corrected Nesterov look-ahead (Nadam).
    bias_correction: divide the moments by :math:`1-\\beta^t`.
    eps_hat: add eps before the second-moment correction (Keras).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.adam(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(
      scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov,
                    bias_correction=bias_correction, eps_hat=eps_hat, nu_dtype=nu_dtype),
      scale_by_learning_rate(learning_rate),
  )


@method
def nadam(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = True,
    momentum_decay: hp.Scalar | None = None,
    nu_dtype: Any = None,
) -> Transform:
  """Nadam: Adam with Dozat's bias-corrected Nesterov momentum (Dozat, 2016).

  .. math::
     \\bar m_t = \\frac{\\mu_{t+1} m_t}{1-\\prod_{i\\le t+1}\\mu_i}
               + \\frac{(1-\\mu_t) g_t}{1-\\prod_{i\\le t}\\mu_i},\\qquad
     w_t = w_{t-1} - \\eta_t\\, \\bar m_t / (\\sqrt{\\hat v_t + \\epsilon_{root}} + \\epsilon)

  with :math:`\\mu_t = \\beta_1` (default) or Dozat's schedule
  :math:`\\mu_t = \\beta_1(1 - \\tfrac12 0.96^{t\\psi})`, :math:`\\psi` =
  ``momentum_decay``. Recipe: ``ratio(nesterov_ema(b1), rms_denominator(b2))``.
  State ``NadamState``: ``count``, ``mu``, ``mu_product``, ``nu``, ``learning_rate``.

  Reproduces exactly: ``optax.nadam`` with the same arguments;
  ``torch.optim.NAdam(lr, betas, eps, momentum_decay)`` with
  ``momentum_decay`` given (torch's default is 4e-3).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.nadam(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(
      scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov,
                    momentum_decay=momentum_decay, nu_dtype=nu_dtype),
      scale_by_learning_rate(learning_rate),
  )


@method
def adamw(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    mu_dtype: Any = None,
    weight_decay: hp.ScalarOrSchedule = 1e-4,
    mask: Any = None,
    *,
    nesterov: bool = False,
    nu_dtype: Any = None,
) -> Transform:
  """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

  .. math::  w_t = w_{t-1} - \\eta_t \\left(\\hat m_t / (\\sqrt{\\hat v_t +
     \\epsilon_{root}} + \\epsilon) + \\lambda_t w_{t-1}\\right)

  Recipe: ``chain(scale_by_adam, add_decayed_weights(wd, mask), scale_by_learning_rate)``;
  the decay is added *after* the moments, so it is not rescaled by them.
  For coupled L2 (torch ``Adam(weight_decay=...)``) put
  ``add_decayed_weights`` first instead (``adamx.compat.torch.Adam``).
  State ``AdamwState``: ``count``, ``mu``, ``nu``, ``learning_rate``.

  Reproduces exactly: ``optax.adamw`` (and ``optax.nadamw`` with
  ``nesterov=True``) with the same arguments; ``torch.optim.AdamW(lr, betas,
  eps, weight_decay)`` (torch's default decay is 1e-2, Optax's 1e-4).
  ``mask`` selects the leaves to decay, as in Optax.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.adamw(learning_rate=0.1, weight_decay=1e-4)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(
      scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov, nu_dtype=nu_dtype),
      add_decayed_weights(weight_decay, mask),
      scale_by_learning_rate(learning_rate),
  )


@method
def nadamw(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    mu_dtype: Any = None,
    weight_decay: hp.ScalarOrSchedule = 1e-4,
    mask: Any = None,
    *,
    nesterov: bool = True,
    nu_dtype: Any = None,
) -> Transform:
  """NAdamW: :func:`adamw` with Dozat's Nesterov moment, i.e. ``adamw(..., nesterov=True)``.

  Reproduces exactly: ``optax.nadamw`` with the same arguments.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.nadamw(learning_rate=0.1, weight_decay=1e-4)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return adamw(learning_rate, b1, b2, eps, eps_root, mu_dtype, weight_decay, mask,
               nesterov=nesterov, nu_dtype=nu_dtype)
