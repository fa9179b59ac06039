"""Every public method's docstring has an example, and the example runs.

The names are computed, not listed: the public names of ``adamx`` defined
under ``adamx._methods`` (methods and arrangements), the other public names
whose docstrings have an example (``fused``, ``param_groups``,
``accumulate_in_state``...), and the ``__all__`` of ``adamx.compat.keras``
and ``adamx.compat.torch``.
Each docstring must hold a ``>>>`` example, run with the standard
:mod:`doctest` module in an empty namespace (the example imports what it
uses), under this test process's settings (float64 enabled, strict dtype
promotion, warnings as errors).
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import io

import pytest

import adamx
import adamx.compat.keras
import adamx.compat.torch

COMPAT = ("adamx.compat.keras", "adamx.compat.torch")


def _compat_names(module_name: str) -> list[str]:
  module = importlib.import_module(module_name)
  return [f"{module_name}.{name}" for name in sorted(module.__all__)]


def _public_names() -> list[str]:
  """Every method must have an example; any other public name with one is run too."""
  def required(value):
    return getattr(value, "__module__", "").startswith("adamx._methods")

  methods = [f"adamx.{name}" for name in adamx.__all__ if required(getattr(adamx, name))
             or ">>>" in (inspect.getdoc(getattr(adamx, name)) or "")]
  return sorted(methods) + [n for m in COMPAT for n in _compat_names(m)]


NAMES = _public_names()


def _resolve(dotted: str):
  module_name, _, attribute = dotted.rpartition(".")
  return getattr(importlib.import_module(module_name), attribute)


def test_the_names_are_found():
  """Guards the computation of NAMES (an empty list would test nothing)."""
  assert {"adamx.adam", "adamx.sophia", "adamx.scale_by_adam", "adamx.rms_denominator",
          "adamx.fused", "adamx.compat.keras.Adam", "adamx.compat.torch.Adam"} <= set(NAMES)
  assert len(NAMES) == len(set(NAMES))


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_docstring_example_runs(name):
  obj = _resolve(name)
  assert ">>>" in (inspect.getdoc(obj) or ""), f"{name}: its docstring has no '>>>' example."
  # The factories are wrapped by functools.wraps (same docstring); the
  # unwrapped function gives the finder the right file and line numbers.
  tests = doctest.DocTestFinder().find(inspect.unwrap(obj), name, globs={})
  assert tests and any(t.examples for t in tests), f"{name}: doctest finds no example."
  runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
  report = io.StringIO()
  for test in tests:
    runner.run(test, out=report.write)
  assert runner.failures == 0, f"{name}: its example fails:\n{report.getvalue()}"
