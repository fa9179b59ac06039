"""Sublinear-memory statistics and block (per-leaf) scalings: Adafactor's and SM3's parts.

* :func:`factored_ema`: an EMA of a non-negative input kept as its row and
  column means (Adafactor's factored second moment), emitting the rank-1
  reconstruction;
* :func:`cover_accumulate`: SM3's running sum kept as one maximum per
  slice of each axis (the cover), each entry reading the least of its slices;
* :func:`clip_block_rms`: divide a leaf by ``max(1, RMS(u)/c)``;
* :func:`scale_by_param_block_rms`: multiply a leaf by the RMS of its parameter;
* :func:`add_decayed_weights_at_rate`: weight decay :math:`\\eta_t \\lambda w` at its own rate.

The statistics of the first two are not shaped like their parameter. The
per-array maths still goes through :func:`adamx._core.lift.leafwise` (one
leaf at a time, the statistics handed in as inputs; see :func:`lift_unshaped`),
so the dtype rules are those of every other primitive.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from adamx._core import hyperparams as hp
from adamx._core.declare import primitive
from adamx._core.lift import cast, dtype_of, leafwise
from adamx._core.records import EmptyState, record
from adamx._core.steps import increment, zero_count
from adamx._core.transform import Transform, transform
from adamx._primitives.elementwise import abs_sq

_AXES = ("largest", "last")


def lift_unshaped(owner: str, maths: Callable[..., Any], updates: Any, *stats: Any,
                  expected: Callable[[tuple[int, ...]], list[tuple[int, ...]]],
                  leaf_scalars: Callable[[list[Any]], dict[str, Any]] | None = None,
                  wide: bool = False, **scalars: Any) -> tuple[Any, tuple[Any, ...]]:
  """:func:`leafwise` for statistics that are not shaped like their leaf.

  ``stats`` are trees whose node at each update leaf holds that leaf's
  statistic: an array, or a list of arrays (one per axis). Each leaf is
  lifted by ``leafwise`` on its own, with its statistics handed to
  ``maths(u, *leaf_stats, **scalars)`` as inputs cast to the leaf's real
  compute dtype (so bfloat16 statistics are updated in float32);
  ``maths`` returns ``(out, *new_leaf_stats)``; the new statistics are cast
  back to their stored dtypes, and ``out`` to the update's dtype (or kept in
  the compute dtype with ``wide``).

  Args:
    expected: the shapes of a leaf's statistics, flattened, for the leaf's
      shape; a statistic of another shape raises, naming the leaf.
    leaf_scalars: more scalars computed from a leaf's stored statistics
      (e.g. a bound that depends on their dtype).
  """
  structure = jax.tree.structure(updates)
  paths = [jax.tree_util.keystr(p) or "<root>"
           for p, _ in jax.tree_util.tree_flatten_with_path(updates)[0]]
  try:
    columns = [structure.flatten_up_to(tree) for tree in stats]
  except (ValueError, TypeError) as error:
    raise ValueError(
        f"{owner}: the updates' tree structure differs from the state's (built by init"
        f" from the parameters).\n  updates: {structure}") from error
  outs, new_columns = [], [[] for _ in stats]
  for k, u in enumerate(structure.flatten_up_to(updates)):
    leaf_stats = [column[k] for column in columns]
    flat, treedef = jax.tree.flatten(leaf_stats)
    shape = tuple(jnp.shape(u))
    got, want = [tuple(jnp.shape(x)) for x in flat], [tuple(s) for s in expected(shape)]
    if got != want:
      raise ValueError(f"{owner}: update leaf {paths[k]} has shape {shape}, so its state"
                       f" should have shapes {want}, not {got}; nothing is broadcast.")
    inputs = {f"_stat{i}": x for i, x in enumerate(flat)}
    extra = leaf_scalars(leaf_stats) if leaf_scalars is not None else {}

    def per_array(u, treedef=treedef, n=len(flat), **kwargs):
      arrays = [kwargs.pop(f"_stat{i}") for i in range(n)]
      return maths(u, *jax.tree.unflatten(treedef, arrays), **kwargs)

    (out, *new), _ = leafwise(owner, per_array, u, wide=True, **inputs, **scalars, **extra)
    outs.append(out if wide else cast(out, jnp.result_type(u)))
    for column, value, old in zip(new_columns, new, leaf_stats):
      column.append(jax.tree.map(lambda v, o: cast(v, dtype_of(o)), value, old))
  return structure.unflatten(outs), tuple(structure.unflatten(c) for c in new_columns)


def _like(p: Any) -> Any:
  return p if hasattr(p, "dtype") else jnp.asarray(p)


def _reduced_zeros(p: Any, axis: int | tuple[int, ...], dtype: Any) -> jax.Array:
  """Zeros shaped like ``p`` with ``axis`` removed, keeping ``p``'s sharding."""
  target = jax.eval_shape(functools.partial(jnp.sum, axis=axis), _like(p))
  return jnp.zeros_like(target, dtype=dtype)


def _stat_dtype(p: Any, dtype: Any) -> jnp.dtype:
  """A real statistic's dtype: ``dtype``, or the parameter's real dtype (the
  default float dtype for an integer parameter, such as a Python int)."""
  if dtype is not None:
    return jnp.dtype(dtype)
  own = dtype_of(_like(p))
  return hp.real_dtype(own if jnp.issubdtype(own, jnp.inexact) else jnp.result_type(float))


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
    d = _stat_dtype(p, dtype)
    split = plan(tuple(jnp.shape(p)))
    placeholder = jnp.zeros((1,), d)
    if split is None:
      return [placeholder, placeholder, jnp.zeros_like(_like(p), dtype=d)]
    d1, d0 = split
    return [_reduced_zeros(p, d0, d), _reduced_zeros(p, d1, d), placeholder]

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


@primitive
def cover_accumulate(*, dtype: Any = None, name: str = "mu") -> Transform:
  """SM3's accumulator over the cover of each array's axis slices (Anil et al., 2019, SM3-II).

  The cover of an array of :math:`k \\ge 2` dimensions is its axis slices:
  one set :math:`S_{a,n}` per index :math:`n` of each axis :math:`a`, each
  with a running maximum :math:`\\mu_a[n]`. For a non-negative input
  :math:`u` (a squared gradient):

  .. math::
     \\nu_t(i) = u_t(i) + \\min_{a}\\, \\mu_{a,t-1}[i_a], \\qquad
     \\mu_{a,t}[n] = \\max_{i:\\, i_a = n}\\, \\nu_t(i)

  emitting :math:`\\nu_t` (in float32 or wider: a denominator statistic).
  A vector or scalar is its own cover (singletons): :math:`\\nu_t = \\nu_{t-1} + u_t`,
  AdaGrad's sum. Memory is the sum of the dimensions, not their product.

  State: under ``name`` (``mu``, as Optax), per leaf a list of one vector
  per axis (shape ``(n_a,)``); for a vector or scalar, a one-element list
  holding the full sum. Real, in the parameters' real dtype unless ``dtype``.
  """
  state_type = record("CoverAccumulateState", (name,))

  def expected(shape):
    return [(n,) for n in shape] if len(shape) >= 2 else [shape]

  def init_leaf(p):
    d = _stat_dtype(p, dtype)
    ndim = len(jnp.shape(p))
    if ndim < 2:
      return [jnp.zeros_like(_like(p), dtype=d)]
    axes = range(ndim)
    return [_reduced_zeros(p, tuple(b for b in axes if b != a), d) for a in axes]

  def accumulate(u, mu):
    if u.ndim < 2:
      new = u + mu[0]
      return new, [new]
    expanded = [jnp.reshape(m, [n if b == a else 1 for b, n in enumerate(u.shape)])
                for a, m in enumerate(mu)]
    new = u + functools.reduce(jnp.minimum, expanded)
    axes = range(u.ndim)
    # initial=0 (a lower bound of the non-negative nu): a zero-size axis has maxima of 0
    return new, [jnp.max(new, axis=tuple(b for b in axes if b != a), initial=0) for a in axes]

  def update(updates, state, params=None):
    del params
    out, (mu,) = lift_unshaped("cover_accumulate", accumulate, updates, state[0],
                               expected=expected, wide=True)
    return out, state_type(mu)

  return transform(lambda params: state_type(jax.tree.map(init_leaf, params)), update,
                   record=state_type)


def block_rms(x: jax.Array) -> jax.Array:
  """:math:`\\sqrt{\\mathrm{mean}(|x|^2)}` over the whole array (real for complex ``x``)."""
  return jnp.sqrt(jnp.mean(abs_sq(x)))


@primitive
def clip_block_rms(max_rms: hp.Scalar) -> Transform:
  """Scales each leaf down to an RMS of at most ``max_rms`` (Shazeer & Stern, 2018, §5).

  .. math::  u \\mapsto u / \\max\\!\\big(1,\\ \\mathrm{RMS}(u) / d\\big)

  per leaf (a layer's array), with :math:`d` = ``max_rms``, as
  ``optax.clip_by_block_rms(threshold=d)`` and torch.optim.Adafactor's ``d``.
  Complex leaves use :math:`|u|^2`.
  """

  def clipped(u, *, d):
    return u / jnp.maximum(1, block_rms(u) / d)

  def update(updates, state, params=None):
    del params
    return leafwise("clip_block_rms", clipped, updates, d=max_rms)[0], state

  return transform(lambda params: EmptyState(), update, record=EmptyState)


@primitive
def scale_by_param_block_rms(min_scale: hp.Scalar = 1e-3) -> Transform:
  """Multiplies each leaf by the RMS of its parameter, at least ``min_scale``,
  as ``optax.scale_by_param_block_rms`` (Shazeer & Stern, 2018, §8).

  .. math::  u \\mapsto u \\cdot \\max\\!\\big(\\mathrm{RMS}(w),\\ \\epsilon_2\\big)

  Makes a step relative to the parameters' scale (Adafactor's
  ``multiply_by_parameter_scale``; torch.optim.Adafactor's ``eps[1]``). Needs
  the parameters; complex parameters use :math:`|w|^2`.
  """

  def scaled(u, p, *, m):
    return u * jnp.maximum(block_rms(p), m)

  def update(updates, state, params=None):
    out, _ = leafwise("scale_by_param_block_rms", scaled, updates, params=params, m=min_scale)
    return out, state

  return transform(lambda params: EmptyState(), update, record=EmptyState)


@primitive
def add_decayed_weights_at_rate(learning_rate: hp.ScalarOrSchedule,
                                weight_decay: hp.Scalar = 0.0) -> Transform:
  """Adds :math:`\\eta_t \\lambda\\, w` to the updates: weight decay at the rate
  :math:`\\eta_t`, added after a step whose own rate is another
  (torch.optim.Adafactor's :math:`w (1 - \\text{lr}\\,\\lambda)` beside its
  relative step).

  .. math::  u \\mapsto u + (\\eta_t \\lambda)\\, w

  The product is formed for each leaf in its arithmetic dtype (a Python
  float and a float32 array give the same float32 decay). ``learning_rate``
  may be a schedule (count 0 on the first step). Needs the parameters.
  State: ``count``.
  """
  state_type = record("AddDecayedWeightsAtRateState", ("count",))

  def decayed(u, p, *, lr, wd):
    return u + (lr * wd) * p

  def update(updates, state, params=None):
    out, _ = leafwise("add_decayed_weights_at_rate", decayed, updates, params=params,
                      lr=hp.evaluate(learning_rate, state.count), wd=weight_decay)
    return out, state_type(increment(state.count))

  return transform(lambda params: state_type(zero_count()), update, record=state_type)


def power_decay(count: jax.Array, decay_rate: jax.Array, decay_offset: jax.Array) -> jax.Array:
  """Adafactor's :math:`\\beta_t = 1 - t^{-c}`, :math:`t` = count − offset + 1, in the
  dtype of its (floating) arguments."""
  return 1 - (count - decay_offset + 1) ** (-decay_rate)
