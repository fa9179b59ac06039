"""Stochastic gradient descent, with heavy-ball or Nesterov momentum."""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._primitives.momentum import momentum as trace
from adamx._primitives.scale import scale_by_learning_rate


@method
def sgd(
    learning_rate: hp.ScalarOrSchedule,
    momentum: hp.Scalar | None = None,
    nesterov: bool = False,
    accumulator_dtype: Any = None,
    *,
    dampening: hp.Scalar = 0.0,
) -> Transform:
  """Gradient descent, optionally with momentum (Polyak 1964; Sutskever 2013).

  .. math::
     v_t = \\mu v_{t-1} + g_t,\\qquad
     w_t = w_{t-1} - \\eta_t\\, v_t \\;\\;(\\text{or } \\eta_t (g_t + \\mu v_t)
     \\text{ with Nesterov})

  Recipe: ``chain(momentum(mu, nesterov), scale_by_learning_rate(lr))``.
  State ``SgdState``: ``count``, ``trace`` (:math:`v`, with momentum), ``learning_rate``.

  Reproduces exactly: ``optax.sgd`` with the same arguments, and
  ``torch.optim.SGD(lr, momentum, dampening, nesterov)`` (use
  ``adamx.compat.torch.SGD`` for its ``weight_decay`` and ``maximize``).

  Args:
    learning_rate: :math:`\\eta_t`, a number or a schedule.
    momentum: :math:`\\mu` in ``[0, 1)``, or None for plain SGD (no trace).
    nesterov: use Nesterov's look-ahead.
    accumulator_dtype: dtype of the velocity; defaults to the parameters'.
    dampening: torch's dampening of the buffer after its first step.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.sgd(learning_rate=0.1, momentum=0.9)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(200):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  buffer = [] if momentum is None else [
      trace(momentum, nesterov=nesterov, dampening=dampening, dtype=accumulator_dtype)]
  return chain(*buffer, scale_by_learning_rate(learning_rate))
