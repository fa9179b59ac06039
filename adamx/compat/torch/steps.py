"""torch.optim's step-size-adapting optimizers: Rprop (sign agreement) and ASGD
(a decaying rate and the average of the iterates)."""

from __future__ import annotations

from adamx._combinators.chain import chain
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._primitives.scale import add_decayed_weights, scale
from adamx._primitives.steps_adaptation import (
    average_iterates, scale_by_inverse_power_rate, sign_agreement_step,
)
from adamx.compat.torch._form import coupled, torch_calling_form


@torch_calling_form
@method(name="torch.optim.Rprop", specs={
    "etas": hp.Pair(("eta_minus", "eta_plus"), hp.Spec(0.0, low_open=True)),
    "step_sizes": hp.Pair(("min_step_size", "max_step_size"), hp.NONNEGATIVE)})
def Rprop(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
          maximize=False, differentiable=False) -> Transform:
  """``torch.optim.Rprop`` (iRprop⁻): ``chain(sign_agreement_step(lr, *etas, *step_sizes,
  clip_every_step=True), scale(-1))``.

  torch clips the step size into ``step_sizes`` on every step, so an ``lr``
  outside them is clipped on the first; it treats a complex entry as a pair
  of real coordinates, each with its own step size: both reproduced.
  State: ``step_size`` (torch's), ``prev_updates`` (the last step
  :math:`\\Delta_t \\operatorname{sign}(g_t)`, where torch keeps the gradient:
  the same signs).

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamx.compat import torch as optim
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> opt = optim.Rprop(params, lr=0.01)  # as torch.optim, params ignored
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  del capturable, foreach, differentiable
  return chain(*coupled(maximize, 0),
               sign_agreement_step(lr, *etas, *step_sizes, clip_every_step=True,
                                   names=("step_size", "prev_updates")),
               scale(-1.0))


@torch_calling_form
@method(name="torch.optim.ASGD", specs={"lambd": hp.NONNEGATIVE, "t0": hp.NONNEGATIVE})
def ASGD(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, foreach=None,
         maximize=False, differentiable=False, capturable=False) -> Transform:
  """``torch.optim.ASGD`` (Bottou, 2012, after Polyak & Juditsky, 1992).

  .. math::
     w_t = w_{t-1}(1 - \\lambda\\eta_t) - \\eta_t g_t,\\quad
     \\eta_t = \\frac{\\text{lr}}{(1 + \\lambda\\,\\text{lr}\\,(t-1))^{\\alpha}},\\quad
     \\bar w_t = \\bar w_{t-1} + \\frac{w_t - \\bar w_{t-1}}{\\max(1,\\ t - 1 - t_0)}

  Recipe: ``chain(add_decayed_weights(lambd), scale_by_inverse_power_rate(lr,
  lambd, alpha), average_iterates(t0))`` (after torch's coupled ``weight_decay``). The
  average :math:`\\bar w` is kept as ``ax`` and, as in torch, not applied:
  read it from the state (``optax.tree_utils.tree_get(state, "ax")``).
  State: ``count``, ``learning_rate`` (:math:`\\eta_t`, the rate applied at
  the latest step; torch's ``eta`` is the next one), ``ax``.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamx.compat import torch as optim
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> opt = optim.ASGD(params, lr=0.1)  # as torch.optim, params ignored
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  del foreach, differentiable, capturable
  decay = [] if hp.is_zero(lambd) else [add_decayed_weights(lambd)]
  return chain(*coupled(maximize, weight_decay), *decay,
               scale_by_inverse_power_rate(lr, lambd, alpha), average_iterates(t0))
