"""One table of contract tests for every method (Optax's alias_test, adamx style).

Each method, compat class and the fused path is entered once, in
``tests/methods.py``, and inherits every contract below (and the dtype,
hyperparameters-as-data, checkpoint, sharding and property tests):

* converges on a parabola and on Rosenbrock in float32, bfloat16, float64,
  keeps the parameters' dtype, keeps its state's structure and dtypes, and
  is traced once (no recompilation on the second step);
* accepts Optax's extra keyword arguments (``value=loss``...) and ignores them;
* works under ``optax.inject_hyperparams`` with the same numbers;
* its new state is interchangeable with the old one inside ``lax.cond``;
* converges on complex parameters (or refuses them with a clear error).
"""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest


from tests.methods import METHODS, NAMES, build, dtypes_for, takes_complex


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
BFLOAT16_SLACK = 5.0  # bfloat16 has 8 bits of mantissa: allow a 5x larger final loss
CASES = [(n, p, d) for n in NAMES for p in PROBLEMS for d in dtypes_for(n)]


def dtypes_of(tree):
  return jax.tree.map(lambda leaf: jnp.asarray(leaf).dtype, tree)


@pytest.mark.parametrize(("method", "problem", "dtype"), CASES,
                         ids=[f"{n}-{p}-{jnp.dtype(d).name}" for n, p, d in CASES])
def test_converges_keeps_dtypes_and_state_and_compiles_once(method, problem, dtype, caplog):
  loss, start, steps, fraction = PROBLEMS[problem]
  opt = build(method, problem)
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
  params, state = step(params, state)
  with jax.log_compiles(), caplog.at_level(logging.WARNING):
    for _ in range(steps - 1):
      params, state = step(params, state)
  compiles = [r.getMessage() for r in caplog.records if "Compiling jit(step)" in r.getMessage()]

  assert len(traces) == 1 and not compiles, f"recompiled after the first step: {compiles}"
  assert params["x"].dtype == jnp.dtype(dtype)
  assert jax.tree.structure(state) == structure
  assert dtypes_of(state) == state_dtypes
  initial, final = float(loss({"x": jnp.asarray(start, jnp.float64)})), float(loss(params))
  assert np.isfinite(final)
  slack = BFLOAT16_SLACK if dtype == jnp.bfloat16 else 1.0
  assert final <= fraction * slack * initial, f"{method} on {problem}: {initial} -> {final}"


PARAMS = {"w": jnp.asarray([[0.5, -1.0], [2.0, 0.0]]), "b": jnp.asarray([0.1, -0.3])}
GRADS = [jax.tree.map(lambda p, k=k: jnp.sin(p * (k + 1)) + 0.1 * k, PARAMS) for k in range(4)]


def run(opt, grads=GRADS, params=PARAMS, **extra_args):
  state = opt.init(params)
  for g in grads:
    updates, state = opt.update(g, state, params, **extra_args)
    params = optax.apply_updates(params, updates)
  return params, state


def assert_trees_close(a, b, rtol=1e-12):
  jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-300), a, b)


@pytest.mark.parametrize("method", NAMES)
def test_extra_arguments_are_accepted_and_ignored(method):
  plain = run(build(method))
  with_extras = run(build(method), value=jnp.asarray(3.0), loss=1.0, grad=GRADS[0])
  assert_trees_close(with_extras, plain, rtol=0)


def numeric(args):
  return {k: v for k, v in args.items() if isinstance(v, float)}


@pytest.mark.parametrize("method", NAMES)
def test_inject_hyperparams_gives_the_same_numbers(method):
  factory, args = METHODS[method][0], METHODS[method][1]
  injected = optax.inject_hyperparams(factory, static_args=tuple(set(args) - set(numeric(args))))
  with jax.numpy_dtype_promotion("standard"):  # optax's own wrapper code
    params, state = run(injected(**args))
  assert_trees_close(params, run(build(method))[0], rtol=1e-12)
  assert set(numeric(args)) <= set(state.hyperparams)


@pytest.mark.parametrize("method", NAMES)
def test_new_state_is_interchangeable_with_the_old_inside_lax_cond(method):
  opt = build(method)
  state = opt.init(PARAMS)

  @jax.jit
  def maybe_step(take, state):
    return jax.lax.cond(take, lambda s: opt.update(GRADS[0], s, PARAMS)[1], lambda s: s, state)

  skipped = maybe_step(False, state)
  taken = maybe_step(True, state)
  assert jax.tree.structure(taken) == jax.tree.structure(state)
  assert dtypes_of(taken) == dtypes_of(state)
  assert_trees_close(skipped, state, rtol=0)


def complex_parabola(z):
  target = jnp.asarray([1 + 2j, -3 + 0.5j], z.dtype)
  return jnp.sum(jnp.abs(z - target) ** 2)


@pytest.mark.parametrize("dtype", [jnp.complex64, jnp.complex128], ids=["complex64", "complex128"])
@pytest.mark.parametrize("method", NAMES)
def test_complex_parameters(method, dtype):
  opt = build(method)
  z = jnp.zeros(2, dtype)
  state = opt.init(z)
  if not takes_complex(method):
    with pytest.raises(TypeError, match="complex|float32 or float64"):
      opt.update(z, state, z)
    return

  @jax.jit
  def step(z, state):
    # jax.grad of a real loss is the conjugate of the descent direction.
    updates, state = opt.update(jnp.conj(jax.grad(complex_parabola)(z)), state, z)
    return optax.apply_updates(z, updates), state

  for _ in range(300):
    z, state = step(z, state)
  assert z.dtype == jnp.dtype(dtype)
  assert float(complex_parabola(z)) < 1e-2 * float(complex_parabola(jnp.zeros(2, dtype)))
