"""Runs Keras 3 optimizers (JAX backend) on given gradients; used by test_compat_keras.

Keras reads ``KERAS_BACKEND`` once, when first imported, so it runs in its own
process: ``python tests/keras_runner.py IN.npz CASES.json OUT.npz``. IN holds
the initial parameters (``p/<name>``) and gradients (``g/<name>``, steps
first); each case is ``[class name, kwargs, dtype]``; OUT holds one
trajectory (steps x coordinates) per case, as ``case<i>``.
"""

import json
import os
import sys

os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import keras  # noqa: E402
import numpy as np  # noqa: E402


def trajectory(name, kwargs, dtype, params, grads):
  keras.config.set_floatx(dtype)  # the learning-rate variable's dtype too
  names = sorted(params)
  variables = [keras.Variable(params[k].astype(dtype), dtype=dtype, name=k) for k in names]
  optimizer = getattr(keras.optimizers, name)(**kwargs)
  steps = grads[names[0]].shape[0]
  path = []
  for t in range(steps):
    optimizer.apply_gradients(
        [(jax.numpy.asarray(grads[k][t], dtype), v) for k, v in zip(names, variables)]
    )
    path.append(np.concatenate([np.asarray(v.value, np.float64).reshape(-1) for v in variables]))
  return np.stack(path)


def main(data_path, cases_path, out_path):
  data = np.load(data_path)
  params = {k[2:]: data[k] for k in data.files if k.startswith("p/")}
  grads = {k[2:]: data[k] for k in data.files if k.startswith("g/")}
  with open(cases_path) as f:
    cases = json.load(f)
  out = {f"case{i}": trajectory(n, kw, dt, params, grads) for i, (n, kw, dt) in enumerate(cases)}
  np.savez(out_path, **out)


if __name__ == "__main__":
  main(*sys.argv[1:])
