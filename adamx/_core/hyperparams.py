"""Hyperparameters: what each name accepts, checked once, evaluated in a safe dtype.

Every numeric hyperparameter may be a Python number, a 0-d JAX/NumPy array
(a batch of them under ``jax.vmap``, where it is a tracer), or, for step-like
ones, a schedule ``count -> value``. There is no Python control flow on
values, so traced values work; concrete values are checked when the
transform is built (:func:`check`), against :data:`SPECS`: the one table of
what each argument name accepts, shared by every factory that uses the name.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from typing import Any, Union

import jax
import jax.numpy as jnp
import numpy as np

from adamx._core import quantized

Scalar = Union[float, int, jax.Array, np.ndarray]
ScalarOrSchedule = Union[Scalar, Callable[[jax.Array], Scalar]]


class InvalidHyperparameter(ValueError, TypeError):
  """A hyperparameter of the wrong type or outside its valid range.

  Both a ``ValueError`` and a ``TypeError``, so either ``except`` catches it.
  """


@dataclasses.dataclass(frozen=True)
class Spec:
  """What a numeric hyperparameter accepts: a real number in a range."""

  low: float = -math.inf
  high: float = math.inf
  low_open: bool = False
  high_open: bool = False
  schedule: bool = False  # a callable count -> value is also accepted

  def describe(self, name: str) -> str:
    left = f"{self.low} {'<' if self.low_open else '<='} " if self.low > -math.inf else ""
    right = f" {'<' if self.high_open else '<='} {self.high}" if self.high < math.inf else ""
    bounds = f"{left}{name}{right}" if left or right else f"{name} finite"
    return bounds + (" (a number, or a schedule count -> value)" if self.schedule else "")

  def contains(self, value: float) -> bool:
    above = value > self.low if self.low_open else value >= self.low
    below = value < self.high if self.high_open else value <= self.high
    return bool(above and below and math.isfinite(value))


@dataclasses.dataclass(frozen=True)
class Pair:
  """A pair of hyperparameters, e.g. torch's ``betas=(b1, b2)``."""

  names: tuple[str, str]
  spec: Spec


DECAY = Spec(0.0, 1.0, high_open=True)
NONNEGATIVE = Spec(0.0)
RATE = Spec(0.0, schedule=True)
REAL = Spec()

# The one table: argument name -> what it accepts, for every factory.
SPECS: dict[str, Spec | Pair] = {
    **dict.fromkeys(("decay", "b1", "b2", "rho", "momentum", "beta_1", "beta_2"), DECAY),
    "alpha": RATE,  # a mixing weight (OGD, AdEMAMix); torch RMSprop's alpha is a decay
    **dict.fromkeys(
        ("eps", "epsilon", "eps_root", "initial_value", "initial_scale",
         "initial_accumulator_value", "momentum_decay", "lr_decay"), NONNEGATIVE),
    **dict.fromkeys(("learning_rate", "lr", "weight_decay"), RATE),
    "betas": Pair(("b1", "b2"), DECAY),
    **dict.fromkeys(("beta", "optimism"), RATE),
    "b3": Spec(0.0, 1.0, high_open=True, schedule=True),
    "dampening": Spec(0.0, 1.0),
    "threshold": Spec(4.0),
    "power": Spec(0.0, low_open=True),
    "step_size": REAL,
    "interpolation": Spec(0.0, 1.0),
    **dict.fromkeys(("max_delta", "min_norm", "trust_coefficient", "gamma", "max_norm"),
                    NONNEGATIVE),
    "update_interval": Spec(1.0),
    "learning_rate_multiplier": NONNEGATIVE,  # a parameter group's share of the default rate
    "step_size_fn": Spec(schedule=True),
    "decay_fn": Spec(0.0, 1.0, high_open=True, schedule=True),
}
DTYPE_ARGUMENTS = ("dtype", "mu_dtype", "nu_dtype", "accumulator_dtype", "dtype_momentum",
                   "decay_dtype")
# A mask is a bool, a tree of bools or a function of the parameters (as Optax's).
MASK_ARGUMENTS = ("mask", "weight_decay_mask", "trust_ratio_mask")


class _Text(str):
  """A description shown as is in a message (no quotes)."""

  def __repr__(self) -> str:
    return str(self)


def _fail(owner: str, name: str, value: Any, problem: str, valid: str) -> InvalidHyperparameter:
  return InvalidHyperparameter(f"{owner}: {name}={value!r} {problem}; valid: {valid}.")


def _is_traced(value: Any) -> bool:
  return isinstance(value, jax.core.Tracer)


def check_number(owner: str, name: str, value: Any, spec: Spec, shown: Any = None) -> None:
  """Checks a concrete number or 0-d array against ``spec``."""
  if isinstance(value, OneMinus):
    return  # built from a hyperparameter that was checked itself
  shown = value if shown is None else shown
  valid = spec.describe(name)
  if value is None:
    raise _fail(owner, name, shown, "is None, where a number is needed", valid)
  if isinstance(value, (bool, np.bool_, str, bytes)):
    hint = " (numeric strings are not converted)" if isinstance(value, str) else ""
    raise _fail(owner, name, shown, f"is a {type(value).__name__}, not a number{hint}", valid)
  if _is_traced(value):
    return
  if isinstance(value, numbers.Number):
    array = np.asarray(value)
  elif isinstance(value, (np.ndarray, np.generic, jax.Array)):
    array = np.asarray(value)
  else:
    raise _fail(owner, name, shown, f"is a {type(value).__name__}, not a number", valid)
  if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
    raise _fail(owner, name, shown, f"has dtype {array.dtype}, not a real number", valid)
  if array.ndim != 0:
    raise _fail(owner, name, shown, f"has shape {array.shape}; a hyperparameter is a"
                " scalar (use jax.vmap for a batch of values)", f"a scalar with {valid}")
  if not math.isfinite(float(array)):
    raise _fail(owner, name, shown, "is not finite", valid)
  if not spec.contains(float(array)):
    raise _fail(owner, name, shown, "is outside the valid range", valid)


def _first_value(owner: str, name: str, schedule: Callable[..., Any]) -> Any:
  """A schedule's value at count 0, or None where it cannot be had cheaply."""
  try:
    with jax.numpy_dtype_promotion("standard"):
      return schedule(jnp.zeros([], jnp.int32))
  except Exception as error:  # noqa: BLE001 - user code; report it with context
    raise InvalidHyperparameter(
        f"{owner}: {name} is a schedule that fails at count 0: {error!r}") from error


def check(owner: str, name: str, value: Any, default: Any,
          specs: dict[str, Spec | Pair] | None = None) -> None:
  """Raises :class:`InvalidHyperparameter` if ``value`` is not valid for ``name``.

  What is valid comes from the name: :data:`SPECS` for numbers, a bool for an
  argument whose default is a bool, ``None`` or a floating dtype for a dtype
  argument, and ``None`` wherever the default is ``None``. Traced values are
  not checked; a schedule is checked on its value at count 0. ``specs``
  overrides the table for one factory (a name whose meaning is local).
  """
  if value is None and default is None:
    return  # an optional argument left out
  spec = (specs or {}).get(name, SPECS.get(name))
  if isinstance(spec, Pair):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
      raise _fail(owner, name, value, "is not a pair", f"({spec.names[0]}, {spec.names[1]})")
    for inner, item in zip(spec.names, value):
      check_number(owner, inner, item, spec.spec, shown=item)
    return
  if spec is not None:
    if callable(value) and not isinstance(value, jax.Array):
      if not spec.schedule:
        raise _fail(owner, name, value, "is a callable; this argument takes no schedule",
                    spec.describe(name))
      first = _first_value(owner, name, value)
      if not _is_traced(first):
        check_number(owner, name, first, spec, shown=_Text(f"<schedule: {first!r} at count 0>"))
      return
    check_number(owner, name, value, spec)
  elif name in MASK_ARGUMENTS:
    return
  elif isinstance(default, bool):
    if not isinstance(value, (bool, np.bool_)):
      raise _fail(owner, name, value, f"is a {type(value).__name__}", "True or False")
  elif name in DTYPE_ARGUMENTS:
    check_dtype(owner, name, value)


def check_dtype(owner: str, name: str, value: Any) -> None:
  """A moment dtype must be floating point, or a quantized format (``"int8"``, ``"int4"``)."""
  if quantized.as_format(value) is not None:
    return
  try:
    dtype = jnp.dtype(value)
  except TypeError as error:
    raise _fail(owner, name, value, "is not a dtype", "None or a floating dtype") from error
  if not jnp.issubdtype(dtype, jnp.inexact):
    raise _fail(owner, name, value,
                f"is {dtype}, which cannot hold a moment (it would store rounded zeros)",
                "None, a floating dtype such as jnp.float32 or jnp.bfloat16, or a quantized "
                "format: 'int8' or 'int4'")


def compute_dtype(*dtypes: Any) -> jnp.dtype:
  """The dtype arithmetic is done in: the widest input float, at least float32.

  bfloat16 and float16 would round b2=0.999 to 1.0 and flush eps to zero.
  Complex inputs give the complex type of that precision. Chosen explicitly
  (not by implicit promotion), so it is the same under
  ``jax_numpy_dtype_promotion="strict"``; 64-bit follows ``jax_enable_x64``.
  """
  bits, complex_ = 32, False
  for dtype in dtypes:
    dtype = jnp.dtype(dtype)
    if jnp.issubdtype(dtype, jnp.complexfloating):
      complex_, bits = True, max(bits, dtype.itemsize * 4)
    elif jnp.issubdtype(dtype, jnp.floating):
      bits = max(bits, dtype.itemsize * 8)
  if complex_:
    widest = jnp.complex128 if bits > 32 else jnp.complex64
  else:
    widest = jnp.float64 if bits > 32 else jnp.float32
  return jnp.dtype(jax.dtypes.canonicalize_dtype(widest))


def real_dtype(dtype: Any) -> jnp.dtype:
  """The real dtype of the same precision (float32 for complex64)."""
  return jnp.finfo(dtype).dtype


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
  if not callable(value) or isinstance(value, jax.Array):
    return value
  with jax.numpy_dtype_promotion("standard"):
    return value(count)


def cast(value: Any, dtype: Any) -> jax.Array:
  """A hyperparameter as an array of ``dtype`` (Python floats exactly)."""
  if isinstance(value, OneMinus):
    return 1 - cast(value.value, dtype)
  if isinstance(value, Formed):
    return value.form(**{k: cast(v, dtype) for k, v in value.inputs.items()})
  return jnp.asarray(value, dtype=dtype)


@dataclasses.dataclass(frozen=True)
class OneMinus:
  """:math:`1 - x`, formed in the dtype it is cast to (like every other use of
  ``x``), so a Python float and a float32 array of ``x`` give the same bits."""

  value: Any

  def __repr__(self) -> str:
    return f"(1 - {self.value!r})"


class Formed:
  """A per-step scalar formed from hyperparameters in the dtype it is cast to.

  ``cast(Formed(form, b=decay, t=count), d)`` is ``form(b=cast(decay, d),
  t=cast(count, d))``: :math:`\\beta^t`, say, computed as the per-array maths
  would compute it, but once per step and dtype instead of once per leaf
  (:func:`adamx._core.lift.leafwise` casts each scalar once per compute dtype).
  """

  def __init__(self, form: Callable[..., Any], **inputs: Any):
    self.form, self.inputs = form, inputs
