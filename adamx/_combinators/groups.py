"""Parameter groups as data: per-group hyperparameters held in the state.

``param_groups(adamx.adamw, learning_rate=1e-3, weight_decay=0.1, groups={...})``
gives each group of leaves its own hyperparameters (or its own method). The
numeric ones live in the state as arrays and are passed to the method each
step, as ``optax.inject_hyperparams`` does for one group: changing a group's
value (:func:`set_group_hyperparams`) does not rebuild the optimizer or
recompile a jitted step, and ``jax.vmap`` over a group's value equals
separate runs.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._core.records import record
from adamx._core.transform import Transform, transform

DEFAULT = "default"
MULTIPLIER = "learning_rate_multiplier"
ParamGroupsState = record("ParamGroupsState", ("hyperparams", "inner"))


@dataclasses.dataclass(frozen=True)
class Group:
  """Which leaves form a group, and what they get (see :func:`group`)."""

  pattern: str | None
  label: Any
  method: Callable[..., Transform] | None
  values: Mapping[str, Any]


def group(pattern: str | None = None, *, label: Any = None,
          method: Callable[..., Transform] | None = None, **values: Any) -> Group:
  """A parameter group for :func:`param_groups`.

  Args:
    pattern: a regular expression searched (``re.search``) in each leaf's path,
      its keys joined by ``/`` (``"params/Dense_0/bias"``).
    label: or the leaves whose label (from ``param_groups(labels=...)``) equals it.
    method: another method for this group (a factory such as ``adamx.lion``), built
      from ``values`` alone; by default the group's method is ``param_groups``'s,
      built from its defaults updated with ``values``.
    **values: the group's hyperparameters, by the method's argument names, and
      ``learning_rate_multiplier``: the group's rate is this times the default
      group's (a number or a schedule).
  """
  if (pattern is None) == (label is None):
    raise TypeError("adamx.group: give exactly one of a path pattern or label=.")
  if pattern is not None:
    re.compile(pattern)  # a malformed pattern fails here, not at the first step
  return Group(pattern, label, method, dict(values))


def leaf_paths(tree: Any) -> list[str]:
  """Each leaf's key path as ``a/b/0/c``: what group patterns are searched in."""
  def key(entry: Any) -> str:
    for attribute in ("key", "idx", "name"):
      if hasattr(entry, attribute):
        return str(getattr(entry, attribute))
    return str(entry)

  return ["/".join(key(e) for e in path) for path, _ in
          jax.tree_util.tree_flatten_with_path(tree)[0]]


def _is_data(factory: Callable[..., Any], name: str, value: Any) -> bool:
  """Numbers (and tuples of numbers) for an argument that takes a float (its default is a
  float, ``None``, or there is none) are data."""
  if name == MULTIPLIER:
    return True
  values = value if isinstance(value, tuple) else (value,)
  numeric = all(isinstance(v, (int, float, jax.Array)) and not isinstance(v, bool)
                for v in values)
  parameter = inspect.signature(factory).parameters.get(name)
  default = parameter.default if parameter is not None else inspect.Parameter.empty
  defaults = default if isinstance(default, tuple) else (default,)
  takes_float = default in (inspect.Parameter.empty, None) or any(isinstance(d, float) for d in defaults)
  return numeric and takes_float


def _as_data(value: Any) -> Any:
  if isinstance(value, tuple):
    return tuple(_as_data(v) for v in value)
  return jnp.asarray(value, jnp.result_type(float))


def param_groups(method: Callable[..., Transform], *,
                 groups: Mapping[str, Group], labels: Any = None,
                 **defaults: Any) -> Transform:
  """``method`` with per-group hyperparameters kept in the state as data.

  Each leaf belongs to the first group (in ``groups``' order) whose pattern
  matches its path or whose label equals its label, else to the ``"default"``
  group, which gets ``method(**defaults)``. Group ``g`` gets
  ``method(**{**defaults, **g.values})``, or ``g.method(**g.values)``; with
  ``learning_rate_multiplier=c`` its rate is
  :math:`\\eta^{(g)}_t = c\\,\\eta^{\\text{default}}_t`. Every group's method runs
  on its own leaves only, with a state of its own.

  The numeric hyperparameters (numbers, or tuples of numbers, given for an
  argument that takes a float) are data: arrays in
  ``state.hyperparams[group][name]``, read each step, so
  :func:`set_group_hyperparams` changes them without recompiling a jitted step,
  and ``jax.vmap`` over one equals separate runs. Flags, dtypes, masks and
  schedules are fixed when the optimizer is built.

  State: ``ParamGroupsState(hyperparams, inner)``, ``inner[group]`` the group's
  method state (readable by Optax's field names); ``adamx.learning_rate(state)``
  gives ``{group: rate}``.

  Reproduces exactly ``optax.partition`` of the equivalent fixed methods, and
  torch.optim's parameter groups through ``adamx.compat.torch``.

  Args:
    method: the default method, a factory such as ``adamx.adamw``.
    groups: ``{name: adamx.group(...)}``; ``"default"`` is reserved.
    labels: a tree of labels like the parameters, or a function of the
      parameters returning one (as ``optax.partition``'s), for ``group(label=)``.
    **defaults: the default group's arguments to ``method``.

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p["w"] - 1.0) ** 2) + jnp.sum((p["bias"] - 1.0) ** 2)
    >>> opt = adamx.param_groups(adamx.adamw, learning_rate=0.1, weight_decay=1e-4,
    ...                          groups={"no_decay": adamx.group("bias", weight_decay=0.0)})
    >>> params = {"w": jnp.zeros(3, jnp.float32), "bias": jnp.zeros(2, jnp.float32)}
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  if DEFAULT in groups:
    raise ValueError(f"adamx.param_groups: the group name {DEFAULT!r} is reserved for the "
                     "leaves no group takes; name the group otherwise.")
  specs = {DEFAULT: (method, defaults)}
  for name, g in groups.items():
    inherited = {k: v for k, v in defaults.items()
                 if not (MULTIPLIER in g.values and k == "learning_rate")}
    specs[name] = (g.method, dict(g.values)) if g.method else (method, {**inherited, **g.values})
  for name, g in groups.items():
    if g.label is not None and labels is None:
      raise ValueError(f"adamx.param_groups: group {name!r} selects by label but no labels= "
                       "was given.")
    if MULTIPLIER in g.values:
      if g.method is not None or "learning_rate" in g.values:
        raise ValueError(f"adamx.param_groups: group {name!r} gives {MULTIPLIER}, which scales "
                         "the default method's learning_rate: give no method= or learning_rate.")
      hp.check(f"param_groups({name!r})", MULTIPLIER, g.values[MULTIPLIER], None)

  fixed, given = {}, {}  # per group: the arguments fixed at build, and those held as data
  for name, (factory, values) in specs.items():
    given[name] = {k: v for k, v in values.items() if _is_data(factory, k, v)}
    fixed[name] = {k: v for k, v in values.items() if k not in given[name]}
  initial = {name: {k: _as_data(v) for k, v in values.items()} for name, values in given.items()}

  def build(name: str, hyperparams: Mapping[str, Mapping[str, Any]]) -> Transform:
    """Group ``name``'s method, its numeric arguments read from ``hyperparams``."""
    factory, _ = specs[name]
    arguments = {**fixed[name], **hyperparams[name]}
    if MULTIPLIER in arguments:
      multiplier = arguments.pop(MULTIPLIER)
      base = {**fixed[DEFAULT], **hyperparams[DEFAULT]}["learning_rate"]

      def multiplied_default_rate(count):
        return multiplier * hp.evaluate(base, count)

      arguments["learning_rate"] = multiplied_default_rate
    return factory(**arguments)

  def assign(tree: Any) -> list[str]:
    """Each leaf's group name."""
    paths = leaf_paths(tree)
    tags = jax.tree.leaves(labels(tree) if callable(labels) else labels) if labels else None
    owners = []
    for i, path in enumerate(paths):
      owners.append(next((name for name, g in groups.items()
                          if (g.pattern is not None and re.search(g.pattern, path))
                          or (g.label is not None and tags is not None and tags[i] == g.label)),
                         DEFAULT))
    return owners

  def members(tree: Any, owners: list[str], name: str) -> list[Any]:
    return [leaf for leaf, owner in zip(jax.tree.leaves(tree), owners) if owner == name]

  def init(params):
    owners = assign(params)
    inner = {name: build(name, initial).init(members(params, owners, name)) for name in specs}
    return ParamGroupsState(initial, inner)

  def update(updates, state, params=None, **extra_args):
    owners = assign(updates)
    out, inner = list(jax.tree.leaves(updates)), {}
    flat_params = None if params is None else jax.tree.leaves(params)
    for name in specs:
      index = [i for i, owner in enumerate(owners) if owner == name]
      sub_params = None if params is None else [flat_params[i] for i in index]
      new, inner[name] = build(name, state.hyperparams).update(
          [out[i] for i in index], state.inner[name], sub_params, **extra_args)
      for i, leaf in zip(index, new):
        out[i] = leaf
    return jax.tree.unflatten(jax.tree.structure(updates), out), ParamGroupsState(
        state.hyperparams, inner)

  shown = {}
  for name in specs:  # built once from the values as given: checked, and printed as given
    try:
      shown[name] = build(name, given)
    except hp.InvalidHyperparameter as error:
      raise hp.InvalidHyperparameter(f"param_groups, group {name!r}: {error}") from None
  return transform(init, update, record=None, name="param_groups",
                   parts=tuple(shown.items()), extra_args=True)


def set_group_hyperparams(state: Any, group_name: str, **values: Any) -> Any:
  """``state`` with group ``group_name``'s hyperparameters set to ``values``.

  Each value keeps the stored array's dtype and shape, so a jitted step taking
  the state is not recompiled. Works on a :func:`param_groups` state found
  anywhere in ``state`` (inside ``optax.chain``, a ``TrainState``...).

  Raises:
    KeyError: for a group or hyperparameter the state does not hold (the
      message lists those it does).
  """
  def is_grouped(node: Any) -> bool:
    return type(node) is ParamGroupsState

  def replace(node: Any) -> Any:
    if not is_grouped(node):
      return node
    if group_name not in node.hyperparams:
      raise KeyError(f"set_group_hyperparams: no group {group_name!r}; the state has "
                     f"{sorted(node.hyperparams)}.")
    held = node.hyperparams[group_name]
    unknown = sorted(set(values) - set(held))
    if unknown:
      raise KeyError(f"set_group_hyperparams: group {group_name!r} holds no {unknown} as "
                     f"data; it holds {sorted(held)} (flags, dtypes and schedules are fixed "
                     "when the optimizer is built).")
    for k, v in values.items():
      hp.check(f"set_group_hyperparams({group_name!r})", k, v, None)
    new = {k: jax.tree.map(lambda old, v: jnp.asarray(v, old.dtype).reshape(old.shape),
                           held[k], values[k]) if k in values else held[k] for k in held}
    return node._replace(hyperparams={**node.hyperparams, group_name: new})

  found = [n for n in jax.tree.leaves(state, is_leaf=is_grouped) if is_grouped(n)]
  if len(found) != 1:
    raise ValueError(f"set_group_hyperparams: the state holds {len(found)} param_groups "
                     "states; expected exactly one.")
  return jax.tree.map(replace, state, is_leaf=is_grouped)
