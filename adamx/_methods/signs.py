"""Sign methods: signSGD, Signum and Lion step by the sign of a statistic."""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._primitives.elementwise import scale_by_sign
from adamx._primitives.moments import scale_by_ema
from adamx._primitives.scale import add_decayed_weights, scale_by_learning_rate
from adamx._primitives.signs import interpolated_ema


@method
def sign_sgd(learning_rate: hp.ScalarOrSchedule) -> Transform:
  """signSGD (Bernstein et al., 2018, Algorithm 1): a step of :math:`\\eta_t` per coordinate.

  .. math::  w_t = w_{t-1} - \\eta_t \\operatorname{sign}(g_t)\\qquad(\\operatorname{sign} 0 = 0)

  Recipe: ``chain(scale_by_sign(), scale_by_learning_rate(lr))``.
  State ``SignSgdState``: ``count``, ``learning_rate``.

  Reproduces exactly: ``optax.sign_sgd(learning_rate)``. On complex updates
  ``scale_by_sign`` gives :math:`g/|g|`, as Optax computes it; Optax lists
  the sign methods as not supporting complex parameters.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.sign_sgd(learning_rate=0.01)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(scale_by_sign(), scale_by_learning_rate(learning_rate))


@method(specs={"beta": hp.DECAY})
def signum(
    learning_rate: hp.ScalarOrSchedule,
    beta: hp.Scalar = 0.9,
    accumulator_dtype: Any = None,
) -> Transform:
  """Signum (Bernstein et al., 2018, Algorithm 2): the sign of an EMA of the gradient.

  .. math::
     m_t = \\beta m_{t-1} + (1-\\beta) g_t,\\qquad
     w_t = w_{t-1} - \\eta_t \\operatorname{sign}(m_t)

  No bias correction: a positive factor does not change a sign.
  Recipe: ``chain(scale_by_ema(beta, name="ema"), scale_by_sign(), scale_by_learning_rate(lr))``.
  State ``SignumState``: ``count``, ``ema`` (:math:`m`, named as Optax's
  ``EmaState.ema``, in ``accumulator_dtype``), ``learning_rate``.

  Reproduces exactly: ``optax.signum`` with the same arguments (with a
  low-precision ``accumulator_dtype``, to that dtype's rounding: adamx
  computes :math:`\\beta m` in the parameters' precision, Optax in the accumulator's).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.signum(learning_rate=0.01)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(scale_by_ema(beta, dtype=accumulator_dtype, name="ema"), scale_by_sign(),
               scale_by_learning_rate(learning_rate))


@method
def lion(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.99,
    mu_dtype: Any = None,
    weight_decay: hp.ScalarOrSchedule = 1e-3,
    mask: Any = None,
) -> Transform:
  """Lion (Chen et al., 2023, Algorithm 2): the sign of an interpolation, decoupled decay.

  .. math::
     c_t &= \\beta_1 m_{t-1} + (1-\\beta_1) g_t \\\\
     w_t &= w_{t-1} - \\eta_t \\left(\\operatorname{sign}(c_t) + \\lambda_t w_{t-1}\\right) \\\\
     m_t &= \\beta_2 m_{t-1} + (1-\\beta_2) g_t

  The step reads the average with :math:`\\beta_1` and the average keeps
  :math:`\\beta_2`; the decay :math:`\\lambda` is multiplied by the learning
  rate (as in the paper and Optax).

  Recipe::

     chain(interpolated_ema(b2, b1, dtype=mu_dtype), scale_by_sign(),
           add_decayed_weights(weight_decay, mask), scale_by_learning_rate(lr))

  State ``LionState``: ``count``, ``mu`` (:math:`m`, in ``mu_dtype``),
  ``learning_rate``. ``mask`` (a tree of booleans, a prefix of one, or a
  function of the parameters) selects the leaves to decay.

  Reproduces exactly: ``optax.lion`` with the same arguments (Optax's
  default ``mode="hard"`` of ``scale_by_lion``); with a low-precision
  ``mu_dtype``, to that dtype's rounding (adamx computes :math:`\\beta m` in
  the parameters' precision, Optax in ``mu_dtype``).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.lion(learning_rate=0.01)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(interpolated_ema(b2, b1, dtype=mu_dtype), scale_by_sign(),
               add_decayed_weights(weight_decay, mask), scale_by_learning_rate(learning_rate))
