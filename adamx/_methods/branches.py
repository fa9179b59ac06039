"""The two branches the Adam family shares: first moment and RMS denominator."""

from __future__ import annotations

from typing import Any

from adamx._combinators.chain import chain
from adamx._core import hyperparams as hp
from adamx._core.transform import Transform
from adamx._primitives.bias import bias_correct, nesterov_ema
from adamx._primitives.moments import scale_by_ema, square
from adamx._primitives.rms import add_eps, root


def first_moment(
    b1: hp.Scalar,
    *,
    nesterov: bool = False,
    bias_correction: bool = True,
    momentum_decay: hp.Scalar | None = None,
    dtype: Any = None,
) -> Transform:
  """:math:`\\hat m_t`: the EMA of raw gradients, corrected and/or look-ahead."""
  if nesterov and bias_correction:
    return nesterov_ema(b1, momentum_decay=momentum_decay, dtype=dtype)
  if bias_correction:
    return chain(scale_by_ema(b1, dtype=dtype), bias_correct(b1))
  return scale_by_ema(b1, nesterov=nesterov, dtype=dtype)


def rms_denominator(
    b2: hp.Scalar,
    eps: hp.Scalar,
    eps_root: hp.Scalar = 0.0,
    *,
    bias_correction: bool = True,
    eps_hat: bool = False,
    dtype: Any = None,
) -> Transform:
  """:math:`\\sqrt{\\hat v_t + \\epsilon_{root}} + \\epsilon` of raw gradients.

  With ``eps_hat`` eps is added before the correction, as in Kingma & Ba's
  :math:`\\hat\\epsilon` form (Keras Adam, torch RAdam):
  :math:`(\\sqrt{v_t + \\epsilon_{root}} + \\hat\\epsilon)/\\sqrt{1-\\beta_2^t}`.
  """
  moment = [square(), scale_by_ema(b2, dtype=dtype)]
  if not bias_correction:
    return chain(*moment, root(eps_root), add_eps(eps))
  if eps_hat:
    return chain(*moment, root(eps_root), add_eps(eps), bias_correct(b2, power=0.5))
  return chain(*moment, bias_correct(b2), root(eps_root), add_eps(eps))
