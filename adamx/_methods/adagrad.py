"""AdaGrad: per-coordinate steps from the sum of all past squared gradients."""

from __future__ import annotations

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._methods.denominators import rss_denominator
from adamx._primitives.scale import identity, scale_by_learning_rate


@method
def adagrad(
    learning_rate: hp.ScalarOrSchedule,
    initial_accumulator_value: hp.Scalar = 0.1,
    eps: hp.Scalar = 1e-7,
    *,
    eps_in_sqrt: bool = True,
) -> Transform:
  """AdaGrad (Duchi, Hazan & Singer, 2011), diagonal form.

  .. math::
     s_t = s_{t-1} + g_t^2,\\quad s_0 = \\text{initial\\_accumulator\\_value},
     \\qquad w_t = w_{t-1} - \\eta_t\\, g_t / \\sqrt{s_t + \\epsilon}

  (:math:`\\sqrt{s_t} + \\epsilon` with ``eps_in_sqrt=False``).

  Recipe: ``chain(ratio(identity, rss_denominator), scale_by_learning_rate)``.
  State ``AdagradState``: ``count``, ``sum_of_squares`` (:math:`s`), ``learning_rate``.

  Reproduces exactly: ``optax.adagrad`` with the same arguments (defaults
  0.1 and 1e-7, eps inside the root); ``torch.optim.Adagrad`` with
  ``initial_accumulator_value=0, eps=1e-10, eps_in_sqrt=False`` (see
  ``adamx.compat.torch.Adagrad`` for ``lr_decay``).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.adagrad(learning_rate=0.5)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  denominator = rss_denominator(initial_accumulator_value, eps, eps_in_sqrt=eps_in_sqrt)
  return chain(ratio(identity(), denominator), scale_by_learning_rate(learning_rate))
