"""RAdam: Adam with the variance of the adaptive step rectified."""

from __future__ import annotations

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.kernels import nondefault
from adamx._core.transform import Transform, named
from adamx._methods.branches import first_moment, rms_denominator
from adamx._primitives.bias import rectify
from adamx._primitives.scale import scale_by_learning_rate


def radam(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    threshold: hp.Scalar = 5.0,
    *,
    nesterov: bool = False,
    eps_hat: bool = False,
) -> Transform:
  """RAdam (Liu et al., 2020, Algorithm 2).

  .. math::
     w_t = w_{t-1} - \\eta_t \\begin{cases}
        r_t\\, \\hat m_t / (\\sqrt{\\hat v_t + \\epsilon_{root}} + \\epsilon) & \\rho_t \\ge \\text{threshold} \\\\
        \\hat m_t & \\text{otherwise}\\end{cases}

  with :math:`\\rho_t, r_t` as in :func:`adamx.rectify`. Recipe:
  ``ratio(first_moment(b1), chain(rms_denominator(b2), rectify(b2)))``.

  Reproduces exactly: ``optax.radam`` with the same arguments;
  ``torch.optim.RAdam(lr, betas, eps)`` with ``eps_hat=True`` (torch adds
  eps to :math:`\\sqrt{v_t}` before dividing by :math:`\\sqrt{1-\\beta_2^t}`;
  torch switches at :math:`\\rho_t > 5`, Optax at :math:`\\ge 5`, which
  differ only if :math:`\\rho_t` is exactly 5).
  """
  hp.validate("radam", learning_rate=learning_rate, b1=b1, b2=b2, eps=eps,
              eps_root=eps_root, threshold=threshold)
  return named(
      "radam",
      chain(
          ratio(first_moment(b1, nesterov=nesterov),
                chain(rms_denominator(b2, eps, eps_root, eps_hat=eps_hat),
                      rectify(b2, threshold))),
          scale_by_learning_rate(learning_rate),
      ),
      learning_rate=learning_rate, b1=b1, b2=b2, eps=eps,
      **nondefault(eps_root=(eps_root, 0.0), threshold=(threshold, 5.0),
                   nesterov=(nesterov, False), eps_hat=(eps_hat, False)),
  )
