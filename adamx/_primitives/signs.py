"""The statistic a sign method takes the sign of: an EMA read with another weight.

Lion (Chen et al., 2023) keeps one moving average but reads it with a
different weight than it updates it with; :func:`interpolated_ema` is that
statistic, and ``chain(interpolated_ema(b2, b1), scale_by_sign())`` is Lion's
direction.
"""

from __future__ import annotations

from typing import Any

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import statistic
from adamx._core.transform import Transform


@primitive
def interpolated_ema(
    decay: hp.Scalar,
    interpolation: hp.Scalar,
    *,
    dtype: Any = None,
    name: str = "mu",
) -> Transform:
  """An EMA that emits an interpolation of its *previous* value and the update.

  .. math::
     c_t &= w\\, m_{t-1} + (1-w)\\, u_t \\qquad (\\text{emitted}) \\\\
     m_t &= \\beta\\, m_{t-1} + (1-\\beta)\\, u_t \\qquad (\\text{kept}),\\qquad m_0 = 0

  with :math:`\\beta` = ``decay`` and :math:`w` = ``interpolation``. With
  :math:`w = \\beta` it emits :math:`m_t` itself (``scale_by_ema(decay)``);
  Lion uses :math:`w = \\beta_1 = 0.9` and :math:`\\beta = \\beta_2 = 0.99`, so
  the step reacts to the current gradient more than the average remembers it.

  State: :math:`m` under the field ``name`` (``mu``, as Optax's
  ``ScaleByLionState``), in ``dtype`` or the parameters' dtype. Computed in
  float32 or wider; complex updates give complex :math:`c` and :math:`m`.

  Args:
    decay: :math:`\\beta`, the decay of the kept average, in ``[0, 1)``.
    interpolation: :math:`w`, the weight of :math:`m_{t-1}` in the output, in ``[0, 1]``.
    dtype: dtype of :math:`m`; defaults to the parameters'.
    name: the state field of :math:`m`.
  """

  def interpolate(u, m, *, b, w):
    return (1 - w) * u + w * m, (1 - b) * u + b * m

  return statistic("interpolated_ema", interpolate, name, 0.0, dtype, b=decay, w=interpolation)
