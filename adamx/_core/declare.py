"""Factories declared once: the signature is the single source of truth.

A factory's signature gives each hyperparameter's name and default; the
name's entry in :data:`adamx._core.hyperparams.SPECS` gives what it accepts.
The decorators here read both, so a factory never repeats its
hyperparameters: they validate every argument when the transform is built
(naming the factory, argument, value and valid range), and record the
arguments worth printing in the recipe:

* :func:`primitive` names the transform its body builds from ``init``/``update``;
* :func:`method` labels the composition its body returns (``adam(...) = chain(...)``)
  and names its state record after it (``AdamState``);
* :func:`arrangement` checks the arguments of a reusable sub-recipe and returns
  the composition as it is (it prints as its parts).

Printed hyperparameters: required ones, those that differ from their default,
and positional ones whose default is a nonzero number (``b1=0.9``): the
knobs that act. Switches left at their defaults are not printed.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from adamx._core import hyperparams as hp
from adamx._core.transform import Transform, named

F = TypeVar("F", bound=Callable[..., Any])
_PLAIN = (bool, int, float, str, type(None))


def _same(value: Any, default: Any) -> bool:
  if value is default:
    return True
  if isinstance(value, _PLAIN) and isinstance(default, _PLAIN):
    return type(value) is type(default) and value == default
  if isinstance(value, tuple) and isinstance(default, tuple):
    return len(value) == len(default) and all(map(_same, value, default))
  return False


def _acts_by_default(parameter: inspect.Parameter) -> bool:
  default = parameter.default
  if parameter.kind is not parameter.POSITIONAL_OR_KEYWORD:
    return False
  numbers = default if isinstance(default, tuple) else (default,)
  return all(isinstance(x, (int, float)) and not isinstance(x, bool) and x != 0
             for x in numbers)


def _bind(owner: str, signature: inspect.Signature, args: Any, kwargs: Any,
          specs: dict[str, Any] | None):
  bound = signature.bind(*args, **kwargs)
  bound.apply_defaults()
  shown = {}
  for name, parameter in signature.parameters.items():
    if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
      continue
    value, default = bound.arguments[name], parameter.default
    hp.check(owner, name, value, default, specs)
    if (default is parameter.empty or not _same(value, default)
        or _acts_by_default(parameter)):
      shown[name] = value
  return bound, shown


def _declare(factory: F, label: Callable[[str, Any, dict[str, Any]], Any], name: str,
             specs: dict[str, Any] | None = None) -> F:
  signature = inspect.signature(factory)

  @functools.wraps(factory)
  def build(*args: Any, **kwargs: Any) -> Any:
    bound, shown = _bind(name, signature, args, kwargs, specs)
    return label(name, factory(*bound.args, **bound.kwargs), shown)

  return build  # type: ignore[return-value]


def _label_primitive(name: str, built: Transform, shown: dict[str, Any]) -> Transform:
  built.name, built.hyperparams = name, shown
  return built


def primitive(factory: F) -> F:
  """Declares a primitive: checked arguments, named transform."""
  return _declare(factory, _label_primitive, factory.__name__)


def method(factory: F | None = None, *, name: str | None = None,
           specs: dict[str, Any] | None = None) -> Any:
  """Declares a method: checked arguments, the composition labelled ``name``
  (default: the function's name), its state record named after it.
  ``specs`` overrides the table for an argument whose meaning is local to it."""
  if factory is None:
    return functools.partial(method, name=name, specs=specs)
  return _declare(factory, lambda n, recipe, shown: named(n, recipe, **shown),
                  name or factory.__name__, specs)


def arrangement(factory: F) -> F:
  """Declares a sub-recipe: checked arguments; the composition is returned as is."""
  return _declare(factory, lambda n, recipe, shown: recipe, factory.__name__)
