"""torch.optim's optimizers as adamx transformations.

``adamx.compat.torch.Adam(lr=1e-3, weight_decay=1e-2)`` takes torch's keyword
arguments with torch's defaults and reproduces ``torch.optim.Adam``'s
parameter trajectory. Porting a PyTorch script changes one line:
``torch.optim.AdamW(model.parameters(), lr=1e-3)`` becomes
``adamx.compat.torch.AdamW(params, lr=1e-3)``. The parameters, torch's first
positional argument, are accepted there and ignored: a JAX optimizer receives
them in ``init(params)`` and ``update(grads, state, params)``. torch's
parameter groups with options of their own are taken, with a regular
expression on the leaves' key paths in place of the tensors:
``AdamW([{"params": "bias|norm", "weight_decay": 0.0}], lr=1e-3, weight_decay=0.1)``
is :func:`adamx.param_groups` (leaves no pattern matches take the top-level
arguments, where torch would leave parameters outside every group
unoptimized). A number or schedule in the parameters' place raises
``TypeError`` saying what to write instead. ``foreach``, ``fused``,
``capturable`` and ``differentiable`` are accepted and ignored too: they
choose torch kernels, not the maths.

torch's conventions, as composed here:

* ``maximize`` negates the gradient first: ``scale(-1)``.
* ``weight_decay`` is coupled L2 (``g + wd * w`` before the statistics):
  ``add_decayed_weights`` at the head of the chain; AdamW and
  ``decoupled_weight_decay=True`` put it after the statistics instead.
* eps is added outside the root, and the learning rate is applied last
  (after any momentum buffer).
* Adam's second-moment correction divides :math:`\\sqrt{v_t}` (after the
  root, before eps), and AMSGrad keeps the max of the raw :math:`v_t`:
  ``rms_denominator(correction="root")``; RAdam's correction divides
  :math:`\\sqrt{v_t} + \\epsilon` (``correction="eps"``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._combinators.groups import Group, group, param_groups
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.steps import step_dtype
from adamx._core.transform import Transform
from adamx._methods.adadelta import adadelta
from adamx._methods.adagrad import adagrad
from adamx._methods.adamax import adamax
from adamx._methods.arrangements import first_moment, rms_denominator, scale_by_adam
from adamx._methods.factored import factored_rms
from adamx._methods.rmsprop import rmsprop
from adamx._primitives.corrections import rectify
from adamx._primitives.layerwise import clip_block_rms, scale_by_param_block_rms
from adamx._primitives.momentum import momentum as trace
from adamx._primitives.scale import (
    add_decayed_weights, add_decayed_weights_at_rate, scale, scale_by_learning_rate,
)
from adamx._primitives.steps_adaptation import (
    average_iterates, scale_by_inverse_power_rate, sign_agreement_step,
)

__all__ = ["ASGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam",
           "RAdam", "RMSprop", "Rprop", "SGD"]


def _groups(owner: str, params: Any) -> dict[str, Group]:
  """torch's ``params`` argument: ignored, but for parameter groups with options of
  their own, which become :func:`adamx.param_groups` groups (selected by path pattern)."""
  cls = owner.rsplit(".", 1)[-1]
  if (callable(params) or isinstance(params, (int, float, str))
      or getattr(params, "shape", None) == ()):
    raise TypeError(
        f"{owner}: the first positional argument is torch's `params` (accepted and ignored: "
        f"adamx receives the parameters in init and update), got {params!r}. Pass the "
        f"learning rate by name: adamx.compat.torch.{cls}(lr=...) or {cls}(params, lr=...).")
  groups = {}
  for index, entry in enumerate(params if isinstance(params, (list, tuple)) else ()):
    options = {k: v for k, v in entry.items() if k != "params"} if isinstance(entry, dict) else {}
    if not options:
      continue
    if not isinstance(entry.get("params"), str):
      raise TypeError(
          f"{owner}: parameter group {index} has options ({', '.join(sorted(options))}) but "
          f"its 'params' is not a path pattern: in adamx a group's 'params' is a regular "
          f"expression searched in each leaf's key path, e.g. {{'params': 'bias|norm', "
          f"'weight_decay': 0.0}}.")
    groups[f"group{index}"] = group(entry["params"], **options)
  return groups


def _torch_calling_form(factory: Callable[..., Transform]) -> Callable[..., Transform]:
  """Lets ``factory`` be called as torch's class is: ``X(params, lr=..., ...)``.

  ``params`` (optional, positional or by name) is dropped, or read for its
  parameter groups (:func:`_groups`); the other arguments bind to torch's
  parameters in torch's order.
  """
  owner = f"torch.optim.{factory.__name__}"
  inner = inspect.signature(factory)
  params = inspect.Parameter("params", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
  signature = inner.replace(parameters=[params, *inner.parameters.values()])

  @functools.wraps(factory)
  def build(*args: Any, **kwargs: Any) -> Transform:
    arguments = signature.bind(*args, **kwargs).arguments
    groups = _groups(owner, arguments.pop("params")) if "params" in arguments else {}
    return param_groups(factory, groups=groups, **arguments) if groups else factory(**arguments)

  build.__signature__ = signature
  return build


def _coupled(maximize: bool, weight_decay: Any) -> list[Transform]:
  """torch's gradient pre-processing: negate, then add L2 decay."""
  head = [scale(-1.0)] if maximize else []
  if not hp.is_zero(weight_decay):
    head.append(add_decayed_weights(weight_decay))
  return head


def _with_weight_decay(direction: Transform, lr: Any, weight_decay: Any, *,
                       maximize: bool, decoupled: bool) -> Transform:
  """``direction`` with torch's coupled or decoupled weight decay and lr."""
  if not decoupled:
    return chain(*_coupled(maximize, weight_decay), direction, scale_by_learning_rate(lr))
  decay = [] if hp.is_zero(weight_decay) else [add_decayed_weights(weight_decay)]
  return chain(*_coupled(maximize, 0), direction, *decay, scale_by_learning_rate(lr))


@_torch_calling_form
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
  return chain(*_coupled(maximize, weight_decay), *buffer, scale_by_learning_rate(lr))


@_torch_calling_form
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

  return chain(*_coupled(maximize, weight_decay),
               adagrad(decayed_lr, initial_accumulator_value, eps, eps_in_sqrt=False))


@_torch_calling_form
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
  return chain(*_coupled(maximize, weight_decay),
               rmsprop(lr, alpha, eps, eps_in_sqrt=False, centered=centered,
                       momentum=None if hp.is_zero(momentum) else momentum,
                       lr_in_momentum=False))


@_torch_calling_form
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
  return chain(*_coupled(maximize, 0), adadelta(lr, rho, eps, weight_decay))


def _adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled) -> Transform:
  """torch's Adam: correction after the root, AMSGrad's max of the raw ``v``."""
  b1, b2 = betas
  denominator = rms_denominator(b2, eps, correction="root", amsgrad=amsgrad)
  return _with_weight_decay(ratio(first_moment(b1), denominator), lr, weight_decay,
                            maximize=maximize, decoupled=decoupled)


@_torch_calling_form
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


@_torch_calling_form
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


@_torch_calling_form
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
  return chain(*_coupled(maximize, weight_decay), adamax(lr, *betas, eps))


@_torch_calling_form
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
  return _with_weight_decay(direction, lr, weight_decay, maximize=maximize,
                            decoupled=decoupled_weight_decay)


@_torch_calling_form
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
  return _with_weight_decay(ratio(first_moment(b1), denominator), lr, weight_decay,
                            maximize=maximize, decoupled=decoupled_weight_decay)


@_torch_calling_form
def Adafactor(lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
              foreach=None, maximize=False) -> Transform:
  """``torch.optim.Adafactor``: the paper's relative step, torch's bounded denominators.

  .. math::
     \\rho_t = \\min(\\text{lr}, 1/\\sqrt t),\\quad
     w_t = w_{t-1}(1 - \\text{lr}\\,\\lambda)
       - \\rho_t \\max(\\epsilon_2, \\mathrm{RMS}(w_{t-1}))\\, \\hat U_t

  with :math:`\\hat U_t` Adafactor's clipped :math:`g/\\sqrt{\\hat V_t}`,
  :math:`\\beta_t = 1 - t^{\\text{beta2\\_decay}}`, arrays of two or more
  dimensions factored over their *last two* axes whatever their sizes, no
  :math:`\\epsilon_1` added to :math:`g^2` but the row normaliser bounded
  below by :math:`\\epsilon_1` and :math:`\\hat V` by :math:`\\epsilon_1^2`
  (``eps[0]=None``: the machine epsilon of the parameters' dtype).

  The same primitives as ``adamx.adafactor``, arranged as torch:
  ``chain(factored_rms(-beta2_decay, axes="last", floor=eps[0]),
  clip_block_rms(d), scale_by_param_block_rms(eps[1]),
  scale_by_learning_rate(min(lr, 1/sqrt(t)), flip_sign=False),
  add_decayed_weights_at_rate(lr, weight_decay), scale(-1))``.
  State: ``count``, ``row_var``, ``col_var``, ``variance`` (torch's names;
  laid out as Optax's, the reduced axis removed), ``learning_rate``
  (:math:`\\rho_t`). torch refuses complex parameters; adamx uses :math:`|g|^2`.
  ``eps`` is checked here (a pair), the other arguments by name.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamx.compat import torch as optim
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> params = jnp.zeros((2, 3), jnp.float32)
    >>> opt = optim.Adafactor(params, lr=0.1)  # as torch.optim, params ignored
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0205
  """
  del foreach
  owner = "torch.optim.Adafactor"
  if not isinstance(eps, (tuple, list)) or len(eps) != 2:
    raise hp.InvalidHyperparameter(f"{owner}: eps={eps!r} is not a pair; valid: (eps1, eps2)"
                                   " with eps1 None or >= 0 and eps2 >= 0.")
  if eps[0] is not None:
    hp.check_number(owner, "eps[0]", eps[0], hp.NONNEGATIVE)
  hp.check_number(owner, "eps[1]", eps[1], hp.NONNEGATIVE)
  return _adafactor(lr, beta2_decay, eps[0], eps[1], d, weight_decay, maximize=maximize)


@method(name="torch.optim.Adafactor", specs={"beta2_decay": hp.Spec(high=0.0), "d": hp.Spec(1.0)})
def _adafactor(lr, beta2_decay, floor, min_scale, d, weight_decay, *,
               maximize=False) -> Transform:
  """torch's Adafactor from the checked ``eps`` pair: ``floor=eps[0]``, ``min_scale=eps[1]``."""

  def relative_step(count):  # min(lr, 1/sqrt(t))
    return jnp.minimum(hp.evaluate(lr, count), 1 / jnp.sqrt(count.astype(step_dtype()) + 1))

  decay = [] if hp.is_zero(weight_decay) else [add_decayed_weights_at_rate(lr, weight_decay)]
  return chain(*_coupled(maximize, 0),
               factored_rms(-beta2_decay, axes="last", min_dim_size_to_factor=0,
                            floor=floor, names=("row_var", "col_var", "variance")),
               clip_block_rms(d), scale_by_param_block_rms(min_scale),
               scale_by_learning_rate(relative_step, flip_sign=False), *decay, scale(-1.0))


@_torch_calling_form
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
  return chain(*_coupled(maximize, 0),
               sign_agreement_step(lr, *etas, *step_sizes, clip_every_step=True,
                                   names=("step_size", "prev_updates")),
               scale(-1.0))


@_torch_calling_form
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
  return chain(*_coupled(maximize, weight_decay), *decay,
               scale_by_inverse_power_rate(lr, lambd, alpha), average_iterates(t0))
