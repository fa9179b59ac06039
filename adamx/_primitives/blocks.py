"""Adam-mini's EMA of block means (one second moment per block of a leaf), and
MARS's variance-reduced gradient (followed by ``clip_by_norm``, in layerwise.py).

The block means reduce over a block of a leaf, so unlike the elementwise
primitives their update of a sharded parameter communicates across shards.
"""

from __future__ import annotations

from collections.abc import Callable
import math
import operator
from typing import Any

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.checks import check_updates
from adamx._core.declare import primitive
from adamx._core.lift import dtype_of, leafwise, statistic
from adamx._core.records import record
from adamx._core.transform import Transform, transform


@primitive
def gradient_correction(
    gamma: hp.Scalar,
    decay: hp.Scalar,
    *,
    first_step_current: bool = False,
    dtype: Any = None,
    name: str = "last_grad",
) -> Transform:
  """MARS's scaled gradient correction: the input extrapolated along its last change.

  .. math::  c_t = u_t + \\gamma\\, \\frac{\\beta}{1-\\beta}\\, (u_t - u_{t-1})

  (Yuan et al., 2024, the approximate form: :math:`u_{t-1}` is the previous
  input). :math:`u_0 = 0`, or with ``first_step_current`` :math:`u_0 = u_1`
  (no correction on the first step). :math:`\\gamma = 0` passes the input
  through. The factor :math:`\\gamma\\beta/(1-\\beta)` is formed per leaf in
  its compute dtype, so a Python float and a float32 array of the same
  :math:`\\beta` give the same numbers (``linear`` over ``lag`` would take it
  precomputed).

  State: ``count`` (for the first step); :math:`u_{t-1}` under ``name``.

  Args:
    gamma: :math:`\\gamma \\ge 0`, the strength of the correction.
    decay: :math:`\\beta`, the momentum it is scaled for, in ``[0, 1)``.
    first_step_current: take :math:`u_0 = u_1` instead of 0.
    dtype: dtype of the kept input; defaults to the parameters'.
    name: the state field of :math:`u_{t-1}`.
  """

  def corrected(u, previous, *, t, gamma, b):
    first = u if first_step_current else jnp.zeros_like(u)
    previous = jnp.where(t == 0, first, previous)
    return u + gamma * (b / (1 - b)) * (u - previous), u

  return statistic("gradient_correction", corrected, name, 0.0, dtype, counted=True,
                   gamma=gamma, b=decay)


BlockAxes = tuple[int, ...] | Callable[[Any, Any], tuple[int, ...]]


def _axes(owner: str, block_axes: BlockAxes, path: Any, leaf: Any) -> tuple[int, ...]:
  """The kept (block-indexing) axes of one leaf, normalised and checked."""
  ndim = len(jnp.shape(leaf))
  axes = block_axes(path, leaf) if callable(block_axes) else block_axes
  where = jax.tree_util.keystr(path) or "<root>"
  try:
    axes = tuple(operator.index(a) for a in axes)
  except TypeError as error:
    raise hp.InvalidHyperparameter(
        f"{owner}: block_axes for leaf {where} is {axes!r}; valid: a tuple of ints") from error
  if any(not -ndim <= a < ndim for a in axes):
    raise hp.InvalidHyperparameter(
        f"{owner}: block_axes {axes} for leaf {where} of shape {jnp.shape(leaf)}; valid:"
        f" axes in [-{ndim}, {ndim}) (for leaves of several ranks, give a callable"
        " (path, leaf) -> axes)")
  normalised = tuple(sorted(a % ndim for a in axes))
  if len(set(normalised)) != len(normalised):
    raise hp.InvalidHyperparameter(
        f"{owner}: block_axes {axes} for leaf {where} repeats an axis")
  return normalised


def _block_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
  return tuple(n if i in axes else 1 for i, n in enumerate(shape))


@primitive
def block_mean_ema(
    decay: hp.Scalar,
    *,
    block_axes: BlockAxes = (),
    dtype: Any = None,
    name: str = "nu",
) -> Transform:
  """Exponential moving average of the updates' *block means*: one statistic per block.

  .. math::
     v_{t,b} = \\beta\\, v_{t-1,b} + (1-\\beta)\\, \\frac{1}{|b|}\\sum_{i \\in b} u_{t,i},
     \\qquad v_{0,b} = 0

  Emits :math:`v_{t,b}` at every coordinate of block :math:`b` (in float32 or
  wider: it is a denominator statistic). After :func:`square` it is
  Adam-mini's second moment, the mean of :math:`g^2` over a block (Zhang et
  al., 2024, Algorithm 1).

  Blocks: ``block_axes`` names the axes of a leaf that *index* blocks; the
  mean runs over all its other axes. ``()`` (the default) makes each leaf
  one block (Adam-mini's rule for every block but embeddings and
  queries/keys); ``(0,)`` one block per row (per head, for a leaf whose
  leading axis is the head); every axis, one block per coordinate (Adam's
  :math:`v`). A callable ``(path, leaf) -> axes`` picks them per leaf, from
  its key path (``jax.tree_util`` keys) and shape, e.g. by name::

     lambda path, p: (1,) if "query" in jax.tree_util.keystr(path) else ()

  The same callable is applied to the parameters in ``init`` and to the
  updates in ``update``. A block that spans several leaves, or groups of
  rows within one axis, needs the leaf reshaped first.

  State: :math:`v` under ``name``, one value per block: shaped like the leaf
  with size 1 along each averaged axis (so it broadcasts against it), in
  the parameters' dtype unless ``dtype`` is given.

  Args:
    decay: :math:`\\beta`, in ``[0, 1)``.
    block_axes: the block-indexing axes, for every leaf or per leaf.
    dtype: dtype of :math:`v`; defaults to the parameters'.
    name: the state field of :math:`v` (``"nu"`` as a second moment).
  """
  owner = "block_mean_ema"
  if not callable(block_axes) and not isinstance(block_axes, (tuple, list)):
    raise hp.InvalidHyperparameter(
        f"{owner}: block_axes={block_axes!r}; valid: a tuple of ints or a callable"
        " (path, leaf) -> tuple of ints")
  state_type = record("BlockMeanEmaState", (name,))

  def init(params):
    def zeros(path, p):
      shape = _block_shape(tuple(jnp.shape(p)), _axes(owner, block_axes, path, p))
      return jnp.zeros(shape, dtype or dtype_of(p))

    return state_type(jax.tree_util.tree_map_with_path(zeros, params))

  def ema(mean, v, *, b):
    new = (1 - b) * mean + b * v  # scale_by_ema's order of operations
    return new, new

  def update(updates, state, params=None):
    del params
    moments = state[0]
    flat, structure = jax.tree_util.tree_flatten_with_path(updates)
    check_updates(owner, updates, updates)  # floating-point or complex leaves
    try:
      olds = structure.flatten_up_to(moments)
    except (ValueError, TypeError) as error:
      raise ValueError(f"{owner}: the updates' tree structure differs from the state's"
                       f" (built by init from the parameters).") from error
    outs, news = [], []
    for (path, u), old in zip(flat, olds):
      axes = _axes(owner, block_axes, path, u)
      if jnp.shape(old) != _block_shape(tuple(jnp.shape(u)), axes):
        raise ValueError(
            f"{owner}: update leaf {jax.tree_util.keystr(path) or '<root>'} has shape"
            f" {jnp.shape(u)}; its blocks need a state of shape"
            f" {_block_shape(tuple(jnp.shape(u)), axes)}, the state has {jnp.shape(old)}.")
      averaged = tuple(i for i in range(len(jnp.shape(u))) if i not in axes)
      size = max(math.prod(jnp.shape(u)[i] for i in averaged), 1)
      # Per leaf, as layer-wise statistics are: the block means (an empty block's
      # is 0, not NaN), then the EMA of those against the stored moment.
      mean, _ = leafwise(owner, lambda x: jnp.sum(x, axis=averaged, keepdims=True) / size,
                         u, wide=True)
      new, (kept,) = leafwise(owner, ema, mean, old, wide=True, b=decay)
      outs.append(jnp.broadcast_to(new, jnp.shape(u)))
      news.append(kept)
    return structure.unflatten(outs), state_type(structure.unflatten(news))

  return transform(init, update, record=state_type)

