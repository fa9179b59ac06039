"""AMSGrad: Adam with a non-increasing effective step size."""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.fanout import ratio
from adamx._core import hyperparams as hp
from adamx._core.kernels import nondefault
from adamx._core.transform import Transform, named
from adamx._methods.branches import first_moment
from adamx._primitives.bias import bias_correct
from adamx._primitives.moments import running_max, scale_by_ema, square
from adamx._primitives.rms import add_eps, root
from adamx._primitives.scale import scale_by_learning_rate


def amsgrad(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    mu_dtype: Any = None,
    bias_correction_mu: bool = True,
    bias_correction_nu: bool = True,
    *,
    max_before_correction: bool = False,
    nu_dtype: Any = None,
) -> Transform:
  """AMSGrad (Reddi, Kale & Kumar, 2018, Algorithm 2).

  .. math::
     \\hat v^{max}_t = \\max(\\hat v^{max}_{t-1}, \\hat v_t),\\qquad
     w_t = w_{t-1} - \\eta_t\\, \\hat m_t / (\\sqrt{\\hat v^{max}_t + \\epsilon_{root}} + \\epsilon)

  The running max keeps the per-coordinate step from growing, which is what
  restores convergence on the paper's counterexample (§3). Where the max sits
  relative to the bias correction is the only difference between peers:

  * default: max of the *corrected* :math:`\\hat v_t` (Optax): denominator
    ``chain(square, scale_by_ema(b2), bias_correct(b2), running_max, root, add_eps)``;
  * ``max_before_correction=True``: max of the raw :math:`v_t`, then the
    current correction, :math:`\\sqrt{\\max_{s\\le t} v_s}/\\sqrt{1-\\beta_2^t}
    + \\epsilon` (torch ``Adam(amsgrad=True)``): ``running_max`` moves before
    the correction.

  ``bias_correction_mu=False, bias_correction_nu=False`` is the paper's
  uncorrected Algorithm 2.

  Reproduces exactly: ``optax.amsgrad`` with the same arguments;
  ``torch.optim.Adam(amsgrad=True)`` with ``max_before_correction=True``.
  """
  hp.validate("amsgrad", learning_rate=learning_rate, b1=b1, b2=b2, eps=eps, eps_root=eps_root)
  moment = [square(), scale_by_ema(b2, dtype=nu_dtype)]
  if not bias_correction_nu:
    denominator = chain(*moment, running_max(dtype=nu_dtype), root(eps_root), add_eps(eps))
  elif max_before_correction:
    denominator = chain(*moment, running_max(dtype=nu_dtype), root(eps_root),
                        bias_correct(b2, power=0.5), add_eps(eps))
  else:
    denominator = chain(*moment, bias_correct(b2), running_max(dtype=nu_dtype), root(eps_root),
                        add_eps(eps))
  return named(
      "amsgrad",
      chain(ratio(first_moment(b1, bias_correction=bias_correction_mu, dtype=mu_dtype),
                  denominator),
            scale_by_learning_rate(learning_rate)),
      learning_rate=learning_rate, b1=b1, b2=b2, eps=eps,
      **nondefault(eps_root=(eps_root, 0.0), bias_correction_mu=(bias_correction_mu, True),
                   bias_correction_nu=(bias_correction_nu, True),
                   max_before_correction=(max_before_correction, False)),
  )
