"""The transformation type every adamx factory returns.

A :class:`Transform` *is* an ``optax.GradientTransformationExtraArgs`` (so it
works in ``optax.chain``, ``optax.MultiSteps``, Flax ``TrainState``...) that
also remembers its recipe: a name, its hyperparameters and its parts. That is
what makes ``print(adamx.adam(1e-3))`` show the composition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import optax

_LINE_WIDTH = 88


class EmptyState(NamedTuple):
  """State of a stateless primitive."""


class Transform(optax.GradientTransformationExtraArgs):
  """An Optax gradient transformation that knows how it was built.

  Attributes (read-only by convention):
    name: the factory that built it, e.g. ``"scale_by_ema"``.
    hyperparams: the hyperparameters it was built with, by name.
    parts: the transformations it is composed of, by role, in order.
  """

  name: str
  hyperparams: Mapping[str, Any]
  parts: Sequence[tuple[str | None, Any]]

  def __repr__(self) -> str:
    return _render(self, indent=0)


def transform(
    name: str,
    init: Callable[..., Any],
    update: Callable[..., Any],
    *,
    parts: Sequence[tuple[str | None, Any]] = (),
    **hyperparams: Any,
) -> Transform:
  """Wraps ``init``/``update`` functions as a named :class:`Transform`."""
  result = Transform(init, update)
  result.name = name
  result.hyperparams = dict(hyperparams)
  result.parts = tuple(parts)
  return result


def named(name: str, inner: Transform, **hyperparams: Any) -> Transform:
  """Labels a composition as a method: same ``init``/``update``, new name."""
  return transform(
      name, inner.init, inner.update, parts=(("=", inner),), **hyperparams
  )


def _format_value(value: Any) -> str:
  if callable(value):
    return getattr(value, "__name__", "schedule")
  return repr(value)


def _render(t: Any, indent: int) -> str:
  if not isinstance(t, Transform):
    return f"<optax {type(t).__name__}>"
  args = ", ".join(f"{k}={_format_value(v)}" for k, v in t.hyperparams.items())
  head = f"{t.name}({args})"
  if not t.parts:
    return head
  if t.parts[0][0] == "=":
    return f"{head} = {_render(t.parts[0][1], indent)}"
  flat = ", ".join(
      (f"{role}=" if role else "") + _render(p, 0) for role, p in t.parts
  )
  one_line = f"{t.name}({flat})"
  if "\n" not in one_line and indent + len(one_line) <= _LINE_WIDTH:
    return one_line
  pad = " " * (indent + 2)
  lines = [
      pad + (f"{role}=" if role else "") + _render(p, indent + 2) + ","
      for role, p in t.parts
  ]
  return f"{t.name}(\n" + "\n".join(lines) + "\n" + " " * indent + ")"
