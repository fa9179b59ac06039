"""Keras 3's optimizers as adamx transformations.

``adamx.compat.keras.Adam(learning_rate=1e-3, beta_1=0.9)`` takes Keras's
keyword arguments with Keras's defaults and reproduces
``keras.optimizers.Adam``'s parameter trajectory (checked against Keras 3 on
its JAX backend). ``learning_rate`` is a number or an Optax-style schedule
``count -> rate`` (Keras ``LearningRateSchedule`` objects are not taken).

Keras's conventions, as composed here:

* eps is added *inside* the root for RMSprop, Adagrad and Adadelta, and
  outside it for the Adam family.
* Adam uses the paper's epsilon-hat form
  :math:`\\alpha_t = \\eta\\sqrt{1-\\beta_2^t}/(1-\\beta_1^t)`,
  :math:`w \\leftarrow w - \\alpha_t m_t/(\\sqrt{v_t} + \\hat\\epsilon)`; with
  ``amsgrad`` the running max is of the raw :math:`v_t`.
* Adamax adds eps to the infinity norm :math:`u_t = \\max(\\beta_2 u_{t-1},
  |g_t|)` (Optax and torch add it to :math:`|g_t|` inside the max).
* Nadam uses Dozat's momentum schedule with :math:`\\psi = 1`:
  :math:`\\mu_t = \\beta_1(1 - \\tfrac12 0.96^t)` (torch's NAdam uses
  :math:`0.96^{0.004 t}`), i.e. ``adamx.nadam(momentum_decay=1.0)``.
* SGD and RMSprop keep the learning rate *inside* the momentum buffer
  (:math:`m \\leftarrow \\mu m - \\eta g`).
* ``weight_decay`` is decoupled and applied before the step, with the
  current rate: :math:`w \\leftarrow w - \\eta_t \\lambda w`; it never enters a
  momentum buffer or a moment. Where the step is :math:`\\eta_t d_t` this is
  ``add_decayed_weights`` before ``scale_by_learning_rate`` (as AdamW);
  with a momentum buffer the decay :math:`\\eta_t \\lambda w` is a separate
  branch subtracted from the buffer's output (``difference``), whose weight
  decay is the schedule :math:`\\eta_t \\lambda` (one learning-rate state).

Keras's gradient clipping, EMA of weights, loss scaling and gradient
accumulation are not maths of the optimizer: use ``optax.clip``,
``optax.clip_by_global_norm``, ``optax.MultiSteps``... around these
transformations. Passing them here raises ``ValueError``.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.fanout import difference, ratio
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.transform import Transform
from adamx._methods.arrangements import first_moment, scale_by_adam
from adamx._methods.denominators import infinity_denominator, rms, rms_denominator, rss_denominator
from adamx._primitives.moments import scale_by_update_rms
from adamx._primitives.momentum import momentum as trace
from adamx._primitives.scale import add_decayed_weights, identity, scale, scale_by_learning_rate

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "SGD"]

# Keras's optimizer options that are not the optimizer's maths, with Keras's defaults.
_OPTIONS = {"clipnorm": None, "clipvalue": None, "global_clipnorm": None, "use_ema": False,
            "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
            "gradient_accumulation_steps": None, "name": None}
_NOT_TAKEN = [k for k in _OPTIONS if k not in ("ema_momentum", "name")]


def _keras_options(factory: Any) -> Any:
  """Adds Keras's other options to ``factory``'s signature as keyword-only
  arguments (so ``optax.inject_hyperparams`` sees them) and rejects any that
  is set: they are not the optimizer's maths."""
  signature = inspect.signature(factory)
  extra = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v)
           for k, v in _OPTIONS.items()]

  @functools.wraps(factory)
  def build(*args: Any, **kwargs: Any) -> Transform:
    options = {k: kwargs.pop(k) for k in _OPTIONS if k in kwargs}
    given = [k for k in _NOT_TAKEN if options.get(k) not in (None, False)]
    if given:
      raise ValueError(
          f"keras.optimizers.{factory.__name__}: {given} are not supported; wrap the"
          " transformation with Optax instead (optax.clip, optax.clip_by_global_norm,"
          " optax.MultiSteps, ...).")
    return factory(*args, **kwargs)

  build.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *extra])
  return build


def _rate_times(learning_rate: Any, weight_decay: Any):
  """The schedule :math:`\\eta_t \\lambda`, so one learning-rate state serves both."""

  def rate_times_weight_decay(count):
    return hp.evaluate(learning_rate, count) * weight_decay

  return rate_times_weight_decay


def _keras(direction: Transform, learning_rate: Any, weight_decay: Any, *,
           buffer: Transform | None = None) -> Transform:
  """``direction`` times the rate (then ``buffer``), with Keras's weight decay."""
  rate = scale_by_learning_rate(learning_rate)
  if buffer is None:
    decay = [] if weight_decay is None else [add_decayed_weights(weight_decay)]
    return chain(direction, *decay, rate)
  recipe = chain(direction, rate, buffer)
  if weight_decay is None:
    return recipe
  # lr * wd * w, kept out of the buffer: the branch ignores the gradient.
  return difference(recipe, chain(scale(0.0),
                                  add_decayed_weights(_rate_times(learning_rate, weight_decay))))


@method(name="keras.optimizers.SGD")
@_keras_options
def SGD(learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None) -> Transform:
  """``keras.optimizers.SGD``: ``m <- momentum m - lr g; w <- w + m``.

  With ``nesterov``: ``w <- w + momentum m - lr g``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.compat.keras.SGD(learning_rate=0.1, momentum=0.9)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(200):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  buffer = None if hp.is_zero(momentum) else trace(momentum, nesterov=nesterov)
  return _keras(identity(), learning_rate, weight_decay, buffer=buffer)


@method(name="keras.optimizers.RMSprop")
@_keras_options
def RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
            weight_decay=None) -> Transform:
  """``keras.optimizers.RMSprop``: ``lr g / sqrt(v - [E g]^2 + eps)``, eps inside.

  Momentum accumulates the already scaled step: ``m <- momentum m + lr g/D``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.compat.keras.RMSprop(learning_rate=0.05)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  denominator = rms(rho, epsilon, eps_in_sqrt=True, centered=centered)
  buffer = None if hp.is_zero(momentum) else trace(momentum)
  return _keras(ratio(identity(), denominator), learning_rate, weight_decay, buffer=buffer)


@method(name="keras.optimizers.Adagrad")
@_keras_options
def Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
            weight_decay=None) -> Transform:
  """``keras.optimizers.Adagrad``: ``lr g / sqrt(s + eps)``, ``s_0 = 0.1``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.compat.keras.Adagrad(learning_rate=0.5)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  denominator = rss_denominator(initial_accumulator_value, epsilon)
  return _keras(ratio(identity(), denominator), learning_rate, weight_decay)


@method(name="keras.optimizers.Adadelta")
@_keras_options
def Adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None) -> Transform:
  """``keras.optimizers.Adadelta``: Zeiler's step times ``learning_rate``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.compat.keras.Adadelta(learning_rate=1.0, epsilon=1e-3)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  direction = chain(ratio(identity(), rms(rho, epsilon, eps_in_sqrt=True, name="e_g")),
                    scale_by_update_rms(rho, epsilon, name="e_x"))
  return _keras(direction, learning_rate, weight_decay)


def _adam(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay) -> Transform:
  """Keras's Adam: the epsilon-hat form, AMSGrad's max of the raw second moment."""
  denominator = rms_denominator(beta_2, epsilon, correction="eps", amsgrad=amsgrad)
  return _keras(ratio(first_moment(beta_1), denominator), learning_rate, weight_decay)


@method(name="keras.optimizers.Adam")
@_keras_options
def Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
         weight_decay=None) -> Transform:
  """``keras.optimizers.Adam``: epsilon-hat form; ``amsgrad`` takes the max of raw ``v``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.compat.keras.Adam(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return _adam(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay)


@method(name="keras.optimizers.AdamW")
@_keras_options
def AdamW(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
          epsilon=1e-7, amsgrad=False) -> Transform:
  """``keras.optimizers.AdamW``: :func:`Adam` with ``weight_decay=0.004``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.compat.keras.AdamW(learning_rate=0.1, weight_decay=0.004)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  return _adam(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay)


@method(name="keras.optimizers.Adamax")
@_keras_options
def Adamax(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
           weight_decay=None) -> Transform:
  """``keras.optimizers.Adamax``: ``lr m / ((1 - b1^t)(u + eps))``, ``u = max(b2 u, |g|)``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.compat.keras.Adamax(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(150):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  denominator = infinity_denominator(beta_2, epsilon, eps_in_max=False)
  return _keras(ratio(first_moment(beta_1), denominator), learning_rate,
                weight_decay)


@method(name="keras.optimizers.Nadam")
@_keras_options
def Nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
          weight_decay=None) -> Transform:
  """``keras.optimizers.Nadam``: Dozat's schedule ``mu_t = b1 (1 - 0.5 * 0.96^t)``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.compat.keras.Nadam(learning_rate=0.1)
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  direction = scale_by_adam(beta_1, beta_2, epsilon, nesterov=True, momentum_decay=1.0)
  return _keras(direction, learning_rate, weight_decay)
