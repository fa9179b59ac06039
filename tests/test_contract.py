"""One table of contract tests for every method (Optax's alias_test, adamx style).

Every method x {parabola, Rosenbrock} x {float32, bfloat16, float64}:
converges, keeps the parameters' dtype, keeps its state's structure and
dtypes, and is traced once (no recompilation on the second step).
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamx

# name -> (factory for the parabola, factory for Rosenbrock). RAdam's warm-up
# steps are lr * m_hat, unnormalised, so Rosenbrock (|g| ~ 200) needs a small lr.
METHODS = {
    "sgd": (lambda: adamx.sgd(0.04), lambda: adamx.sgd(1e-3)),
    "sgd momentum": (lambda: adamx.sgd(0.01, momentum=0.9), lambda: adamx.sgd(2e-4, momentum=0.9)),
    "sgd nesterov": (lambda: adamx.sgd(0.01, momentum=0.9, nesterov=True),
                     lambda: adamx.sgd(2e-4, momentum=0.9, nesterov=True)),
    "adagrad": (lambda: adamx.adagrad(0.5), lambda: adamx.adagrad(0.3)),
    "rmsprop": (lambda: adamx.rmsprop(0.02), lambda: adamx.rmsprop(5e-3)),
    "rmsprop centered momentum": (lambda: adamx.rmsprop(5e-3, centered=True, momentum=0.9),
                                  lambda: adamx.rmsprop(5e-4, centered=True, momentum=0.9)),
    "adadelta": (lambda: adamx.adadelta(1.0, eps=1e-2), lambda: adamx.adadelta(0.3, eps=1e-3)),
    "adam": (lambda: adamx.adam(0.05), lambda: adamx.adam(0.02)),
    "adamax": (lambda: adamx.adamax(0.05), lambda: adamx.adamax(0.02)),
    "nadam": (lambda: adamx.nadam(0.05), lambda: adamx.nadam(0.02)),
    "amsgrad": (lambda: adamx.amsgrad(0.05), lambda: adamx.amsgrad(0.1)),
    "adamw": (lambda: adamx.adamw(0.05, weight_decay=1e-4), lambda: adamx.adamw(0.02, weight_decay=1e-4)),
    "nadamw": (lambda: adamx.nadamw(0.05), lambda: adamx.nadamw(0.02)),
    "radam": (lambda: adamx.radam(0.05), lambda: adamx.radam(5e-3)),
}


def parabola(p):
  x = p["x"].astype(jnp.float32) if p["x"].dtype == jnp.bfloat16 else p["x"]
  return jnp.sum(jnp.asarray([1.0, 10.0], x.dtype) * (x - jnp.asarray([1.0, -2.0], x.dtype)) ** 2)


def rosenbrock(p):
  x = p["x"].astype(jnp.float32) if p["x"].dtype == jnp.bfloat16 else p["x"]
  return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


PROBLEMS = {
    # name: (loss, start, steps, required fraction of the initial loss)
    "parabola": (parabola, [3.0, 1.0], 300, 1e-2),
    "rosenbrock": (rosenbrock, [-1.2, 1.0], 1500, 0.1),
}
DTYPES = [jnp.float32, jnp.bfloat16, jnp.float64]
BFLOAT16_SLACK = 5.0  # bfloat16 has 8 bits of mantissa: allow a 5x larger final loss


def dtypes_of(tree):
  return jax.tree.map(lambda leaf: jnp.asarray(leaf).dtype, tree)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: jnp.dtype(d).name)
@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("method", list(METHODS))
def test_contract(method, problem, dtype):
  loss, start, steps, fraction = PROBLEMS[problem]
  opt = METHODS[method][list(PROBLEMS).index(problem)]()
  params = {"x": jnp.asarray(start, dtype)}
  state = opt.init(params)
  traces = []

  @jax.jit
  def step(params, state):
    traces.append(1)
    grads = jax.grad(lambda p: loss(p).astype(jnp.float32) if dtype == jnp.bfloat16 else loss(p))(params)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  structure, state_dtypes = jax.tree.structure(state), dtypes_of(state)
  for _ in range(steps):
    params, state = step(params, state)

  assert len(traces) == 1, "retraced after the first step"
  assert params["x"].dtype == jnp.dtype(dtype)
  assert jax.tree.structure(state) == structure
  assert dtypes_of(state) == state_dtypes
  initial, final = float(loss({"x": jnp.asarray(start, jnp.float64)})), float(loss(params))
  assert np.isfinite(final)
  slack = BFLOAT16_SLACK if dtype == jnp.bfloat16 else 1.0
  assert final <= fraction * slack * initial, f"{method} on {problem}: {initial} -> {final}"
