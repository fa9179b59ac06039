"""RMSProp: divide by a running RMS of raw gradients; momentum on the result."""

from __future__ import annotations

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._methods.denominators import rms
from adamx._primitives.momentum import momentum as trace
from adamx._primitives.scale import identity, scale_by_learning_rate


@method
def rmsprop(
    learning_rate: hp.ScalarOrSchedule,
    decay: hp.Scalar = 0.9,
    eps: hp.Scalar = 1e-8,
    initial_scale: hp.Scalar = 0.0,
    eps_in_sqrt: bool = True,
    centered: bool = False,
    momentum: hp.Scalar | None = None,
    nesterov: bool = False,
    bias_correction: bool = False,
    *,
    lr_in_momentum: bool = True,
) -> Transform:
  """RMSProp (Hinton, 2012; Graves, 2013 for the centered form).

  .. math::
     v_t &= \\rho v_{t-1} + (1-\\rho) g_t^2, \\quad v_0 = \\text{initial\\_scale} \\\\
     \\tilde g_t &= g_t / \\sqrt{v_t - \\bar g_t^2 + \\epsilon}
       \\qquad (\\bar g_t = \\text{EMA of } g \\text{ if centered, else } 0) \\\\
     b_t &= \\mu b_{t-1} + \\eta_t \\tilde g_t, \\qquad w_t = w_{t-1} - b_t

  Momentum acts on the *already rescaled* gradient :math:`\\tilde g`; that is
  the difference from Adam, which averages raw gradients. With
  ``lr_in_momentum=False`` the rate is applied after the buffer
  (:math:`b_t = \\mu b_{t-1} + \\tilde g_t,\\; w_t = w_{t-1} - \\eta_t b_t`);
  the two agree for a constant rate and differ under a schedule.

  State ``RmspropState``: ``count``, ``nu`` (:math:`v`), ``mu``
  (:math:`\\bar g`, centered), ``trace`` (:math:`b`, with momentum), ``learning_rate``.

  Reproduces exactly: ``optax.rmsprop`` with the same arguments (eps inside
  the root, rate inside the buffer, as TF/Keras); ``torch.optim.RMSprop(lr,
  alpha, eps, momentum, centered)`` with ``decay=alpha, eps_in_sqrt=False,
  lr_in_momentum=False``.

  Args:
    learning_rate: :math:`\\eta_t`, a number or a schedule.
    decay: :math:`\\rho` in ``[0, 1)`` (torch's ``alpha``).
    eps: :math:`\\epsilon`.
    initial_scale: :math:`v_0`.
    eps_in_sqrt: eps inside the root (Optax) or outside (torch).
    centered: subtract the squared mean gradient (Graves).
    momentum: :math:`\\mu` in ``[0, 1)``, or None (no buffer).
    nesterov: Nesterov look-ahead on the buffer.
    bias_correction: divide both EMAs by :math:`1-\\rho^t`.
    lr_in_momentum: apply the rate before the buffer (Optax) or after (torch).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.rmsprop(learning_rate=0.05)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  denominator = rms(decay, eps, eps_in_sqrt=eps_in_sqrt, bias_correction=bias_correction,
                    initial_scale=initial_scale, centered=centered)
  rate = scale_by_learning_rate(learning_rate)
  if momentum is None:
    tail = [rate]
  else:
    buffer = trace(momentum, nesterov=nesterov)
    tail = [rate, buffer] if lr_in_momentum else [buffer, rate]
  return chain(ratio(identity(), denominator), *tail)
