"""Hyperparameters are data: vmap-able, no recompilation, dtype-stable.

One table: every method x every numeric hyperparameter. Each row gives two
values of the hyperparameter; the other arguments are fixed per method.
"""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.methods import METHODS, dtypes_for
from tests.trajectories import relative_difference, scan_path

STEPS = 8
SHAPES = {"w": (2, 3)}

# Two values for each hyperparameter name; every method of tests/methods.py
# that takes the name gets a row, so a new method is covered by entering it there.
VALUES = {
    **dict.fromkeys(("learning_rate", "lr"), (0.1, 0.05)),
    **dict.fromkeys(("b1", "beta_1", "decay", "rho", "alpha", "momentum"), (0.9, 0.7)),
    **dict.fromkeys(("b2", "beta_2"), (0.999, 0.99)),
    **dict.fromkeys(("eps", "epsilon"), (1e-8, 1e-3)),
    "eps_root": (0.0, 1e-2),
    "gamma": (0.025, 0.5),
    "weight_decay": (1e-4, 0.1),
    "initial_accumulator_value": (0.1, 0.5),
    "initial_scale": (0.0, 0.5),
    "momentum_decay": (0.004, 0.5),
    "threshold": (5.0, 6.0),
    "dampening": (0.1, 0.5),
    "lr_decay": (0.0, 0.5),
}
# Fixed arguments that make every row act within STEPS steps: RAdam's variance
# becomes tractable (rho_t >= 5) only with a small b2.
FIXED = {"radam": {"b2": 0.9}, "sgd": {"momentum": 0.9}, "adopt": {"use_clipping": False},
         "sophia": {"update_interval": 2, "gamma": 1.0}}


# Names a method uses with another meaning: torch Adafactor's eps is a pair.
INACTIVE = {"torch Adafactor": ("eps",)}


def rows_for(method):
  factory = METHODS[method][0]
  return {name: VALUES[name] for name in inspect.signature(factory).parameters
          if name in VALUES and name not in INACTIVE.get(method, ())}


# method: (factory, fixed arguments, {hyperparameter: (value, other value)})
TABLE = {
    method: (METHODS[method][0], {**METHODS[method][1], **FIXED.get(method, {})}, rows_for(method))
    for method in METHODS if jnp.bfloat16 in dtypes_for(method)
}
ROWS = [(m, h) for m, (_, _, hps) in TABLE.items() for h in hps]
IDS = [f"{m}-{h}" for m, h in ROWS]


def build(method, name, value):
  factory, fixed, _ = TABLE[method]
  return factory(**{**fixed, name: value})


def values(method, name):
  return TABLE[method][2][name]


def problem(dtype, seed=0):
  """Initial parameters and a gradient sequence, exactly representable in bfloat16."""
  rng = np.random.default_rng(seed)

  def representable(x):
    return jnp.asarray(jnp.asarray(x, jnp.bfloat16), dtype)

  params = {k: representable(rng.normal(size=s)) for k, s in SHAPES.items()}
  grads = {k: representable(rng.normal(size=(STEPS, *s)) * 10.0 ** rng.uniform(-2, 1, (STEPS, *s)))
           for k, s in SHAPES.items()}
  return params, grads


def as_matrix(path):
  return np.concatenate(
      [np.asarray(path[k], np.float64).reshape(STEPS, -1) for k in SHAPES], axis=1)


@pytest.mark.parametrize("method,name", ROWS, ids=IDS)
def test_vmap_over_values_matches_separate_runs_without_retracing(method, name):
  params, grads = problem(jnp.float32)
  traces = []

  def run(value):
    traces.append(None)  # Python side effect: runs once per trace
    return scan_path(build(method, name, value), params, grads)

  a, b = values(method, name)
  step = jax.jit(run)
  separate = [step(jnp.asarray(v, jnp.float32)) for v in (a, b)]
  assert len(traces) == 1, "a new hyperparameter value recompiled the step"
  batched = jax.jit(jax.vmap(run))(jnp.asarray([a, b], jnp.float32))
  for i, single in enumerate(separate):
    for k in SHAPES:
      np.testing.assert_allclose(batched[k][i], single[k], rtol=2e-6, atol=1e-7,
                                 err_msg=f"{method} {name}={(a, b)[i]}, leaf {k}")
  assert not np.allclose(as_matrix(separate[0]), as_matrix(separate[1])), (
      "the two values gave the same trajectory: the row tests nothing")


def build_all(method, convert=lambda name, value: value):
  """The method with every numeric hyperparameter of its row set at once."""
  factory, fixed, hps = TABLE[method]
  return factory(**{**fixed, **{name: convert(name, v[0]) for name, v in hps.items()}})


@pytest.mark.parametrize("method", list(TABLE))
def test_python_float_and_float32_array_are_bit_identical(method):
  params, grads = problem(jnp.float32)
  from_float = jax.jit(lambda: scan_path(build_all(method), params, grads))()
  as_array = lambda name, v: jnp.asarray(v, jnp.float32)
  from_array = jax.jit(lambda: scan_path(build_all(method, as_array), params, grads))()
  for k in SHAPES:
    assert from_float[k].dtype == jnp.float32
    np.testing.assert_array_equal(from_array[k], from_float[k], err_msg=f"leaf {k}")


# Decay-like values are set to 0.999, which bfloat16 rounds to 1.0 (an EMA
# that never moves, a bias correction of 0): computed in bfloat16 they would
# wreck the trajectory. Others keep their first table value.
NEAR_ONE = {"b1", "b2", "decay", "rho", "momentum", "dampening"}
BF16_TOLERANCE = 0.05  # relative, 8 steps of bfloat16 parameter rounding


def near_one(name, value):
  return 0.999 if name in NEAR_ONE else value


@pytest.mark.parametrize("method", list(TABLE))
def test_bfloat16_params_track_float32(method):
  opt = build_all(method, near_one)
  low = as_matrix(jax.jit(lambda: scan_path(opt, *problem(jnp.bfloat16)))())
  high = as_matrix(jax.jit(lambda: scan_path(opt, *problem(jnp.float32)))())
  assert np.all(np.isfinite(low))
  assert relative_difference(low, high) < BF16_TOLERANCE


@pytest.mark.parametrize("method,name", [("adam", "b2"), ("nadam", "b2"), ("amsgrad", "b2"),
                                         ("radam", "b2"), ("adadelta", "rho"),
                                         ("rmsprop", "decay")])
def test_bfloat16_does_not_round_decay_to_one(method, name):
  # Optax #1414: with bf16 params, b2=0.999 became 1.0. The bf16 run follows
  # float32 with 0.999; the control shows what rounding to 1.0 would do
  # (passed traced, since 1.0 is outside the range validated when concrete).
  run = lambda value, dtype: as_matrix(jax.jit(
      lambda v: scan_path(build(method, name, v), *problem(dtype)))(jnp.float32(value)))
  low = run(0.999, jnp.bfloat16)
  exact = run(0.999, jnp.float32)
  assert np.all(np.isfinite(low))
  assert relative_difference(low, exact) < BF16_TOLERANCE
  rounded = run(1.0, jnp.float32)
  assert not relative_difference(rounded, exact) < 10 * BF16_TOLERANCE
