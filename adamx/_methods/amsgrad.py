"""AMSGrad: Adam with a non-increasing effective step size."""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._methods.arrangements import first_moment
from adamx._methods.denominators import rms_denominator
from adamx._primitives.scale import scale_by_learning_rate


@method
def amsgrad(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    mu_dtype: Any = None,
    bias_correction_mu: bool = True,
    bias_correction_nu: bool = True,
    *,
    max_before_correction: bool = False,
    nu_dtype: Any = None,
) -> Transform:
  """AMSGrad (Reddi, Kale & Kumar, 2018, Algorithm 2).

  .. math::
     \\hat v^{max}_t = \\max(\\hat v^{max}_{t-1}, \\hat v_t),\\qquad
     w_t = w_{t-1} - \\eta_t\\, \\hat m_t / (\\sqrt{\\hat v^{max}_t + \\epsilon_{root}} + \\epsilon)

  The running max keeps the per-coordinate step from growing, which is what
  restores convergence on the paper's counterexample (§3). Where the max sits
  relative to the bias correction is the only difference between peers:

  * default: max of the *corrected* :math:`\\hat v_t` (Optax): denominator
    ``chain(square, scale_by_ema(b2), bias_correct(b2), running_max, root, add_eps)``;
  * ``max_before_correction=True``: max of the raw :math:`v_t`, then the
    current correction, :math:`\\sqrt{\\max_{s\\le t} v_s}/\\sqrt{1-\\beta_2^t}
    + \\epsilon` (torch ``Adam(amsgrad=True)``): ``running_max`` moves before
    the correction.

  ``bias_correction_mu=False, bias_correction_nu=False`` is the paper's
  uncorrected Algorithm 2.
  State ``AmsgradState``: ``count``, ``mu``, ``nu``, ``nu_max``, ``learning_rate``.

  Reproduces exactly: ``optax.amsgrad`` with the same arguments;
  ``torch.optim.Adam(amsgrad=True)`` with ``max_before_correction=True``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.amsgrad(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  denominator = rms_denominator(b2, eps, eps_root, bias_correction=bias_correction_nu,
                                correction="root" if max_before_correction else "moment",
                                amsgrad=True, dtype=nu_dtype)
  return chain(ratio(first_moment(b1, bias_correction=bias_correction_mu, dtype=mu_dtype),
                     denominator),
               scale_by_learning_rate(learning_rate))
