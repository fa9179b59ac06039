"""The one lift from per-array maths to trees of parameters.

A primitive writes its maths for one array, as in
``jax/example_libraries/optimizers.py``; :func:`leafwise` does the rest for
every leaf: checks the leaf against its state (tree, shape, dtype), widens
to the compute dtype (float32 or wider; complex stays complex), casts the
hyperparameters to it, and casts the results back: the output to the
incoming update's dtype and each new statistic to the dtype it is stored in.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
import functools
from typing import Any

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core import quantized
from adamx._core.checks import check_params, check_updates
from adamx._core.records import record, state_name
from adamx._core.steps import increment, zero_count
from adamx._core.transform import Transform, transform


def cast(x: jax.Array, dtype: Any) -> jax.Array:
  """``x`` as ``dtype``; complex to real keeps the real part (the imaginary
  part of a statistic of real inputs is exactly zero)."""
  if x.dtype == dtype and not getattr(x, "weak_type", True):
    return x  # what astype returns, without its tracing work (several per leaf)
  if jnp.iscomplexobj(x) and not jnp.issubdtype(dtype, jnp.complexfloating):
    x = jnp.real(x)
  return x.astype(dtype)


_UNUSED = object()
_NARROW = (jnp.dtype(jnp.float16), jnp.dtype(jnp.bfloat16))


def widened(updates: Any) -> Any:
  """The dtype rule between the parts of a composition: float16 and bfloat16
  leaves pass between parts as float32 (exactly), so an intermediate value such
  as :math:`(1-\\beta_1) g` is not rounded, or flushed to zero, between one part
  and the next; :func:`narrowed` casts the composition's output back."""
  return jax.tree.map(
      lambda u: u.astype(jnp.float32) if getattr(u, "dtype", None) in _NARROW else u, updates)


def narrowed(out: Any, like: Any) -> Any:
  """``out`` cast leaf by leaf to the dtype of ``like`` where that is float16/bfloat16."""
  return jax.tree.map(
      lambda o, u: o.astype(u.dtype) if getattr(u, "dtype", None) in _NARROW else o, out, like)


def mixing(complex_: bool) -> Any:
  """For a complex leaf, allow real-complex promotion inside the maths.

  Every input has already been cast to one precision, so the only implicit
  promotion left is a real hyperparameter or statistic meeting a complex
  value of the same precision, which is exact (as Optax's ``abs_sq`` moments
  of complex gradients).
  """
  return jax.numpy_dtype_promotion("standard") if complex_ else contextlib.nullcontext()


def leafwise(
    owner: str,
    maths: Callable[..., Any],
    updates: Any,
    *stats: Any,
    params: Any = _UNUSED,
    wide: bool = False,
    **scalars: Any,
) -> tuple[Any, tuple[Any, ...]]:
  """Applies ``maths(u, *s, [p], **scalars)`` to each leaf; returns ``(out, new_stats)``.

  Args:
    owner: the primitive, named in error messages.
    maths: per-array function. It returns the output, or ``(output,
      *new_stats)`` when ``stats`` are given.
    updates: the incoming updates (a tree).
    *stats: state trees shaped like ``updates`` (moments, traces...).
    params: if passed (even as None), the parameters are required and given
      to ``maths`` after the stats.
    wide: emit the output in the compute dtype (denominator statistics, so
      that float16 squares and eps do not underflow) instead of the
      incoming update's dtype.
    **scalars: hyperparameters and per-step scalars, cast to the real
      compute dtype of each leaf (once per dtype: the leaves of one dtype
      share the cast, and a :class:`~adamx._core.hyperparams.Formed` scalar
      is formed once per dtype).

  The compute dtype of a leaf is the widest of its update, stats and
  parameter (at least float32); it is complex only if the update or the
  parameter is, so statistics of real inputs are computed in real arithmetic
  even where they are stored as complex (as Optax stores them).
  """
  for tree in stats:
    check_updates(owner, updates, tree)
  if params is not _UNUSED:
    check_params(owner, params, updates)
  structure = jax.tree.structure(updates)
  columns = [structure.flatten_up_to(updates)]
  columns += [structure.flatten_up_to(tree) for tree in stats]
  if params is not _UNUSED:
    columns.append(structure.flatten_up_to(params))
  outs, new_stats = [], [[] for _ in stats]
  cast_scalars: dict[Any, dict[str, Any]] = {}  # once per real compute dtype, not per leaf
  for leaves in zip(*columns):
    u = leaves[0]
    arrays = [jnp.asarray(x) if i == 0 or i > len(stats) else quantized.read(x, jnp.shape(u))
              for i, x in enumerate(leaves)]
    precision = hp.compute_dtype(*(x.dtype for x in arrays))
    complex_ = any(jnp.iscomplexobj(x) for x in (arrays[0], *arrays[1 + len(stats):]))
    d = precision if complex_ else hp.real_dtype(precision)
    real = hp.real_dtype(d)
    if real not in cast_scalars:
      cast_scalars[real] = {k: hp.cast(v, real) for k, v in scalars.items()}
    with mixing(complex_):
      result = maths(*(cast(x, d) for x in arrays), **cast_scalars[real])
    out, *new = result if stats else (result,)
    outs.append(out if wide else cast(out, jnp.result_type(u)))
    for column, value, old, stored in zip(new_stats, new, arrays[1:], leaves[1:]):
      column.append(quantized.write(value, stored) if quantized.is_quantized(stored)
                    else cast(value, old.dtype))
  return structure.unflatten(outs), tuple(structure.unflatten(c) for c in new_stats)


def _array_like(p: Any) -> Any:
  """An array, abstract array or Python number as something with a dtype and shape."""
  return p if hasattr(p, "dtype") else jnp.asarray(p)


def dtype_of(x: Any) -> jnp.dtype:
  """The dtype of an array, abstract array or Python number."""
  return jnp.dtype(x.dtype) if hasattr(x, "dtype") else jnp.result_type(x)


def moments_like(params: Any, value: Any = 0.0, dtype: Any = None) -> Any:
  """A tree of constant arrays shaped like ``params``, in ``dtype`` or theirs.

  Works on Python numbers, arrays and abstract parameters
  (``jax.ShapeDtypeStruct``, keeping their sharding); ``None`` leaves stay
  ``None``.
  """

  fmt = quantized.as_format(dtype)

  def full(p):
    like = _array_like(p)
    if fmt is not None:
      return quantized.quantized_like(like, value, fmt)
    return jnp.full_like(like, value, dtype or dtype_of(like))

  return jax.tree.map(full, params)


def statistic(owner: str, maths: Callable[..., Any], name: str, initial: Any = 0.0,
              dtype: Any = None, *, counted: bool = False, wide: bool = False,
              micro: Callable[..., Any] | None = None, **scalars: Any) -> Transform:
  """A primitive keeping one per-leaf statistic: ``maths(u, s, **scalars) -> (out, new s)``.

  The state is a record with the statistic under ``name`` (initialised to
  ``initial`` in ``dtype``, default the parameters'), and with ``counted``
  a step ``count`` that ``maths`` receives as ``t`` (0 on the first step).

  With ``micro``, the statistic also accumulates over micro-steps (see
  :func:`adamx._combinators.accumulation.accumulate_in_state`): an update
  given the extra arguments ``micro_step`` (traced int32, ``0..k-1``) and
  ``micro_steps`` (the int ``k``) applies ``micro(u, s, **scalars, first,
  k)`` instead, ``first`` being 1 on a step's first micro-step and 0 on the
  others. Without them the update is the plain one, unchanged.
  """
  fields = ("count", name) if counted else (name,)
  state_type = record(state_name(owner), fields)

  def init(params):
    moment = moments_like(params, initial, dtype)
    return state_type(zero_count(), moment) if counted else state_type(moment)

  def apply(per_array, updates, state, **more):
    steps = {"t": state.count} if counted else {}
    out, (new,) = leafwise(owner, per_array, updates, state[-1], wide=wide, **steps,
                           **scalars, **more)
    return out, (state_type(increment(state.count), new) if counted else state_type(new))

  def update(updates, state, params=None):
    del params
    return apply(maths, updates, state)

  if micro is None:
    return transform(init, update, record=state_type)

  def update_micro(updates, state, params=None, *, micro_step=None, micro_steps=None, **extra):
    del extra
    if micro_step is None:
      return update(updates, state, params)
    return apply(micro, updates, state, first=micro_step == 0, k=micro_steps)

  return transform(init, update_micro, record=state_type, extra_args=True)


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


def reduced_zeros(p: Any, axis: int | tuple[int, ...], dtype: Any) -> jax.Array:
  """Zeros shaped like ``p`` with ``axis`` removed, keeping ``p``'s sharding."""
  target = jax.eval_shape(functools.partial(jnp.sum, axis=axis), _array_like(p))
  return jnp.zeros_like(target, dtype=dtype)


def statistic_dtype(p: Any, dtype: Any) -> jnp.dtype:
  """A real statistic's dtype: ``dtype``, or the parameter's real dtype (the
  default float dtype for an integer parameter, such as a Python int)."""
  if quantized.as_format(dtype) is not None:
    raise TypeError(f"dtype={dtype!r}: quantized storage is for statistics shaped like their "
                    "leaf (moments, traces, sums); this one is not: give a floating dtype.")
  if dtype is not None:
    return jnp.dtype(dtype)
  own = dtype_of(_array_like(p))
  return hp.real_dtype(own if jnp.issubdtype(own, jnp.inexact) else jnp.result_type(float))
