"""accumulate_in_state: optax.MultiSteps' contract, accumulated in the method's own state.

Float64, 30 steps of K = 4 micro-steps of the hard gradient sequence (scales
1e-3..1e3, sparse zeros, all-zero micro-steps). SGD with momentum and
Signum equal MultiSteps; Adam's first moment equals MultiSteps' and its
second moment is the EMA of the mean of the squared micro-gradients, which
differs from MultiSteps' by exactly (1-b2) times their population variance.
"""

from __future__ import annotations

import math

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamx
from adamx._combinators.accumulation import accumulate_in_state
from benchmarks.shapes import gpt2_small
from tests.trajectories import (
    SHAPES, TOLERANCE, flatten_path, gradient_sequence, initial_params, relative_difference,
    run_adamx, run_optax, stack,
)

K = 4
STEPS = 30  # real steps, of K micro-steps each
B2 = 0.99
SCHEDULE = optax.cosine_decay_schedule(0.1, STEPS)

# name: (the adamx method, the same method in Optax or None where Optax has none)
EXACT = {
    "sgd momentum": (lambda: adamx.sgd(0.05, momentum=0.9),
                     lambda: optax.sgd(0.05, momentum=0.9)),
    "sgd momentum schedule": (lambda: adamx.sgd(SCHEDULE, momentum=0.8),
                              lambda: optax.sgd(SCHEDULE, momentum=0.8)),
    "sgd torch dampening": (lambda: adamx.sgd(0.05, momentum=0.9, dampening=0.3), None),
    "signum": (lambda: adamx.signum(0.01, beta=0.9), lambda: optax.signum(0.01, beta=0.9)),
}
ADAMS = {
    "adam": (lambda: adamx.adam(0.01, b2=B2), lambda: optax.adam(0.01, b2=B2)),
    "adamw schedule": (lambda: adamx.adamw(SCHEDULE, b2=B2, weight_decay=0.1),
                       lambda: optax.adamw(SCHEDULE, b2=B2, weight_decay=0.1)),
}


def micro_gradients(seed: int = 0) -> list[dict]:
  return gradient_sequence(seed, STEPS * K)


def multisteps(opt: optax.GradientTransformation) -> optax.MultiSteps:
  """``optax.MultiSteps`` keeping its mean gradient in float64 (its default is float32)."""
  return optax.MultiSteps(opt, every_k_schedule=K, accumulator_dtype=jnp.float64)


def states_path(opt: optax.GradientTransformation, sequence: list[dict]) -> tuple[np.ndarray, dict]:
  """Parameters and states after each micro-step (jitted scan, standard promotion for Optax)."""
  params = jax.tree.map(jnp.asarray, initial_params(0))

  def step(carry, g):
    p, state = carry
    updates, state = opt.update(g, state, p)
    p = optax.apply_updates(p, updates)
    return (p, state), (p, state)

  with jax.numpy_dtype_promotion("standard"):
    scan = jax.jit(lambda p: jax.lax.scan(step, (p, opt.init(p)), stack(sequence))[1])
    path, states = scan(params)
  return flatten_path(path), states


def at_steps(moment: dict) -> np.ndarray:
  """A moment's value after each real step (the last micro-step of each), flattened."""
  return flatten_path({k: np.asarray(v)[K - 1::K] for k, v in moment.items()})


@pytest.mark.parametrize("name", list(EXACT))
def test_sgd_momentum_and_signum_equal_multisteps(name):
  method, peer = EXACT[name]
  sequence, params = micro_gradients(), initial_params(0)
  ours = run_adamx(accumulate_in_state(method(), K), sequence, params)
  assert relative_difference(ours, run_optax(multisteps(method()), sequence, params)) \
      <= TOLERANCE["peer"]
  if peer is not None:
    assert relative_difference(ours, run_optax(multisteps(peer()), sequence, params)) \
        <= TOLERANCE["peer"]


@pytest.mark.parametrize("name", list(EXACT) + list(ADAMS))
def test_every_k_1_is_the_method_bit_for_bit(name):
  method = {**EXACT, **ADAMS}[name][0]
  sequence, params = gradient_sequence(0, STEPS), initial_params(0)
  np.testing.assert_array_equal(run_adamx(accumulate_in_state(method(), 1), sequence, params),
                                run_adamx(method(), sequence, params))


@pytest.mark.parametrize("name", list(ADAMS))
def test_adam_first_moment_equals_multisteps(name):
  method, peer = ADAMS[name]
  _, ours = states_path(accumulate_in_state(method(), K), micro_gradients())
  for reference in (method(), peer()):
    _, theirs = states_path(multisteps(reference), micro_gradients())
    mu = optax.tree_utils.tree_get(theirs.inner_opt_state, "mu")
    assert relative_difference(at_steps(ours.inner.mu), at_steps(mu)) <= TOLERANCE["peer"]


def reference_nu(sequence: list[dict], b2: float) -> np.ndarray:
  """v_t = b2 v_{t-1} + (1-b2) mean_i g_{t,i}^2, written in float64 from the formula."""
  grads = stack(sequence)
  v, path = {k: np.zeros(s) for k, s in SHAPES.items()}, []
  for t in range(STEPS):
    v = {k: b2 * v[k] + (1 - b2) * np.mean(grads[k][t * K:(t + 1) * K] ** 2, axis=0)
         for k in SHAPES}
    path.append(v)
  return flatten_path({k: np.stack([v[k] for v in path]) for k in SHAPES})


@pytest.mark.parametrize("name", list(ADAMS))
def test_adam_second_moment_is_the_ema_of_the_mean_square(name):
  _, ours = states_path(accumulate_in_state(ADAMS[name][0](), K), micro_gradients())
  assert relative_difference(at_steps(ours.inner.nu), reference_nu(micro_gradients(), B2)) \
      <= TOLERANCE["reference"]


@pytest.mark.parametrize("name", list(ADAMS))
def test_adam_equals_multisteps_when_the_micro_gradients_are_equal(name):
  method, peer = ADAMS[name]
  sequence = [g for g in gradient_sequence(0, STEPS) for _ in range(K)]
  params = initial_params(0)
  ours = run_adamx(accumulate_in_state(method(), K), sequence, params)
  for reference in (method(), peer()):
    assert relative_difference(ours, run_optax(multisteps(reference), sequence, params)) \
        <= TOLERANCE["peer"]


@pytest.mark.parametrize("name", list(ADAMS))
def test_adam_second_moment_exceeds_multisteps_by_the_variance(name):
  """From the same state (after 10 steps), one step: v - v_MultiSteps = (1-b2) Var_i g_i."""
  opt, reference = accumulate_in_state(ADAMS[name][0](), K), multisteps(ADAMS[name][0]())
  sequence = micro_gradients()
  params = jax.tree.map(jnp.asarray, initial_params(0))
  state = opt.init(params)
  for g in sequence[:10 * K]:
    state = opt.update(jax.tree.map(jnp.asarray, g), state, params)[1]
  with jax.numpy_dtype_promotion("standard"):
    theirs = reference.init(params)._replace(inner_opt_state=state.inner)
    for g in sequence[10 * K:11 * K]:
      g = jax.tree.map(jnp.asarray, g)
      state = opt.update(g, state, params)[1]
      theirs = reference.update(g, theirs, params)[1]
  micro = stack(sequence[10 * K:11 * K])
  expected = {k: (1 - B2) * np.var(micro[k], axis=0)[None] for k in SHAPES}
  difference = {k: np.asarray(state.inner.nu[k] - theirs.inner_opt_state.nu[k])[None]
                for k in SHAPES}
  assert relative_difference(flatten_path(difference), flatten_path(expected)) \
      <= TOLERANCE["reference"]
  assert np.abs(flatten_path(expected)).max() > 0


def state_bytes(opt: optax.GradientTransformation, params: list) -> int:
  shapes = jax.eval_shape(opt.init, params)
  return sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(shapes))


def test_state_is_one_parameter_sized_float32_buffer_smaller_on_gpt2_small():
  params = [jax.ShapeDtypeStruct(s, jnp.float32) for s in gpt2_small()]
  n = sum(math.prod(s) for s in gpt2_small())
  theirs = state_bytes(optax.MultiSteps(adamx.adam(1e-3), K), params)
  ours = state_bytes(accumulate_in_state(adamx.adam(1e-3), K), params)
  scalars = 64  # the step counters and the learning rate, whatever their width
  assert 0 <= ours - 8 * n <= scalars
  assert 0 <= theirs - ours - 4 * n <= scalars


def test_updates_are_zero_until_the_last_micro_step_and_the_count_is_the_step():
  opt = accumulate_in_state(adamx.adam(0.1), K)
  params = {"w": jnp.zeros((2, 3), jnp.float32), "b": jnp.zeros(3, jnp.float32)}
  state = opt.init(params)
  for i in range(2 * K):
    updates, state = opt.update(jax.tree.map(lambda p: p + 1.0 + i, params), state, params)
    final = i % K == K - 1
    for u in jax.tree.leaves(updates):
      assert u.dtype == jnp.float32 and bool(jnp.all(u != 0)) == final
      assert final or bool(jnp.all(u == 0))
    assert int(state.micro_step) == (i + 1) % K
    assert int(state.inner.count) == (i + 1) // K
  assert optax.tree_utils.tree_get(state, "mu") is state.inner.mu


# case: (the method, the name the message gives it, why it is refused)
REFUSED = {
    "rmsprop": (lambda: adamx.rmsprop(0.1), "rmsprop", "reads the current gradient"),
    "adagrad": (lambda: adamx.adagrad(0.1), "adagrad", "reads the current gradient"),
    "lion": (lambda: adamx.lion(0.1), "lion", "interpolates"),
    "sgd": (lambda: adamx.sgd(0.1), "sgd", "reads the current gradient"),
    "sgd nesterov": (lambda: adamx.sgd(0.1, momentum=0.9, nesterov=True), "sgd", "Nesterov"),
    "adam nesterov": (lambda: adamx.adam(0.1, nesterov=True), "adam", "Nesterov"),
    "nadamw": (lambda: adamx.nadamw(0.1), "nadamw", "Nesterov"),
    "amsgrad": (lambda: adamx.amsgrad(0.1), "amsgrad", "not linear"),
    "adamax": (lambda: adamx.adamax(0.1), "adamax", "not linear"),
    "yogi": (lambda: adamx.yogi(0.1), "yogi", "not known to accumulate"),
    "fused": (lambda: adamx.fused(adamx.adam(0.1)), "fused(adam)", "not known to accumulate"),
    "optax": (lambda: optax.adam(0.1), "GradientTransformationExtraArgs", "not an adamx method"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_methods_say_why_and_point_to_multisteps(case):
  method, name, reason = REFUSED[case]
  with pytest.raises(ValueError) as error:
    accumulate_in_state(method(), K)
  message = str(error.value)
  assert f"accumulate_in_state: {name} cannot" in message
  assert reason in message and "optax.MultiSteps" in message


@pytest.mark.parametrize(("every_k", "problem"), [
    (0, "is less than 1"), (-2, "is less than 1"), (2.0, "not an int"), (True, "not an int"),
    ("2", "not an int"), (None, "not an int"), (np.float64(4), "not an int"),
])
def test_bad_every_k(every_k, problem):
  with pytest.raises(adamx.InvalidHyperparameter) as error:
    accumulate_in_state(adamx.adam(0.1), every_k)
  message = str(error.value)
  assert f"accumulate_in_state: every_k={every_k!r}" in message
  assert problem in message and "valid: an int >= 1" in message


def test_vmap_over_two_models_equals_separate_runs():
  opt = accumulate_in_state(adamx.adamw(0.01, b2=B2, weight_decay=0.1), K)
  sequences = [gradient_sequence(seed, 3 * K) for seed in (0, 1)]
  starts = [initial_params(seed) for seed in (0, 1)]
  separate = [run_adamx(opt, s, p) for s, p in zip(sequences, starts)]
  params = jax.tree.map(lambda *xs: jnp.stack(xs), *starts)
  state = jax.vmap(opt.init)(params)
  step = jax.jit(jax.vmap(opt.update))
  path = []
  for i in range(3 * K):
    g = jax.tree.map(lambda *xs: jnp.stack(xs), *(s[i] for s in sequences))
    updates, state = step(g, state, params)
    params = optax.apply_updates(params, updates)
    path.append(params)
  for model in (0, 1):
    ours = flatten_path({k: np.stack([p[k][model] for p in path]) for k in SHAPES})
    assert relative_difference(ours, separate[model]) <= 1e-14


def test_inside_optax_chain_after_clipping_equals_multisteps():
  def method():
    return adamx.sgd(0.05, momentum=0.9)

  sequence, params = micro_gradients(), initial_params(0)
  ours = run_adamx(optax.chain(optax.clip_by_global_norm(1.0), accumulate_in_state(method(), K)),
                   sequence, params)
  theirs = run_optax(optax.chain(optax.clip_by_global_norm(1.0),
                                 multisteps(method()).gradient_transformation()),
                     sequence, params)
  assert relative_difference(ours, theirs) <= TOLERANCE["peer"]


def test_checkpoint_mid_accumulation_restores_and_continues_identically():
  opt = accumulate_in_state(adamx.adamw(0.05, weight_decay=0.1), K)
  params0 = {"w": jnp.linspace(-1.0, 1.0, 6, dtype=jnp.float32).reshape(2, 3),
             "b": jnp.zeros(3, jnp.float32)}
  update = jax.jit(opt.update)

  def train(params, state, start, stop):
    for t in range(start, stop):
      updates, state = update(jax.tree.map(lambda p: jnp.sin(p * (t + 1.0) + 0.3), params0),
                              state, params)
      params = optax.apply_updates(params, updates)
    return params, state

  state0 = opt.init(params0)
  params, state = train(params0, state0, 0, K + 2)  # micro-step 2 of 4 of the second step
  assert int(state.micro_step) == 2
  blob = flax.serialization.to_bytes({"params": params, "opt_state": state})
  restored = flax.serialization.from_bytes({"params": params0, "opt_state": state0}, blob)
  for a, b in ((restored["opt_state"], state), (restored["params"], params)):
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
      assert x.dtype == y.dtype
      np.testing.assert_array_equal(x, y)
  resumed = train(restored["params"], restored["opt_state"], K + 2, 3 * K)
  straight = train(params0, state0, 0, 3 * K)
  for x, y in zip(jax.tree.leaves(resumed), jax.tree.leaves(straight)):
    np.testing.assert_array_equal(x, y)
