"""torch.optim's optimizers as adamx transformations.

``adamx.compat.torch.Adam(lr=1e-3, weight_decay=1e-2)`` takes torch's keyword
arguments with torch's defaults and reproduces ``torch.optim.Adam``'s
parameter trajectory. Porting a PyTorch script changes one line. The
``params`` argument is not taken (call ``init(params)`` as with any Optax
transformation); ``foreach``, ``fused``, ``capturable`` and
``differentiable`` are accepted and ignored: they choose torch kernels, not
the maths.

torch's conventions, as composed here:

* ``maximize`` negates the gradient first: ``scale(-1)``.
* ``weight_decay`` is coupled L2 (``g + wd * w`` before the statistics):
  ``add_decayed_weights`` at the head of the chain; AdamW and
  ``decoupled_weight_decay=True`` put it after the statistics instead.
* eps is added outside the root, and the learning rate is applied last
  (after any momentum buffer).
"""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.kernels import step_dtype
from adamx._core.transform import Transform, named
from adamx._methods.adadelta import adadelta
from adamx._methods.adagrad import adagrad
from adamx._methods.adam import scale_by_adam
from adamx._methods.adamax import adamax
from adamx._methods.branches import first_moment
from adamx._methods.rmsprop import rmsprop
from adamx._primitives.bias import bias_correct, rectify
from adamx._primitives.moments import running_max, scale_by_ema, square
from adamx._primitives.momentum import momentum as momentum_trace
from adamx._primitives.rms import add_eps, root
from adamx._primitives.scale import add_decayed_weights, scale, scale_by_learning_rate



def _coupled(maximize: bool, weight_decay: Any) -> list[Transform]:
  """torch's gradient pre-processing: negate, then add L2 decay."""
  head = [scale(-1.0)] if maximize else []
  if not hp.is_zero(weight_decay):
    head.append(add_decayed_weights(weight_decay))
  return head


def _with_weight_decay(
    owner: str, direction: Transform, lr: Any, weight_decay: Any, *,
    maximize: bool, decoupled: bool, **hyperparams: Any,
) -> Transform:
  """``direction`` with torch's coupled or decoupled weight decay and lr."""
  if decoupled:
    parts = [*_coupled(maximize, 0), direction]
    if not hp.is_zero(weight_decay):
      parts.append(add_decayed_weights(weight_decay))
  else:
    parts = [*_coupled(maximize, weight_decay), direction]
  return named(owner, chain(*parts, scale_by_learning_rate(lr)), lr=lr,
               weight_decay=weight_decay, maximize=maximize, **hyperparams)


def SGD(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
        maximize=False, foreach=None, differentiable=False, fused=None) -> Transform:
  """``torch.optim.SGD``: momentum buffer copied undamped on its first step."""
  del foreach, differentiable, fused
  hp.validate("SGD", lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
  if nesterov and (hp.is_zero(momentum) or not hp.is_zero(dampening)):
    raise ValueError("SGD: nesterov=True requires momentum > 0 and dampening=0.")
  buffer = [] if hp.is_zero(momentum) else [
      momentum_trace(momentum, nesterov=nesterov, dampening=dampening)]
  return named(
      "torch.optim.SGD",
      chain(*_coupled(maximize, weight_decay), *buffer, scale_by_learning_rate(lr)),
      lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
      nesterov=nesterov, maximize=maximize,
  )


def Adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
            eps=1e-10, foreach=None, *, maximize=False, differentiable=False,
            fused=None) -> Transform:
  """``torch.optim.Adagrad``: eps outside the root, rate ``lr/(1 + (t-1) lr_decay)``."""
  del foreach, differentiable, fused
  hp.validate("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
              initial_accumulator_value=initial_accumulator_value, eps=eps)

  def decayed_lr(count):
    return hp.evaluate(lr, count) / (1 + count * hp.cast(lr_decay, step_dtype()))

  return named(
      "torch.optim.Adagrad",
      chain(*_coupled(maximize, weight_decay),
            adagrad(decayed_lr, initial_accumulator_value, eps, eps_in_sqrt=False)),
      lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
      initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize,
  )


def RMSprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
            capturable=False, foreach=None, maximize=False,
            differentiable=False) -> Transform:
  """``torch.optim.RMSprop``: eps outside the root, rate after the buffer."""
  del capturable, foreach, differentiable
  hp.validate("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
              momentum=momentum)
  return named(
      "torch.optim.RMSprop",
      chain(*_coupled(maximize, weight_decay),
            rmsprop(lr, alpha, eps, eps_in_sqrt=False, centered=centered,
                    momentum=None if hp.is_zero(momentum) else momentum,
                    lr_in_momentum=False)),
      lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
      centered=centered, maximize=maximize,
  )


def Adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, foreach=None, *,
             capturable=False, maximize=False, differentiable=False) -> Transform:
  """``torch.optim.Adadelta`` (Zeiler's update times ``lr``)."""
  del foreach, capturable, differentiable
  hp.validate("Adadelta", lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
  return named(
      "torch.optim.Adadelta",
      chain(*_coupled(maximize, 0), adadelta(lr, rho, eps, weight_decay)),
      lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
  )


def _torch_adam_denominator(b2, eps, amsgrad: bool) -> Transform:
  """torch's ``sqrt(v)/sqrt(1-b2^t) + eps``, with the max of raw ``v`` for AMSGrad."""
  maximum = [running_max()] if amsgrad else []
  return chain(square(), scale_by_ema(b2), *maximum, root(), bias_correct(b2, power=0.5),
               add_eps(eps))


def Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
         foreach=None, maximize=False, capturable=False, differentiable=False,
         fused=None, decoupled_weight_decay=False) -> Transform:
  """``torch.optim.Adam``, including ``amsgrad`` (max of the raw second moment)."""
  del foreach, capturable, differentiable, fused
  b1, b2 = betas
  hp.validate("Adam", lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay)
  direction = ratio(first_moment(b1), _torch_adam_denominator(b2, eps, amsgrad))
  return _with_weight_decay(
      "torch.optim.AdamW" if decoupled_weight_decay else "torch.optim.Adam",
      direction, lr, weight_decay, maximize=maximize, decoupled=decoupled_weight_decay,
      betas=betas, eps=eps, amsgrad=amsgrad,
  )


def AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
          maximize=False, foreach=None, capturable=False, differentiable=False,
          fused=None) -> Transform:
  """``torch.optim.AdamW``: ``w <- w (1 - lr wd)`` then Adam's step."""
  return Adam(lr, betas, eps, weight_decay, amsgrad, maximize=maximize, foreach=foreach,
              capturable=capturable, differentiable=differentiable, fused=fused,
              decoupled_weight_decay=True)


def Adamax(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, foreach=None, *,
           maximize=False, differentiable=False, capturable=False) -> Transform:
  """``torch.optim.Adamax``."""
  del foreach, differentiable, capturable
  b1, b2 = betas
  hp.validate("Adamax", lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay)
  return named(
      "torch.optim.Adamax",
      chain(*_coupled(maximize, weight_decay), adamax(lr, b1, b2, eps)),
      lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
  )


def NAdam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
          decoupled_weight_decay=False, *, foreach=None, maximize=False,
          capturable=False, differentiable=False) -> Transform:
  """``torch.optim.NAdam`` with Dozat's momentum schedule ``momentum_decay``."""
  del foreach, capturable, differentiable
  b1, b2 = betas
  hp.validate("NAdam", lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay,
              momentum_decay=momentum_decay)
  direction = scale_by_adam(b1, b2, eps, nesterov=True, momentum_decay=momentum_decay)
  return _with_weight_decay(
      "torch.optim.NAdam", direction, lr, weight_decay, maximize=maximize,
      decoupled=decoupled_weight_decay, betas=betas, eps=eps,
      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
  )


def RAdam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
          decoupled_weight_decay=False, *, foreach=None, maximize=False,
          capturable=False, differentiable=False) -> Transform:
  """``torch.optim.RAdam``: eps added before the second-moment correction."""
  del foreach, capturable, differentiable
  b1, b2 = betas
  hp.validate("RAdam", lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay)
  denominator = chain(square(), scale_by_ema(b2), root(), add_eps(eps),
                      bias_correct(b2, power=0.5), rectify(b2, 5.0))
  return _with_weight_decay(
      "torch.optim.RAdam", ratio(first_moment(b1), denominator), lr, weight_decay,
      maximize=maximize, decoupled=decoupled_weight_decay, betas=betas, eps=eps,
      decoupled_weight_decay=decoupled_weight_decay,
  )
