"""MADGRAD (Defazio & Jelassi, 2021): dual averaging with a cube-root denominator,
``square → scale_by_sqrt_step → accumulate → cube_root → add_eps`` over :math:`\\sum_k \\lambda_k g_k`."""

from __future__ import annotations

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._primitives.dual_averaging import dual_average, scale_by_sqrt_step
from adamx._primitives.elementwise import add_eps, cube_root, square
from adamx._primitives.moments import accumulate
from adamx._primitives.scale import add_decayed_weights


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

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.madgrad(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  weights = lambda: scale_by_sqrt_step(learning_rate, eps)  # noqa: E731
  return chain(
      add_decayed_weights(weight_decay),
      ratio(chain(weights(), accumulate(name="s")),
            chain(square(), weights(), accumulate(name="grad_sum_sq"), cube_root(),
                  add_eps(eps))),
      dual_average(momentum),
  )
