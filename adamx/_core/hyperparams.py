"""Hyperparameters: validation when concrete, evaluation in a safe dtype.

Every numeric hyperparameter may be a Python number, a JAX/NumPy array (a
batch of them under ``jax.vmap``), or, for step-like ones, a schedule
``count -> value``. There is no Python control flow on values, so traced
values work; concrete values are validated when the transform is built.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Union

import jax
import jax.numpy as jnp
import numpy as np

Scalar = Union[float, int, jax.Array, np.ndarray]
ScalarOrSchedule = Union[Scalar, Callable[[jax.Array], Scalar]]


def _concrete_values(value: Any) -> np.ndarray | None:
  """The value as a NumPy array, or None if it is traced or a schedule."""
  if callable(value) or isinstance(value, jax.core.Tracer):
    return None
  return np.asarray(value, dtype=np.float64)


def check_range(
    owner: str,
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
  """Raises ``ValueError`` if a concrete ``value`` lies outside the range.

  NaN is always out of range. Traced values and schedules are not checked.
  """
  values = _concrete_values(value)
  if values is None:
    return
  above = values > low if low_open else values >= low
  below = values < high if high_open else values <= high
  if np.all(above & below):
    return
  left = f"{low} {'<' if low_open else '<='} " if low > -math.inf else ""
  right = f" {'<' if high_open else '<='} {high}" if high < math.inf else ""
  raise ValueError(
      f"{owner}: {name}={value!r} is outside the valid range"
      f" {left}{name}{right}."
  )


def compute_dtype(*dtypes: Any) -> jnp.dtype:
  """The dtype arithmetic is done in: the widest input float, at least float32.

  bfloat16 and float16 would round b2=0.999 to 1.0 and flush eps to zero.
  Chosen explicitly (not by implicit promotion), so it is the same under
  ``jax_numpy_dtype_promotion="strict"``; 64-bit follows ``jax_enable_x64``.
  """
  widest = jnp.dtype(jnp.float32)
  for dtype in dtypes:
    dtype = jnp.dtype(dtype)
    if jnp.issubdtype(dtype, jnp.floating) and dtype.itemsize > widest.itemsize:
      widest = dtype
  return jnp.dtype(jax.dtypes.canonicalize_dtype(widest))


def is_zero(value: Any) -> bool:
  """True for a Python number equal to 0: an unused term that can be left out.

  Arrays and tracers are never "zero" here, so a value that may change (under
  ``vmap`` or as a jit argument) keeps its place in the recipe.
  """
  return isinstance(value, (int, float)) and value == 0


def evaluate(value: ScalarOrSchedule, count: jax.Array) -> Any:
  """The value of a hyperparameter at step ``count`` (int32, 0-based).

  Schedules are user code (often Optax's, which mixes floats and int32), so
  they are traced with standard dtype promotion even in strict mode.
  """
  if not callable(value):
    return value
  with jax.numpy_dtype_promotion("standard"):
    return value(count)


def cast(value: Any, dtype: Any) -> jax.Array:
  """A hyperparameter as an array of ``dtype`` (Python floats exactly)."""
  return jnp.asarray(value, dtype=dtype)


_PROBABILITY = dict(low=0.0, high=1.0, high_open=True)
_NONNEGATIVE = dict(low=0.0)
_RANGES = {
    **dict.fromkeys(
        ("decay", "b1", "b2", "rho", "momentum", "alpha", "beta_1", "beta_2"), _PROBABILITY
    ),
    **dict.fromkeys(
        ("eps", "epsilon", "eps_root", "learning_rate", "lr", "weight_decay", "initial_value",
         "initial_scale", "initial_accumulator_value", "momentum_decay", "lr_decay"),
        _NONNEGATIVE,
    ),
    "dampening": dict(low=0.0, high=1.0),
    "threshold": dict(low=4.0),
    "power": dict(low=0.0, low_open=True),
}


def validate(owner: str, **values: Any) -> None:
  """Checks each concrete hyperparameter against the valid range for its name.

  ``None`` (an unused optional value), traced values and schedules pass.
  """
  for name, value in values.items():
    if value is not None:
      check_range(owner, name, value, **_RANGES[name])
