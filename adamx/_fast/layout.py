"""Flat optimizer state beside a tree of parameters.

A fused method keeps each statistic (``mu``, ``nu``, ``trace``...) as one
contiguous buffer per dtype group of the parameters, instead of one array per
leaf: leaf ``i`` of a group owns the slice ``[offset_i, offset_i + size_i)``,
in the order of ``jax.tree.leaves``. The parameters and gradients stay the
tree the model has; only the state is flat, so a jitted step passes two
buffers per statistic across its boundary instead of one per leaf.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class Group:
  """The leaves of one dtype, and where each one's state starts."""

  dtype: np.dtype
  indices: tuple[int, ...]  # positions among jax.tree.leaves
  shapes: tuple[tuple[int, ...], ...]

  @property
  def sizes(self) -> tuple[int, ...]:
    return tuple(math.prod(s) for s in self.shapes)

  @property
  def offsets(self) -> tuple[int, ...]:
    return tuple(int(x) for x in np.cumsum((0,) + self.sizes[:-1]))

  @property
  def total(self) -> int:
    return sum(self.sizes)


@dataclasses.dataclass(frozen=True)
class Layout:
  """A tree's structure and its leaves grouped by dtype (first-seen order)."""

  treedef: Any
  groups: tuple[Group, ...]

  def leaves(self, tree: Any) -> list[Any]:
    return self.treedef.flatten_up_to(tree)


def layout_of(tree: Any) -> Layout:
  """The layout of ``tree`` (parameters or gradients: shapes and dtypes only)."""
  leaves, treedef = jax.tree.flatten(tree)
  by_dtype: dict[np.dtype, list[int]] = {}
  for i, x in enumerate(leaves):
    by_dtype.setdefault(np.dtype(jnp.result_type(x)), []).append(i)
  groups = tuple(Group(dtype, tuple(index), tuple(jnp.shape(leaves[i]) for i in index))
                 for dtype, index in by_dtype.items())
  return Layout(treedef, groups)


def flatten(layout: Layout, tree: Any) -> tuple[jax.Array, ...]:
  """One buffer per group: the group's leaves of ``tree`` raveled end to end.

  ``tree`` has the layout's structure (a statistic per leaf, of any dtype
  uniform within a group).
  """
  leaves = layout.leaves(tree)
  out = []
  for group in layout.groups:
    parts = [jnp.ravel(leaves[i]) for i in group.indices]
    dtypes = {np.dtype(p.dtype) for p in parts}
    if len(dtypes) > 1:
      raise TypeError(f"a statistic mixes dtypes {sorted(map(str, dtypes))} among the"
                      f" {group.dtype} leaves; a flat buffer holds one dtype.")
    out.append(jnp.concatenate(parts) if len(parts) > 1 else parts[0])
  return tuple(out)


def unflatten(layout: Layout, buffers: tuple[jax.Array, ...]) -> Any:
  """The inverse of :func:`flatten`: a tree of per-leaf arrays."""
  leaves: list[Any] = [None] * layout.treedef.num_leaves
  for group, buffer in zip(layout.groups, buffers):
    for i, shape, start, size in zip(group.indices, group.shapes, group.offsets, group.sizes):
      leaves[i] = jax.lax.slice_in_dim(buffer, start, start + size).reshape(shape)
  return layout.treedef.unflatten(leaves)
