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
  with a momentum buffer the decay is a separate branch subtracted from the
  buffer's output (``difference``).

Keras's gradient clipping, EMA of weights, loss scaling and gradient
accumulation are not maths of the optimizer: use ``optax.clip``,
``optax.clip_by_global_norm``, ``optax.MultiSteps``... around these
transformations. Passing them here raises ``ValueError``.
"""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.fanout import difference, ratio
from adamx._core import hyperparams as hp
from adamx._core.transform import Transform, named
from adamx._methods.adam import scale_by_adam
from adamx._methods.branches import first_moment
from adamx._primitives.bias import bias_correct
from adamx._primitives.moments import accumulate, infinity_moment, running_max, scale_by_ema, square
from adamx._primitives.momentum import momentum as momentum_trace
from adamx._primitives.rms import add_eps, rms, root, scale_by_update_rms
from adamx._primitives.scale import add_decayed_weights, identity, scale, scale_by_learning_rate

_NOT_TAKEN = ("clipnorm", "clipvalue", "global_clipnorm", "use_ema",
              "ema_overwrite_frequency", "loss_scale_factor",
              "gradient_accumulation_steps")



def _check_options(owner: str, options: dict[str, Any]) -> None:
  """Rejects Keras options that are not the optimizer's maths."""
  unknown = set(options) - {*_NOT_TAKEN, "ema_momentum", "name"}
  if unknown:
    raise TypeError(f"{owner}: unexpected keyword arguments {sorted(unknown)}.")
  given = [k for k in _NOT_TAKEN if options.get(k) not in (None, False)]
  if given:
    raise ValueError(
        f"{owner}: {given} are not supported; wrap the transformation with Optax"
        " instead (optax.clip, optax.clip_by_global_norm, optax.MultiSteps, ...)."
    )


def _keras(
    owner: str, direction: Transform, learning_rate: Any, weight_decay: Any,
    options: dict[str, Any], *, buffer: Transform | None = None, **hyperparams: Any,
) -> Transform:
  """``direction`` times the rate (then ``buffer``), with Keras's weight decay."""
  _check_options(owner, options)
  hp.validate(owner, learning_rate=learning_rate, weight_decay=weight_decay)
  rate = scale_by_learning_rate(learning_rate)
  if buffer is None:
    decay = [] if weight_decay is None else [add_decayed_weights(weight_decay)]
    recipe = chain(direction, *decay, rate)
  else:
    recipe = chain(direction, rate, buffer)
    if weight_decay is not None:
      # lr * wd * w, kept out of the buffer: the branch ignores the gradient.
      recipe = difference(
          recipe,
          chain(scale(0.0), add_decayed_weights(weight_decay),
                scale_by_learning_rate(learning_rate, flip_sign=False)),
      )
  return named(f"keras.optimizers.{owner}", recipe, learning_rate=learning_rate,
               **hyperparams, weight_decay=weight_decay)


def SGD(learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
        **options) -> Transform:
  """``keras.optimizers.SGD``: ``m <- momentum m - lr g; w <- w + m``.

  With ``nesterov``: ``w <- w + momentum m - lr g``.
  """
  hp.validate("SGD", momentum=momentum)
  buffer = None if hp.is_zero(momentum) else momentum_trace(momentum, nesterov=nesterov)
  return _keras("SGD", identity(), learning_rate, weight_decay, options, buffer=buffer,
                momentum=momentum, nesterov=nesterov)


def RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
            weight_decay=None, **options) -> Transform:
  """``keras.optimizers.RMSprop``: ``lr g / sqrt(v - [E g]^2 + eps)``, eps inside.

  Momentum accumulates the already scaled step: ``m <- momentum m + lr g/D``.
  """
  hp.validate("RMSprop", rho=rho, momentum=momentum, epsilon=epsilon)
  denominator = rms(rho, epsilon, eps_in_sqrt=True, centered=centered)
  buffer = None if hp.is_zero(momentum) else momentum_trace(momentum)
  return _keras("RMSprop", ratio(identity(), denominator), learning_rate, weight_decay,
                options, buffer=buffer, rho=rho, momentum=momentum, epsilon=epsilon,
                centered=centered)


def Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
            weight_decay=None, **options) -> Transform:
  """``keras.optimizers.Adagrad``: ``lr g / sqrt(s + eps)``, ``s_0 = 0.1``."""
  hp.validate("Adagrad", initial_accumulator_value=initial_accumulator_value,
              epsilon=epsilon)
  denominator = chain(square(), accumulate(initial_accumulator_value), root(epsilon))
  return _keras("Adagrad", ratio(identity(), denominator), learning_rate, weight_decay,
                options, initial_accumulator_value=initial_accumulator_value,
                epsilon=epsilon)


def Adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None,
             **options) -> Transform:
  """``keras.optimizers.Adadelta``: Zeiler's step times ``learning_rate``."""
  hp.validate("Adadelta", rho=rho, epsilon=epsilon)
  direction = chain(ratio(identity(), rms(rho, epsilon, eps_in_sqrt=True)),
                    scale_by_update_rms(rho, epsilon))
  return _keras("Adadelta", direction, learning_rate, weight_decay, options,
                rho=rho, epsilon=epsilon)


def Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
         weight_decay=None, **options) -> Transform:
  """``keras.optimizers.Adam``: epsilon-hat form; ``amsgrad`` takes the max of raw ``v``."""
  hp.validate("Adam", beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
  maximum = [running_max()] if amsgrad else []
  denominator = chain(square(), scale_by_ema(beta_2), *maximum, root(), add_eps(epsilon),
                      bias_correct(beta_2, power=0.5))
  return _keras("Adam", ratio(first_moment(beta_1), denominator), learning_rate,
                weight_decay, options, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                amsgrad=amsgrad)


def AdamW(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
          epsilon=1e-7, amsgrad=False, **options) -> Transform:
  """``keras.optimizers.AdamW``: :func:`Adam` with ``weight_decay=0.004``."""
  adam = Adam(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, **options)
  return named("keras.optimizers.AdamW", adam.parts[0][1], **adam.hyperparams)


def Adamax(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
           weight_decay=None, **options) -> Transform:
  """``keras.optimizers.Adamax``: ``lr m / ((1 - b1^t)(u + eps))``, ``u = max(b2 u, |g|)``."""
  hp.validate("Adamax", beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
  denominator = chain(infinity_moment(beta_2, 0.0), add_eps(epsilon))
  return _keras("Adamax", ratio(first_moment(beta_1), denominator), learning_rate,
                weight_decay, options, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)


def Nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
          weight_decay=None, **options) -> Transform:
  """``keras.optimizers.Nadam``: Dozat's schedule ``mu_t = b1 (1 - 0.5 * 0.96^t)``."""
  hp.validate("Nadam", beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
  direction = scale_by_adam(beta_1, beta_2, epsilon, nesterov=True, momentum_decay=1.0)
  return _keras("Nadam", direction, learning_rate, weight_decay, options,
                beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
