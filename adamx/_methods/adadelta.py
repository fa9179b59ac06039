"""Adadelta: RMSProp with the units corrected by an RMS of past updates."""

from __future__ import annotations

from typing import Any

import optax

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.kernels import nondefault
from adamx._core.transform import Transform, named
from adamx._primitives.rms import rms, scale_by_update_rms
from adamx._primitives.scale import add_decayed_weights, identity, scale_by_learning_rate


def adadelta(
    learning_rate: hp.ScalarOrSchedule | None = None,
    rho: hp.Scalar = 0.9,
    eps: hp.Scalar = 1e-6,
    weight_decay: hp.ScalarOrSchedule = 0.0,
    weight_decay_mask: Any = None,
) -> Transform:
  """Adadelta (Zeiler, 2012, Algorithm 1), with an optional learning rate.

  .. math::
     E[g^2]_t &= \\rho E[g^2]_{t-1} + (1-\\rho) g_t^2 \\\\
     \\Delta_t &= \\frac{\\sqrt{E[\\Delta^2]_{t-1} + \\epsilon}}
                       {\\sqrt{E[g^2]_t + \\epsilon}}\\, g_t,\\qquad
     E[\\Delta^2]_t = \\rho E[\\Delta^2]_{t-1} + (1-\\rho) \\Delta_t^2 \\\\
     w_t &= w_{t-1} - \\eta_t \\Delta_t

  with :math:`g_t` including coupled weight decay :math:`\\lambda w`.
  Recipe: ``chain(add_decayed_weights, ratio(identity, rms(rho, eps,
  eps_in_sqrt)), scale_by_update_rms(rho, eps), scale_by_learning_rate)``.

  Reproduces exactly: ``optax.adadelta`` whenever a learning rate is given;
  ``torch.optim.Adadelta(lr, rho, eps, weight_decay)``. Without a learning
  rate this is Zeiler's method (:math:`\\eta = 1`) and *descends*;
  ``optax.adadelta(learning_rate=None)`` returns :math:`+\\Delta_t` and so
  ascends.
  """
  hp.validate("adadelta", learning_rate=learning_rate, rho=rho, eps=eps,
              weight_decay=weight_decay)
  decay_weights = add_decayed_weights(weight_decay)
  if weight_decay_mask is not None:
    decay_weights = optax.masked(decay_weights, weight_decay_mask)
  return named(
      "adadelta",
      chain(
          decay_weights,
          ratio(identity(), rms(rho, eps, eps_in_sqrt=True)),
          scale_by_update_rms(rho, eps),
          scale_by_learning_rate(1.0 if learning_rate is None else learning_rate),
      ),
      learning_rate=learning_rate, rho=rho, eps=eps,
      **nondefault(weight_decay=(weight_decay, 0.0)),
  )
