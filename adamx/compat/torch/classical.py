"""torch.optim's classical optimizers: SGD, Adagrad, RMSprop, Adadelta and the Adam family
(Adam, AdamW, Adamax, NAdam, RAdam), each composed from adamx's arrangements.
"""

from __future__ import annotations

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.steps import step_dtype
from adamx._core.transform import Transform
from adamx._methods.adadelta import adadelta
from adamx._methods.adagrad import adagrad
from adamx._methods.adamax import adamax
from adamx._methods.arrangements import first_moment, scale_by_adam
from adamx._methods.denominators import rms_denominator
from adamx._methods.rmsprop import rmsprop
from adamx._primitives.corrections import rectify
from adamx._primitives.momentum import momentum as trace
from adamx._primitives.scale import scale_by_learning_rate
from adamx.compat.torch._form import coupled, torch_calling_form, with_weight_decay


@torch_calling_form
@method(name="torch.optim.SGD")
def SGD(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
        maximize=False, foreach=None, differentiable=False, fused=None) -> Transform:
  """``torch.optim.SGD``: momentum buffer copied undamped on its first step.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamx.compat import torch as optim
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> opt = optim.SGD(params, lr=0.1, momentum=0.9)  # as torch.optim, params ignored
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  del foreach, differentiable, fused
  if nesterov and (hp.is_zero(momentum) or not hp.is_zero(dampening)):
    raise hp.InvalidHyperparameter(
        "torch.optim.SGD: nesterov=True requires momentum > 0 and dampening=0.")
  buffer = [] if hp.is_zero(momentum) else [
      trace(momentum, nesterov=nesterov, dampening=dampening)]
  return chain(*coupled(maximize, weight_decay), *buffer, scale_by_learning_rate(lr))


@torch_calling_form
@method(name="torch.optim.Adagrad")
def Adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
            eps=1e-10, foreach=None, *, maximize=False, differentiable=False,
            fused=None) -> Transform:
  """``torch.optim.Adagrad``: eps outside the root, rate ``lr/(1 + (t-1) lr_decay)``.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamx.compat import torch as optim
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> opt = optim.Adagrad(params, lr=0.5)  # as torch.optim, params ignored
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  del foreach, differentiable, fused

  def decayed_lr(count):
    return hp.evaluate(lr, count) / (1 + count * hp.cast(lr_decay, step_dtype()))

  return chain(*coupled(maximize, weight_decay),
               adagrad(decayed_lr, initial_accumulator_value, eps, eps_in_sqrt=False))


@torch_calling_form
@method(name="torch.optim.RMSprop", specs={"alpha": hp.DECAY})
def RMSprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
            capturable=False, foreach=None, maximize=False,
            differentiable=False) -> Transform:
  """``torch.optim.RMSprop``: eps outside the root, rate after the buffer.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamx.compat import torch as optim
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> opt = optim.RMSprop(params, lr=0.01)  # as torch.optim, params ignored
    >>> state = opt.init(params)
    >>> for _ in range(200):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  del capturable, foreach, differentiable
  return chain(*coupled(maximize, weight_decay),
               rmsprop(lr, alpha, eps, eps_in_sqrt=False, centered=centered,
                       momentum=None if hp.is_zero(momentum) else momentum,
                       lr_in_momentum=False))


@torch_calling_form
@method(name="torch.optim.Adadelta")
def Adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, foreach=None, *,
             capturable=False, maximize=False, differentiable=False) -> Transform:
  """``torch.optim.Adadelta`` (Zeiler's update times ``lr``).

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamx.compat import torch as optim
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> opt = optim.Adadelta(params, lr=1.0, rho=0.9, eps=1e-3)  # as torch.optim, params ignored
    >>> state = opt.init(params)
    >>> for _ in range(200):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  del foreach, capturable, differentiable
  return chain(*coupled(maximize, 0), adadelta(lr, rho, eps, weight_decay))


def _adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled) -> Transform:
  """torch's Adam: correction after the root, AMSGrad's max of the raw ``v``."""
  b1, b2 = betas
  denominator = rms_denominator(b2, eps, correction="root", amsgrad=amsgrad)
  return with_weight_decay(ratio(first_moment(b1), denominator), lr, weight_decay,
                            maximize=maximize, decoupled=decoupled)


@torch_calling_form
@method(name="torch.optim.Adam")
def Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
         foreach=None, maximize=False, capturable=False, differentiable=False,
         fused=None, decoupled_weight_decay=False) -> Transform:
  """``torch.optim.Adam``, including ``amsgrad`` (max of the raw second moment).

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamx.compat import torch as optim
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> opt = optim.Adam(params, lr=0.1)  # as torch.optim, params ignored
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  del foreach, capturable, differentiable, fused
  return _adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay)


@torch_calling_form
@method(name="torch.optim.AdamW")
def AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
          maximize=False, foreach=None, capturable=False, differentiable=False,
          fused=None) -> Transform:
  """``torch.optim.AdamW``: ``w <- w (1 - lr wd)`` then Adam's step.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamx.compat import torch as optim
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> opt = optim.AdamW(params, lr=0.1, weight_decay=0.01)  # as torch.optim, params ignored
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0001
  """
  del foreach, capturable, differentiable, fused
  return _adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=True)


@torch_calling_form
@method(name="torch.optim.Adamax")
def Adamax(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, foreach=None, *,
           maximize=False, differentiable=False, capturable=False) -> Transform:
  """``torch.optim.Adamax``.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamx.compat import torch as optim
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> opt = optim.Adamax(params, lr=0.1)  # as torch.optim, params ignored
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  del foreach, differentiable, capturable
  return chain(*coupled(maximize, weight_decay), adamax(lr, *betas, eps))


@torch_calling_form
@method(name="torch.optim.NAdam")
def NAdam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
          decoupled_weight_decay=False, *, foreach=None, maximize=False,
          capturable=False, differentiable=False) -> Transform:
  """``torch.optim.NAdam`` with Dozat's momentum schedule ``momentum_decay``.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamx.compat import torch as optim
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> opt = optim.NAdam(params, lr=0.1)  # as torch.optim, params ignored
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  del foreach, capturable, differentiable
  direction = scale_by_adam(*betas, eps, nesterov=True, momentum_decay=momentum_decay)
  return with_weight_decay(direction, lr, weight_decay, maximize=maximize,
                            decoupled=decoupled_weight_decay)


@torch_calling_form
@method(name="torch.optim.RAdam")
def RAdam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
          decoupled_weight_decay=False, *, foreach=None, maximize=False,
          capturable=False, differentiable=False) -> Transform:
  """``torch.optim.RAdam``: eps added before the second-moment correction.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamx.compat import torch as optim
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> opt = optim.RAdam(params, lr=0.1)  # as torch.optim, params ignored
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  del foreach, capturable, differentiable
  b1, b2 = betas
  denominator = chain(rms_denominator(b2, eps, correction="eps"), rectify(b2, 5.0))
  return with_weight_decay(ratio(first_moment(b1), denominator), lr, weight_decay,
                            maximize=maximize, decoupled=decoupled_weight_decay)
