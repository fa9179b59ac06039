"""State records: NamedTuples with paper-named fields, one class per field set.

Every adamx state is a record whose fields are named after what they hold
(``mu``, ``nu``, ``count``, ``trace``...), so ``state.nu`` and
``optax.tree_utils.tree_get(state, "nu")`` find a statistic by name. A
primitive's record names its statistic by the role the recipe gives it (a
``scale_by_ema`` used as the second moment holds ``nu``); a composition of
adamx transforms has *one* flat record holding its parts' fields, with a
single ``count`` shared by every part that counts steps (they all count the
same steps). Two parts' statistics of the same name are told apart by a
suffix (``mu``, ``mu_1``).

Record classes are made on demand and cached by (class name, fields), so the
same recipe always gives the same class (stable tree structure, equal
treedefs). They pickle, and ``flax.serialization`` and Orbax read them by
field name like any NamedTuple.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Sequence
from typing import Any

COUNT = "count"


@functools.cache
def record(type_name: str, fields: tuple[str, ...]) -> type:
  """The NamedTuple class ``type_name`` with these ``fields``, made once."""
  cls = collections.namedtuple(type_name, fields)
  cls.__module__ = __name__
  cls.__doc__ = f"adamx state record {type_name}({', '.join(fields)})."
  cls.__reduce__ = lambda self: (_rebuild, (type_name, fields, tuple(self)))
  cls.__adamx_record__ = True
  return cls


def _rebuild(type_name: str, fields: tuple[str, ...], values: tuple[Any, ...]) -> Any:
  return record(type_name, fields)(*values)


EmptyState = record("EmptyState", ())


def is_record(node: Any) -> bool:
  """True for an adamx state record (not for Optax's or a user's NamedTuples)."""
  return getattr(type(node), "__adamx_record__", False)


def state_name(transform_name: str) -> str:
  """``"scale_by_ema"`` -> ``"ScaleByEmaState"``; ``"torch.optim.SGD"`` -> ``"SGDState"``."""
  last = transform_name.rsplit(".", 1)[-1]
  camel = "".join(word[:1].upper() + word[1:] for word in last.split("_"))
  return f"{camel}State"


def merge(parts: Sequence[tuple[str, ...]]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
  """The fields of one record holding every part's fields, and where each
  part's fields went.

  ``count`` is shared. A name already taken by an earlier part gets a
  suffix (``mu``, ``mu_1``): name the statistics by role to avoid it
  (``scale_by_ema(b2, name="nu")``), as every adamx method does.

  Returns:
    ``(fields, names)``: the merged record's fields (``count`` first) and,
    for each part, the merged field of each of its fields, in its order.
  """
  taken: list[str] = []
  names = []
  for fields in parts:
    placed = []
    for field in fields:
      if field != COUNT:
        new, k = field, 0
        while new in taken:
          k += 1
          new = f"{field}_{k}"
        taken.append(new)
        field = new
      placed.append(field)
    names.append(tuple(placed))
  counted = any(COUNT in fields for fields in parts)
  return (COUNT,) * counted + tuple(taken), names


def split(state: Any, part_record: type, names: tuple[str, ...]) -> Any:
  """The part's own record, read from the merged ``state`` under ``names``."""
  return part_record(*(getattr(state, n) for n in names))


def join(merged_record: type, part_states: Sequence[Any],
         names: Sequence[tuple[str, ...]]) -> Any:
  """One ``merged_record`` from the parts' new states (the first ``count`` wins:
  every part advances the same shared count by one)."""
  values: dict[str, Any] = {}
  for part_state, part_names in zip(part_states, names):
    for name, value in zip(part_names, part_state):
      values.setdefault(name, value)
  return merged_record(**values)
