"""Optimistic gradient descent and optimistic Adam: :math:`\\alpha u_t + \\beta (u_t - u_{t-1})`.

The direction is ``linear`` over the updates and their change
(:func:`~adamx._methods.terms.change`, ``lag`` underneath); a coefficient
that is a schedule is evaluated at the shared step ``count``.
"""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.fanout import linear
from adamx._core import hyperparams as hp
from adamx._core.declare import arrangement, method
from adamx._core.transform import Transform
from adamx._methods.arrangements import scale_by_adam
from adamx._methods.terms import change, term
from adamx._primitives.scale import identity, scale, scale_by_learning_rate


@arrangement
def scale_by_optimistic_gradient(
    alpha: hp.ScalarOrSchedule = 1.0, beta: hp.ScalarOrSchedule = 1.0
) -> Transform:
  """Generalized optimistic gradient, as ``optax.scale_by_optimistic_gradient``.

  .. math::  u_t \\mapsto \\alpha_t u_t + \\beta_t (u_t - u_{t-1}),\\qquad u_0 := u_1

  that is :math:`(\\alpha+\\beta) u_t - \\beta u_{t-1}` (Mokhtari et al., 2020,
  generalized OGDA), :math:`\\alpha u_1` on the first step.

  Recipe: ``linear((alpha, identity()), (beta, linear((1, identity()),
  (-1, lag(first_step_current=True, name="previous_gradient")))))``; a
  scheduled coefficient is ``scale_by_schedule`` at the end of its branch.
  State: ``count``; ``previous_gradient`` (:math:`u_{t-1}`, Optax's name).

  Optax's annotations allow schedules for ``alpha`` and ``beta`` but its code
  cannot use them; adamx evaluates them at ``count`` = 0, 1, ...

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.chain(
    ...   adamx.scale_by_optimistic_gradient(alpha=1.0, beta=1.0),
    ...   adamx.scale_by_learning_rate(0.1))
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return linear(term(alpha, identity()), term(beta, change("previous_gradient")))


@method
def optimistic_gradient_descent(
    learning_rate: hp.ScalarOrSchedule,
    alpha: hp.ScalarOrSchedule = 1.0,
    beta: hp.ScalarOrSchedule = 1.0,
) -> Transform:
  """Optimistic gradient descent (Mokhtari, Ozdaglar & Pattathil, 2020).

  .. math::
     w_{t+1} = w_t - \\eta_t \\left((\\alpha_t + \\beta_t)\\, g_t - \\beta_t\\, g_{t-1}\\right),
     \\qquad g_0 := g_1

  With :math:`\\eta` absorbed, it is the paper's generalized OGDA
  :math:`x_{k+1} = x_k - (\\alpha+\\beta) F(x_k) + \\beta F(x_{k-1})`; with
  :math:`\\alpha = \\beta = 1` it is OGDA, :math:`x_{k+1} = x_k - 2\\eta F(x_k)
  + \\eta F(x_{k-1})`. The first step uses :math:`g_0 := g_1` (the paper's
  :math:`x_{-1} = x_0`), so it is :math:`-\\eta\\alpha g_1`.

  Recipe: ``chain(scale_by_optimistic_gradient(alpha, beta), scale_by_learning_rate(lr))``.
  State ``OptimisticGradientDescentState``: ``count``, ``previous_gradient``,
  ``learning_rate``.

  Reproduces exactly: ``optax.optimistic_gradient_descent`` with the same
  arguments (constant ``alpha``/``beta``; adamx also takes schedules, see
  :func:`scale_by_optimistic_gradient`).

  Args:
    learning_rate: :math:`\\eta_t`, a number or a schedule.
    alpha: weight of the current gradient, a number or a schedule.
    beta: weight of the gradient's change (the optimism), a number or a schedule.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.optimistic_gradient_descent(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(scale_by_optimistic_gradient(alpha, beta), scale_by_learning_rate(learning_rate))


@method
def optimistic_adam_v2(
    learning_rate: hp.ScalarOrSchedule,
    *,
    alpha: hp.ScalarOrSchedule = 1.0,
    beta: hp.ScalarOrSchedule = 1.0,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    mu_dtype: Any = None,
    nesterov: bool = True,
) -> Transform:
  """Optimistic Adam (Daskalakis et al., 2018), Optax's re-worked interface.

  .. math::
     r_t &= \\hat m_t / (\\sqrt{\\hat v_t + \\epsilon_{root}} + \\epsilon)
     \\quad(\\text{Adam's direction; Dozat's Nesterov moment with } \\texttt{nesterov}) \\\\
     w_{t+1} &= w_t - \\eta_t \\left(\\alpha_t r_t + \\beta_t (r_t - r_{t-1})\\right),
     \\qquad r_0 := r_1

  Recipe: ``chain(scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
  scale_by_optimistic_gradient(alpha, beta), scale_by_learning_rate(lr))``.
  State ``OptimisticAdamV2State``: ``count``, ``mu``, ``nu`` (and ``mu_product``
  with ``nesterov``), ``previous_gradient`` (:math:`r_{t-1}`), ``learning_rate``.

  Reproduces exactly: ``optax.optimistic_adam_v2`` with the same arguments.
  The paper's Algorithm 1 is ``nesterov=False, alpha=beta=η, learning_rate=1``
  from the second step on; its first step is :math:`-2\\eta r_1` (its
  :math:`\\hat m_0` term is 0) where Optax's, and this, is :math:`-\\eta r_1`
  (:math:`r_0 := r_1`). Optax's default ``nesterov=True`` is not the paper's.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.optimistic_adam_v2(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
               scale_by_optimistic_gradient(alpha, beta),
               scale_by_learning_rate(learning_rate))


@method
def optimistic_adam(
    learning_rate: hp.ScalarOrSchedule,
    optimism: hp.ScalarOrSchedule | None = None,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = True,
) -> Transform:
  """Optimistic Adam (Daskalakis et al., 2018), Optax's first interface.

  .. math::  w_{t+1} = w_t - \\left(\\eta_t r_t + o_t (r_t - r_{t-1})\\right),\\qquad r_0 := r_1

  with :math:`r_t` Adam's direction (as :func:`optimistic_adam_v2`) and the
  optimism :math:`o` defaulting to :math:`\\eta` (the paper's
  :math:`w_t = w_{t-1} - 2\\eta r_t + \\eta r_{t-1}`). It is
  ``optimistic_adam_v2(1.0, alpha=learning_rate, beta=optimism)`` with the
  sign flipped by ``scale(-1)`` instead of a unit learning rate, so the state
  has no ``learning_rate`` field (the rate is the coefficient ``alpha``).

  Recipe: ``chain(scale_by_adam(...), scale_by_optimistic_gradient(lr, optimism), scale(-1))``.
  State ``OptimisticAdamState``: ``count``, ``mu``, ``nu`` (and ``mu_product``),
  ``previous_gradient``.

  Reproduces exactly: ``optax.optimistic_adam`` with the same arguments
  (deprecated there in favour of ``optimistic_adam_v2``). Optax refuses a
  learning-rate schedule here; adamx evaluates it, and a scheduled optimism,
  at ``count`` = 0, 1, ...

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.optimistic_adam(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return chain(scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
               scale_by_optimistic_gradient(learning_rate,
                                            learning_rate if optimism is None else optimism),
               scale(-1.0))
