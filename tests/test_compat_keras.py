"""adamx.compat.keras against Keras 3 itself (JAX backend), 100 steps.

Keras runs in a subprocess (tests/keras_runner.py): it fixes its backend from
``KERAS_BACKEND`` when first imported, and it needs standard dtype promotion.
Each test runs one subprocess for a whole table of cases and reports every
case that misses the tolerance.
"""

import json
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamx.compat.keras as K
from tests.peers import KERAS_FLOAT32_CASES, KERAS_FLOAT64_CASES
from tests.trajectories import gradient_sequence, initial_params, relative_difference, stack

STEPS = 100
RUNNER = Path(__file__).with_name("keras_runner.py")

TOLERANCE = {"float64": 1e-10, "float32": 1e-6}


def run_adamx(opt, params, grads, dtype):
  p0 = {k: jnp.asarray(v, dtype) for k, v in params.items()}
  gs = {k: jnp.asarray(v, dtype) for k, v in grads.items()}

  def step(carry, g):
    p, state = carry
    updates, state = opt.update(g, state, p)
    p = optax.apply_updates(p, updates)
    return (p, state), p

  _, path = jax.jit(lambda p: jax.lax.scan(step, (p, opt.init(p)), gs))(p0)
  names = sorted(params)  # the runner's order
  return np.concatenate(
      [np.asarray(path[k], np.float64).reshape(STEPS, -1) for k in names], axis=1)


def start_keras(tmp_path, cases, dtype):
  """Starts Keras on ``cases`` in a subprocess; adamx runs meanwhile."""
  params = initial_params(3)
  grads = stack(gradient_sequence(3, STEPS))
  data, spec, out = tmp_path / "in.npz", tmp_path / "cases.json", tmp_path / "out.npz"
  np.savez(data, **{f"p/{k}": v for k, v in params.items()},
           **{f"g/{k}": v for k, v in grads.items()})
  spec.write_text(json.dumps([[name, kwargs, dtype] for name, kwargs in cases]))
  process = subprocess.Popen([sys.executable, str(RUNNER), str(data), str(spec), str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

  def finish():
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    paths = np.load(out)
    return [paths[f"case{i}"] for i in range(len(cases))]

  return params, grads, finish


@pytest.mark.slow
@pytest.mark.parametrize("dtype,cases", [("float64", KERAS_FLOAT64_CASES), ("float32", KERAS_FLOAT32_CASES)])
def test_matches_keras(tmp_path, dtype, cases):
  params, grads, finish = start_keras(tmp_path, cases, dtype)
  got_all = [run_adamx(getattr(K, name)(**kwargs), params, grads, dtype)
             for name, kwargs in cases]
  failures = []
  for (name, kwargs), got, want in zip(cases, got_all, finish()):
    error = relative_difference(got, want)
    if not error <= TOLERANCE[dtype]:
      failures.append(f"{name}({kwargs}): relative difference {error:.2e}")
  assert not failures, f"{dtype}, tolerance {TOLERANCE[dtype]}:\n" + "\n".join(failures)


def test_keras_defaults_and_recipe():
  # Keras's defaults, read back from the built transformation (switches left
  # off, amsgrad=False and weight_decay=None, are not recorded).
  assert K.Adam().hyperparams == {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                                  "epsilon": 1e-7}
  assert K.AdamW().hyperparams["weight_decay"] == 0.004
  assert K.Adadelta().hyperparams["rho"] == 0.95
  assert K.Adagrad().hyperparams["initial_accumulator_value"] == 0.1
  assert "keras.optimizers.Nadam" in repr(K.Nadam())


def test_keras_rejects_options_it_does_not_implement():
  with pytest.raises(ValueError, match="clipnorm"):
    K.Adam(clipnorm=1.0)
  with pytest.raises(TypeError, match="unexpected"):
    K.Adam(beta1=0.9)
  with pytest.raises(ValueError, match="beta_2"):
    K.Adam(beta_2=1.0)
