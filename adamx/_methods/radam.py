"""RAdam: Adam with the variance of the adaptive step rectified."""

from __future__ import annotations

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._methods.arrangements import first_moment
from adamx._methods.denominators import rms_denominator
from adamx._primitives.corrections import rectify
from adamx._primitives.scale import scale_by_learning_rate


@method
def radam(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    threshold: hp.Scalar = 5.0,
    *,
    nesterov: bool = False,
    eps_hat: bool = False,
) -> Transform:
  """RAdam (Liu et al., 2020, Algorithm 2).

  .. math::
     w_t = w_{t-1} - \\eta_t \\begin{cases}
        r_t\\, \\hat m_t / (\\sqrt{\\hat v_t + \\epsilon_{root}} + \\epsilon) & \\rho_t \\ge \\text{threshold} \\\\
        \\hat m_t & \\text{otherwise}\\end{cases}

  with :math:`\\rho_t, r_t` as in :func:`adamx.rectify`. Recipe:
  ``ratio(first_moment(b1), chain(rms_denominator(b2), rectify(b2)))``.
  State ``RadamState``: ``count``, ``mu``, ``nu``, ``learning_rate``.

  Reproduces exactly: ``optax.radam`` with the same arguments;
  ``torch.optim.RAdam(lr, betas, eps)`` with ``eps_hat=True`` (torch adds
  eps to :math:`\\sqrt{v_t}` before dividing by :math:`\\sqrt{1-\\beta_2^t}`;
  torch switches at :math:`\\rho_t > 5`, Optax at :math:`\\ge 5`, which
  differ only if :math:`\\rho_t` is exactly 5).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.radam(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(
      ratio(first_moment(b1, nesterov=nesterov),
            chain(rms_denominator(b2, eps, eps_root, correction="eps" if eps_hat else "moment"), rectify(b2, threshold))),
      scale_by_learning_rate(learning_rate),
  )
