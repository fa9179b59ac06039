"""The state of a transform made of parts.

If every part is an adamx transform with a state record, the composition
keeps *one* record with all the parts' fields and a single shared ``count``
(see :mod:`adamx._core.records`): each part reads its fields from it and
writes them back. Otherwise (an Optax transform among the parts) it keeps
Optax's layout, a tuple of the parts' states.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import optax

from adamx._core.records import join, merge, record, split


class Parts:
  """The parts of a composition and the layout of its state."""

  def __init__(self, type_name: str, parts: Sequence[Any],
               fallback: Callable[..., Any] = lambda *states: tuple(states)):
    self.transforms = [optax.with_extra_args_support(p) for p in parts]
    self.records = [getattr(p, "record", None) for p in parts]
    self.fallback = fallback
    self.record = None
    if all(r is not None for r in self.records):
      fields, self.names = merge([r._fields for r in self.records])
      self.record = record(type_name, fields)

  def init(self, params: Any) -> Any:
    return self.pack([t.init(params) for t in self.transforms])

  def unpack(self, state: Any) -> list[Any]:
    """Each part's own state."""
    if self.record is None:
      return list(state)
    return [split(state, r, n) for r, n in zip(self.records, self.names)]

  def pack(self, states: Sequence[Any]) -> Any:
    if self.record is None:
      return self.fallback(*states)
    return join(self.record, states, self.names)
