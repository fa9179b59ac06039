"""Layer-wise methods: each leaf (a layer's array) is scaled by its own norms.

LARS, LAMB and Fromage rescale a step by the trust ratio
:math:`\\|w\\| / \\|u\\|` of its leaf (``scale_by_trust_ratio``); NovoGrad
divides the gradient by the RMS of its leaf's norm (``layer_second_moment``).
"""

from __future__ import annotations

from typing import Any

import optax

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._methods.arrangements import scale_by_adam
from adamx._primitives.elementwise import add_eps, root
from adamx._primitives.layerwise import scale_by_trust_ratio
from adamx._primitives.momentum import momentum as trace
from adamx._primitives.norms import layer_second_moment, retract
from adamx._primitives.scale import add_decayed_weights, identity, scale_by_learning_rate


@method
def lars(
    learning_rate: hp.ScalarOrSchedule,
    weight_decay: hp.ScalarOrSchedule = 0.0,
    weight_decay_mask: Any = True,
    trust_coefficient: hp.Scalar = 0.001,
    eps: hp.Scalar = 0.0,
    trust_ratio_mask: Any = True,
    momentum: hp.Scalar = 0.9,
    nesterov: bool = False,
) -> Transform:
  """LARS (You, Gitman & Ginsburg, 2017, Algorithm 1), as Optax arranges it.

  .. math::
     d_t &= g_t + \\beta w_{t-1},\\qquad
     \\lambda_t = \\eta\\, \\frac{\\|w_{t-1}\\|}{\\|d_t\\| + \\epsilon}\\quad\\text{(per leaf)} \\\\
     v_t &= \\mu v_{t-1} + \\gamma_t \\lambda_t d_t,\\qquad w_t = w_{t-1} - v_t

  with :math:`\\beta` = ``weight_decay``, :math:`\\eta` = ``trust_coefficient``,
  :math:`\\mu` = ``momentum`` (or the Nesterov step :math:`\\gamma_t\\lambda_t d_t
  + \\mu v_t`), and :math:`\\lambda_t = 1` where either norm is 0. The
  momentum accumulates rate-scaled steps, as the paper's.

  Recipe::

     chain(add_decayed_weights(weight_decay, weight_decay_mask),
           scale_by_trust_ratio(trust_coefficient=..., eps=...),
           scale_by_learning_rate(lr), momentum(momentum, nesterov, name="trace"))

  State ``LarsState``: ``count``, ``learning_rate``, ``trace`` (:math:`-v`).
  ``trust_ratio_mask=False`` leaves the trust ratio out; a tree or a
  function wraps it in ``optax.masked`` (the state then takes Optax's tuple
  layout). The two masks are checked as booleans for now (their default is
  ``True``), so they take ``True`` or ``False``; Optax also takes a tree or
  a function.

  Paper: eq. 6 divides by :math:`\\|g_t\\| + \\beta\\|w_{t-1}\\|`; Optax (and
  this) by :math:`\\|g_t + \\beta w_{t-1}\\|`. They agree for
  ``weight_decay=0`` (tested), and differ otherwise.

  Reproduces exactly: ``optax.lars`` with the same arguments.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.lars(learning_rate=2.0, momentum=0.9)
    >>> params = jnp.full(3, 0.5, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  trust = [scale_by_trust_ratio(trust_coefficient=trust_coefficient, eps=eps)]
  if trust_ratio_mask is False:
    trust = []
  elif trust_ratio_mask is not True:
    trust = [optax.masked(trust[0], trust_ratio_mask)]
  return chain(add_decayed_weights(weight_decay, weight_decay_mask), *trust,
               scale_by_learning_rate(learning_rate),
               trace(momentum, nesterov=nesterov, name="trace"))


@method
def lamb(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-6,
    eps_root: hp.Scalar = 0.0,
    weight_decay: hp.ScalarOrSchedule = 0.0,
    mask: Any = None,
) -> Transform:
  """LAMB (You et al., 2020, Algorithm 2): Adam's step, decayed, scaled by its trust ratio.

  .. math::
     r_t &= \\hat m_t / (\\sqrt{\\hat v_t + \\epsilon_{root}} + \\epsilon) + \\lambda w_{t-1} \\\\
     w_t &= w_{t-1} - \\eta_t\\, \\frac{\\|w_{t-1}\\|}{\\|r_t\\|}\\, r_t \\quad\\text{(per leaf)}

  with :math:`\\hat m, \\hat v` Adam's bias-corrected moments and the
  paper's :math:`\\phi` the identity. Where :math:`\\|w\\|` or :math:`\\|r\\|`
  is 0 the ratio is 1 (Optax's rule; the paper's step would be 0 or undefined).

  Recipe::

     chain(scale_by_adam(b1, b2, eps, eps_root), add_decayed_weights(weight_decay, mask),
           scale_by_trust_ratio(), scale_by_learning_rate(lr))

  State ``LambState``: ``count``, ``mu``, ``nu``, ``learning_rate``.

  Reproduces exactly: ``optax.lamb`` with the same arguments.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.lamb(learning_rate=0.01)
    >>> params = jnp.full(3, 0.5, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(scale_by_adam(b1, b2, eps, eps_root), add_decayed_weights(weight_decay, mask),
               scale_by_trust_ratio(), scale_by_learning_rate(learning_rate))


@method
def fromage(learning_rate: hp.ScalarOrSchedule, min_norm: hp.Scalar = 1e-6) -> Transform:
  """Fromage (Bernstein, Vahdat, Yue & Liu, 2020, Algorithm 1).

  .. math::
     w_t = \\frac{1}{\\sqrt{1 + \\eta_t^2}}
           \\left(w_{t-1} - \\eta_t \\frac{\\|w_{t-1}\\|}{\\|g_t\\|}\\, g_t\\right)
     \\quad\\text{(per leaf, both norms floored at min\\_norm)}

  A step of relative size :math:`\\eta_t` per layer, then the division that
  keeps the layer's norm when the step is orthogonal to it.

  Recipe: ``chain(scale_by_trust_ratio(min_norm), scale_by_learning_rate(lr), retract(lr))``.
  State ``FromageState``: ``count``, ``learning_rate``.

  Reproduces: ``optax.fromage`` with the same arguments, to rounding (Optax
  writes the division as a weight decay of :math:`1/s - 1` after a rate of
  :math:`\\eta/s`; the two forms differ by a rounding per step). Also defined
  for complex parameters (the norms are real), which Optax lists as
  unsupported. From all-zero parameters it needs ``min_norm=0``: with a
  floor, :math:`\\|w\\| = 0` gives steps of :math:`\\eta \\cdot` ``min_norm``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.fromage(learning_rate=0.005)
    >>> params = jnp.full(3, 0.5, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(200):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(scale_by_trust_ratio(min_norm), scale_by_learning_rate(learning_rate),
               retract(learning_rate))


@method
def novograd(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.25,
    eps: hp.Scalar = 1e-6,
    eps_root: hp.Scalar = 0.0,
    weight_decay: hp.ScalarOrSchedule = 0.0,
) -> Transform:
  """NovoGrad (Ginsburg et al., 2019, Algorithm 1): gradients normalised per layer.

  .. math::
     v_1 &= \\|g_1\\|^2,\\qquad v_t = \\beta_2 v_{t-1} + (1-\\beta_2)\\|g_t\\|^2 \\\\
     m_t &= \\beta_1 m_{t-1} + \\frac{g_t}{\\sqrt{v_t + \\epsilon_{root}} + \\epsilon}
            + \\lambda w_{t-1},\\qquad m_0 = 0 \\\\
     w_t &= w_{t-1} - \\eta_t m_t

  per leaf (one :math:`v` per layer: half Adam's memory). :math:`m` is a
  trace (no :math:`1-\\beta_1`), as the paper's.

  Recipe::

     chain(ratio(identity(), chain(layer_second_moment(b2, name="nu"),
                                   root(eps_root), add_eps(eps))),
           add_decayed_weights(weight_decay), momentum(b1, name="mu"),
           scale_by_learning_rate(lr))

  State ``NovogradState``: ``count``, ``nu`` (one 0-d array per leaf),
  ``mu``, ``learning_rate``.

  Paper: :math:`\\epsilon` is written inside the root, :math:`\\sqrt{v_t + \\epsilon}`
  (``eps=0, eps_root=ε`` here); Optax's defaults put it outside. Checked
  against the paper's loop with :math:`\\epsilon = 0` and with :math:`\\epsilon`
  inside the root.

  Reproduces exactly: ``optax.novograd`` with the same arguments.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.novograd(learning_rate=0.005)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  denominator = chain(layer_second_moment(b2, name="nu"), root(eps_root), add_eps(eps))
  return chain(ratio(identity(), denominator), add_decayed_weights(weight_decay),
               trace(b1, name="mu"), scale_by_learning_rate(learning_rate))
