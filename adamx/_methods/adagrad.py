"""AdaGrad: per-coordinate steps from the sum of all past squared gradients."""

from __future__ import annotations

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.kernels import nondefault
from adamx._core.transform import Transform, named
from adamx._primitives.moments import accumulate, square
from adamx._primitives.rms import add_eps, root
from adamx._primitives.scale import identity, scale_by_learning_rate


def adagrad(
    learning_rate: hp.ScalarOrSchedule,
    initial_accumulator_value: hp.Scalar = 0.1,
    eps: hp.Scalar = 1e-7,
    *,
    eps_in_sqrt: bool = True,
) -> Transform:
  """AdaGrad (Duchi, Hazan & Singer, 2011), diagonal form.

  .. math::
     s_t = s_{t-1} + g_t^2,\\quad s_0 = \\text{initial\\_accumulator\\_value},
     \\qquad w_t = w_{t-1} - \\eta_t\\, g_t / \\sqrt{s_t + \\epsilon}

  (:math:`\\sqrt{s_t} + \\epsilon` with ``eps_in_sqrt=False``).

  Recipe: ``chain(ratio(identity, chain(square, accumulate, root, add_eps)),
  scale_by_learning_rate)``.

  Reproduces exactly: ``optax.adagrad`` with the same arguments (defaults
  0.1 and 1e-7, eps inside the root); ``torch.optim.Adagrad`` with
  ``initial_accumulator_value=0, eps=1e-10, eps_in_sqrt=False`` (see
  ``adamx.compat.torch.Adagrad`` for ``lr_decay``).
  """
  hp.validate("adagrad", learning_rate=learning_rate,
              initial_accumulator_value=initial_accumulator_value, eps=eps)
  denominator = chain(
      square(), accumulate(initial_accumulator_value),
      root(eps if eps_in_sqrt else 0.0), add_eps(0.0 if eps_in_sqrt else eps),
  )
  return named(
      "adagrad",
      chain(ratio(identity(), denominator), scale_by_learning_rate(learning_rate)),
      learning_rate=learning_rate, initial_accumulator_value=initial_accumulator_value,
      eps=eps, **nondefault(eps_in_sqrt=(eps_in_sqrt, True)),
  )
