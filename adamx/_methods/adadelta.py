"""Adadelta: RMSProp with the units corrected by an RMS of past updates."""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._methods.denominators import rms
from adamx._primitives.moments import scale_by_update_rms
from adamx._primitives.scale import add_decayed_weights, identity, scale_by_learning_rate


@method
def adadelta(
    learning_rate: hp.ScalarOrSchedule | None = None,
    rho: hp.Scalar = 0.9,
    eps: hp.Scalar = 1e-6,
    weight_decay: hp.ScalarOrSchedule = 0.0,
    weight_decay_mask: Any = None,
) -> Transform:
  """Adadelta (Zeiler, 2012, Algorithm 1), with an optional learning rate.

  .. math::
     E[g^2]_t &= \\rho E[g^2]_{t-1} + (1-\\rho) g_t^2 \\\\
     \\Delta_t &= \\frac{\\sqrt{E[\\Delta^2]_{t-1} + \\epsilon}}
                       {\\sqrt{E[g^2]_t + \\epsilon}}\\, g_t,\\qquad
     E[\\Delta^2]_t = \\rho E[\\Delta^2]_{t-1} + (1-\\rho) \\Delta_t^2 \\\\
     w_t &= w_{t-1} - \\eta_t \\Delta_t

  with :math:`g_t` including coupled weight decay :math:`\\lambda w`.
  Recipe: ``chain(add_decayed_weights, ratio(identity, rms(rho, eps,
  eps_in_sqrt)), scale_by_update_rms(rho, eps), scale_by_learning_rate)``.
  State ``AdadeltaState``: ``count``, ``e_g`` (:math:`E[g^2]`), ``e_x``
  (:math:`E[\\Delta^2]`), ``learning_rate``.

  Reproduces exactly: ``optax.adadelta`` whenever a learning rate is given;
  ``torch.optim.Adadelta(lr, rho, eps, weight_decay)``. Without a learning
  rate this is Zeiler's method (:math:`\\eta = 1`) and *descends*;
  ``optax.adadelta(learning_rate=None)`` returns :math:`+\\Delta_t` and so
  ascends.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.adadelta(learning_rate=1.0, rho=0.9, eps=1e-3)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(
      add_decayed_weights(weight_decay, weight_decay_mask),
      ratio(identity(), rms(rho, eps, eps_in_sqrt=True, name="e_g")),
      scale_by_update_rms(rho, eps, name="e_x"),
      scale_by_learning_rate(1.0 if learning_rate is None else learning_rate),
  )
