"""The transformation type every adamx factory returns.

A :class:`Transform` *is* an ``optax.GradientTransformationExtraArgs`` (so it
works in ``optax.chain``, ``optax.MultiSteps``, Flax ``TrainState``...) that
also remembers its recipe: a name, its hyperparameters, its parts and the
record class of its state. That is what makes ``print(adamx.adam(1e-3))``
show the composition and ``state.nu`` find the second moment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np
import optax

from adamx._core.records import record, state_name

_LINE_WIDTH = 88


class Transform(optax.GradientTransformationExtraArgs):
  """An Optax gradient transformation that knows how it was built.

  Its attributes are read-only by convention.

  Attributes:
    name: the factory that built it, e.g. ``"scale_by_ema"``.
    hyperparams: the hyperparameters it was built with, by name.
    parts: the transformations it is composed of, by role, in order.
    record: the NamedTuple class of its state (fields named by role), or
      ``None`` where a part's state is not an adamx record (then the state
      is Optax's tuple layout).
  """

  name: str
  hyperparams: Mapping[str, Any]
  parts: Sequence[tuple[str | None, Any]]
  record: type | None

  def _replace(self, **changes: Any) -> Transform:
    """As ``NamedTuple._replace``, keeping the name, recipe and methods' extras."""
    new = super()._replace(**changes)
    new.__dict__.update(self.__dict__)
    return new

  def __repr__(self) -> str:
    return _render(self, indent=0)


def transform(
    init: Callable[..., Any],
    update: Callable[..., Any],
    *,
    record: type | None,
    name: str = "",
    parts: Sequence[tuple[str | None, Any]] = (),
    extra_args: bool = False,
    **hyperparams: Any,
) -> Transform:
  """Wraps ``init``/``update`` as a :class:`Transform`.

  Unless ``extra_args``, ``update`` is ``update(updates, state, params=None)``
  and the extra keyword arguments Optax passes (``value=loss``...) are
  accepted and ignored for it.
  """
  if not extra_args:
    inner_update = update

    def update(updates, state, params=None, **extra):
      del extra
      return inner_update(updates, state, params)

  result = Transform(init, update)
  result.name = name
  result.hyperparams = dict(hyperparams)
  result.parts = tuple(parts)
  result.record = record
  return result


def named(name: str, inner: Any, **hyperparams: Any) -> Transform:
  """Labels a composition as a method: same maths, a name, and a state
  record of the same fields named after the method (``AdamState``)."""
  inner = optax.with_extra_args_support(inner)
  inner_record = getattr(inner, "record", None)
  if inner_record is None:
    return transform(inner.init, inner.update, record=None, name=name,
                     parts=(("=", inner),), extra_args=True, **hyperparams)
  state_type = record(state_name(name), inner_record._fields)

  def init(params):
    return state_type(*inner.init(params))

  def update(updates, state, params=None, **extra_args):
    out, new = inner.update(updates, inner_record(*state), params, **extra_args)
    return out, state_type(*new)

  return transform(init, update, record=state_type, name=name, parts=(("=", inner),),
                   extra_args=True, **hyperparams)


def _format_value(value: Any) -> str:
  if callable(value) and not isinstance(value, (jax.Array, type)):
    return getattr(value, "__name__", "schedule")
  if isinstance(value, type):
    return value.__name__
  if isinstance(value, jax.Array) and value.ndim == 0 and not isinstance(value, jax.core.Tracer):
    return str(np.asarray(value)[()])  # a hyperparameter given as data: its number
  return repr(value)


def _prefix(role: str | None) -> str:
  """``numerator=`` for a role; a coefficient (``"0.5*"``) is written as is."""
  if not role:
    return ""
  return role if role.endswith("*") else f"{role}="


def _render(t: Any, indent: int) -> str:
  if not isinstance(t, Transform):
    return f"<optax {type(t).__name__}>"
  args = ", ".join(f"{k}={_format_value(v)}" for k, v in t.hyperparams.items())
  head = f"{t.name}({args})"
  if not t.parts:
    return head
  if t.parts[0][0] == "=":
    return f"{head} = {_render(t.parts[0][1], indent)}"
  settings = [f"{k}={_format_value(v)}" for k, v in t.hyperparams.items()]  # a combinator's own
  flat = ", ".join([_prefix(role) + _render(p, 0) for role, p in t.parts] + settings)
  one_line = f"{t.name}({flat})"
  if "\n" not in one_line and indent + len(one_line) <= _LINE_WIDTH:
    return one_line
  pad = " " * (indent + 2)
  lines = [pad + _prefix(role) + _render(p, indent + 2) + "," for role, p in t.parts]
  lines += [pad + setting + "," for setting in settings]
  return f"{t.name}(\n" + "\n".join(lines) + "\n" + " " * indent + ")"
