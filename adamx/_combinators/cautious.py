"""Cautious masking (Liang et al., 2024): keep a direction only where it
agrees in sign with the current gradient."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from adamx._combinators.parts import Parts
from adamx._core import hyperparams as hp
from adamx._core.checks import refuse_complex
from adamx._core.lift import cast
from adamx._core.transform import Transform, transform


class CautiousState(NamedTuple):
  """State of a cautious Optax transformation (an adamx one keeps its own record)."""

  inner: Any


def _descends(t: Any) -> bool:
  """Whether a recipe already contains a descent step (``scale_by_learning_rate``)."""
  if getattr(t, "name", None) == "scale_by_learning_rate":
    return bool(t.hyperparams.get("flip_sign", True))
  return any(_descends(part) for _, part in getattr(t, "parts", ()))


def _mask_leaf(g: Any, u: Any, eps: Any) -> jax.Array:
  """``u * phi / (mean(phi) + xi)``, ``phi = 1[u g > 0]``, in float32 or wider."""
  g, u = jnp.asarray(g), jnp.asarray(u)
  for x in (g, u):
    refuse_complex("cautious", x, "have no sign to agree with the gradient's; the cautious"
                   " mask is defined for real parameters only")
  if u.size == 0:
    return u
  d = hp.compute_dtype(g.dtype, u.dtype)
  g_, u_ = cast(g, d), cast(u, d)
  agree = (u_ * g_ > 0).astype(d)
  kept = jnp.sum(agree)
  if eps is None:  # d / (nnz + 1): the authors' original code
    scale = agree.size / (kept + 1)
  else:  # 1 / (mean + eps): the paper's Algorithm 1 (v4)
    mean = kept / agree.size
    total = mean + hp.cast(eps, d)
    scale = jnp.where(total > 0, 1 / jnp.where(total > 0, total, 1), 0)
  return cast(u_ * agree * scale, jnp.result_type(u))


def cautious(inner: optax.GradientTransformation, *, eps: hp.Scalar | None = None) -> Transform:
  """The cautious version of a direction: masked where it disagrees with the gradient.

  Liang, Chen, Liu & Liu (2024), "Cautious Optimizers: Improving Training
  with One Line of Code". With :math:`u_t` the inner transformation's output
  for the gradient :math:`g_t` (a *direction*, gradient-signed, that a later
  ``scale_by_learning_rate`` turns into the step
  :math:`w_t = w_{t-1} - \\eta_t \\bar u_t`):

  .. math::
     \\phi_t = \\mathbb{1}[u_t \\circ g_t > 0],\\qquad
     \\bar u_t = \\frac{u_t \\circ \\phi_t}{\\operatorname{mean}(\\phi_t) + \\xi}

  per leaf, with :math:`\\xi = 1/d` (:math:`d` the leaf's size), i.e. the
  rescaled rate :math:`\\eta\\, d / (\\lVert\\phi_t\\rVert_0 + 1)` of the authors'
  original code (``mask * (mask.numel() / (mask.sum() + 1))``); or
  :math:`\\xi` = ``eps``, the paper's Algorithm 1 (``u * m / (m.mean() + eps)``). A coordinate whose gradient is exactly 0
  is masked (the strict inequality of the paper's code). Where every
  coordinate is masked the output is 0.

  Each kept coordinate then moves against its gradient's sign, so the step
  never increases the loss to first order (the paper's descent property);
  the rescaling keeps the mean step size when only part of the coordinates
  agree.

  Recipes: the direction goes inside, weight decay and the rate outside,
  as the paper's C-AdamW and C-Lion (weight decay neither masked nor
  rescaled)::

     chain(cautious(scale_by_adam(b1, b2, eps)), add_decayed_weights(wd),
           scale_by_learning_rate(lr))                        # C-AdamW
     chain(cautious(momentum(0.9)), scale_by_learning_rate(lr))  # C-SGD with momentum

  A recipe that already contains the descent step (an adamx method with its
  ``scale_by_learning_rate``) is refused: its output points *against* the
  gradient, so the mask would keep exactly the wrong coordinates.

  State: the inner transformation's, unchanged (one adamx record, or
  ``CautiousState(inner)`` around an Optax state).

  Args:
    inner: the direction to mask, e.g. ``scale_by_adam(...)``.
    eps: :math:`\\xi`, at least 0; None for :math:`1/d`.

  Raises:
    ValueError: ``inner`` contains a descent step.
    TypeError: on complex updates (a complex number has no sign).
  """
  if eps is not None:
    hp.check_number("cautious", "eps", eps, hp.NONNEGATIVE)
  if _descends(inner):
    raise ValueError(
        "cautious: the inner transformation already contains scale_by_learning_rate, so its"
        " output is a descent step, not a direction; mask the direction and apply the rate"
        " after it, e.g. chain(cautious(scale_by_adam(b1, b2, eps)),"
        " add_decayed_weights(wd), scale_by_learning_rate(lr)).")
  parts = Parts("CautiousState", [inner], CautiousState)

  def update(updates, state, params=None, **extra_args):
    (inner_state,) = parts.unpack(state)
    out, new = parts.transforms[0].update(updates, inner_state, params, **extra_args)
    masked = jax.tree.map(lambda g, u: _mask_leaf(g, u, eps), updates, out)
    return masked, parts.pack([new])

  shown = {} if eps is None else {"eps": eps}
  return transform(parts.init, update, record=parts.record, name="cautious",
                   parts=[("inner", inner)], extra_args=True, **shown)
