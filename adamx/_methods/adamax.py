"""AdaMax: Adam with the infinity norm in place of the RMS."""

from __future__ import annotations

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._methods.arrangements import first_moment
from adamx._methods.denominators import infinity_denominator
from adamx._primitives.scale import scale_by_learning_rate


@method
def adamax(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
) -> Transform:
  """AdaMax (Kingma & Ba, 2015, §7.1, Algorithm 2).

  .. math::
     m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t,\\quad
     u_t = \\max(\\beta_2 u_{t-1}, |g_t| + \\epsilon),\\quad
     w_t = w_{t-1} - \\frac{\\eta_t}{1-\\beta_1^t}\\, \\frac{m_t}{u_t}

  Recipe: ``ratio(chain(scale_by_ema(b1), bias_correct(b1)),
  infinity_moment(b2, eps))`` then the rate. The paper's :math:`u_t` has no
  eps; Optax and torch add it to :math:`|g_t|`, and so does this.
  State ``AdamaxState``: ``count``, ``mu``, ``nu`` (:math:`u`), ``learning_rate``.

  Reproduces exactly: ``optax.adamax`` with the same arguments;
  ``torch.optim.Adamax(lr, betas, eps)``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.adamax(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(ratio(first_moment(b1), infinity_denominator(b2, eps)),
               scale_by_learning_rate(learning_rate))
