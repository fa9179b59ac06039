"""Adafactor's factored second moment: an EMA of a non-negative input kept as
its row and column means, emitting the rank-1 reconstruction (Shazeer & Stern, 2018).

The statistic is not shaped like its parameter; the per-array maths still
goes through :func:`adamx._core.lift.lift_unshaped` (one leaf at a time), so
the dtype rules are those of every other primitive.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import dtype_of, lift_unshaped, moments_like, reduced_zeros, statistic_dtype
from adamx._core.records import record
from adamx._core.steps import increment, zero_count
from adamx._core.transform import Transform, transform


_AXES = ("largest", "last")


def factored_axes(shape: tuple[int, ...], *, factored: bool, min_dim_size_to_factor: int,
                  axes: str) -> tuple[int, int] | None:
  """``(d1, d0)``: the axes a statistic of this shape is factored over, or None.

  ``axes="largest"`` picks the two largest dimensions (``d0`` the largest,
  ties to the later axis, as Optax); ``"last"`` the last two (``d1 = -2``,
  ``d0 = -1``, as torch). An array is factored only if ``factored``, it has
  at least two dimensions, and both chosen have at least
  ``min_dim_size_to_factor`` entries.
  """
  if not factored or len(shape) < 2:
    return None
  if axes == "last":
    d1, d0 = len(shape) - 2, len(shape) - 1
  else:
    order = np.argsort(shape, kind="stable")
    d1, d0 = int(order[-2]), int(order[-1])
  if min(shape[d1], shape[d0]) < min_dim_size_to_factor:
    return None
  return d1, d0


@primitive
def factored_ema(
    decay_rate: hp.Scalar = 0.8,
    decay_offset: hp.Scalar = 0,
    *,
    decay_dtype: Any = None,
    factored: bool = True,
    min_dim_size_to_factor: int = 128,
    axes: str = "largest",
    floor: hp.Scalar | None = None,
    dtype: Any = None,
    names: tuple[str, str, str] = ("v_row", "v_col", "v"),
) -> Transform:
  """EMA of a non-negative input, kept factored as row and column means
  (Shazeer & Stern, 2018, Alg. 4); emits its rank-1 reconstruction.

  For an input :math:`u` of two factored axes (rows :math:`i` along
  :math:`d_1`, columns :math:`j` along :math:`d_0`), with Adafactor's decay
  :math:`\\beta_t = 1 - (t - \\text{offset})^{-c}` (:math:`t = 1, 2, \\dots`,
  so :math:`\\beta_1 = 0`: no bias correction is needed):

  .. math::
     r_t &= \\beta_t r_{t-1} + (1-\\beta_t)\\, \\mathrm{mean}_j\\, u_t, \\qquad
     c_t = \\beta_t c_{t-1} + (1-\\beta_t)\\, \\mathrm{mean}_i\\, u_t \\\\
     \\hat V_t &= \\max\\!\\Big(
       \\frac{r_t c_t^\\top}{\\max(\\mathrm{mean}_i\\, r_t,\\, f)},\\; f^2\\Big)

  (the paper's row and column *sums* give the same :math:`\\hat V`). Other
  axes are kept. An array that is not factored keeps the full EMA
  :math:`v_t = \\beta_t v_{t-1} + (1-\\beta_t) u_t` and emits
  :math:`\\max(v_t, f^2)`. Emitted in float32 or wider (a denominator
  statistic). With :func:`square` in front and :func:`root` behind it is
  Adafactor's :math:`\\sqrt{\\hat V_t}`.

  State: ``count``; :math:`r`, :math:`c`, :math:`v` under ``names``
  (Optax's ``v_row``, ``v_col``, ``v`` by default), laid out as Optax's
  ``FactoredState``: :math:`r` is the input with axis :math:`d_0` removed,
  :math:`c` with :math:`d_1` removed, and a factored leaf's :math:`v` (an
  unfactored leaf's :math:`r`, :math:`c`) is a placeholder of shape ``(1,)``.
  Real, in the parameters' real dtype unless ``dtype``.

  Args:
    decay_rate: :math:`c` (0.8 in the paper; torch's ``-beta2_decay``).
    decay_offset: subtracted from the step number (fine-tuning from a step).
    decay_dtype: the dtype :math:`\\beta_t` is computed in: None, each
      leaf's arithmetic dtype (float32 or wider, so a Python float and a
      float32 array give the same :math:`\\beta_t`); ``"float32"`` rounds it
      as Optax does (it casts :math:`t` to float32 whatever the precision).
    factored: factor arrays of two or more dimensions at all.
    min_dim_size_to_factor: factor only where both chosen dimensions are at
      least this large (a Python int: it decides the state's shapes).
    axes: ``"largest"``, the two largest dimensions (Optax), or ``"last"``,
      the last two (torch).
    floor: :math:`f`, a lower bound of the row normaliser (and :math:`f^2` of
      :math:`\\hat V`); ``None`` (the default) is the machine epsilon of the
      statistics' dtype (torch's ``eps1=None``); 0 (Optax) bounds nothing.
    dtype: dtype of the statistics; defaults to the parameters' real dtype.
    names: the state fields of :math:`r`, :math:`c`, :math:`v`.
  """
  if axes not in _AXES:
    raise hp.InvalidHyperparameter(f"factored_ema: axes={axes!r}; valid: one of {_AXES}.")
  state_type = record("FactoredEmaState", ("count", *names))
  plan = functools.partial(factored_axes, factored=factored,
                           min_dim_size_to_factor=min_dim_size_to_factor, axes=axes)

  def expected(shape):
    split = plan(shape)
    if split is None:
      return [(1,), (1,), shape]
    d1, d0 = split
    return [tuple(n for a, n in enumerate(shape) if a != d0),
            tuple(n for a, n in enumerate(shape) if a != d1), (1,)]

  def init_leaf(p):
    d = statistic_dtype(p, dtype)
    split = plan(tuple(jnp.shape(p)))
    placeholder = jnp.zeros((1,), d)
    if split is None:
      return [placeholder, placeholder, moments_like(p, 0.0, d)]
    d1, d0 = split
    return [reduced_zeros(p, d0, d), reduced_zeros(p, d1, d), placeholder]

  def init(params):
    leaves, structure = jax.tree.flatten(params)
    columns = zip(*map(init_leaf, leaves)) if leaves else ([], [], [])
    return state_type(zero_count(), *(structure.unflatten(c) for c in columns))

  def ema(u, r, c, v, *, f, b=None, rate=None, offset=None, t=None):
    if b is None:
      b = power_decay(t, rate, offset)
    split = plan(u.shape)
    if split is None:
      new_v = b * v + (1 - b) * u
      return jnp.maximum(new_v, f * f), r, c, new_v
    d1, d0 = split
    new_r = b * r + (1 - b) * jnp.mean(u, axis=d0)
    new_c = b * c + (1 - b) * jnp.mean(u, axis=d1)
    normaliser = jnp.maximum(jnp.mean(new_r, axis=d1 - (d1 > d0), keepdims=True), f)
    reconstruction = jnp.expand_dims(new_r / normaliser, d0) * jnp.expand_dims(new_c, d1)
    return jnp.maximum(reconstruction, f * f), new_r, new_c, v

  def machine_floor(leaf_stats):
    return {"f": float(jnp.finfo(dtype_of(leaf_stats[-1])).eps)}

  def update(updates, state, params=None):
    del params
    count, *stats = state
    bound = {"leaf_scalars": machine_floor} if floor is None else {"f": floor}
    if decay_dtype is None:
      decay = dict(rate=decay_rate, offset=decay_offset, t=count)
    else:
      d = jnp.dtype(decay_dtype)
      decay = dict(b=power_decay(count.astype(d), hp.cast(decay_rate, d), hp.cast(decay_offset, d)))
    out, stats = lift_unshaped("factored_ema", ema, updates, *stats, expected=expected,
                               wide=True, **decay, **bound)
    return out, state_type(increment(count), *stats)

  return transform(init, update, record=state_type)


def power_decay(count: jax.Array, decay_rate: jax.Array, decay_offset: jax.Array) -> jax.Array:
  """Adafactor's :math:`\\beta_t = 1 - t^{-c}`, :math:`t` = count − offset + 1, in the
  dtype of its (floating) arguments."""
  return 1 - (count - decay_offset + 1) ** (-decay_rate)
