"""State round-trips through flax.serialization and Orbax; resumed training is exact."""

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
import pytest

import adamx
from tests.methods import METHODS, build

# Every method of the table, plus states with schedules, bfloat16 moments and wrappers.
OPTIMIZERS = {
    **{name: (lambda name=name: build(name)) for name in METHODS},
    "adam schedule bf16": lambda: adamx.adam(optax.cosine_decay_schedule(0.1, 20),
                                             mu_dtype=jnp.bfloat16),
    "nadam dozat": lambda: adamx.nadam(0.05, momentum_decay=0.004),
    "rmsprop centered": lambda: adamx.rmsprop(0.01, centered=True, momentum=0.9),
    "chain+MultiSteps": lambda: optax.MultiSteps(
        optax.chain(optax.clip_by_global_norm(1.0), adamx.amsgrad(0.05)), every_k_schedule=2),
}
PARAMS = {"w": jnp.linspace(-1.0, 1.0, 6, dtype=jnp.float32).reshape(2, 3),
          "b": jnp.zeros(3, jnp.float32)}


def grads_at(t):
  return jax.tree.map(lambda p: jnp.sin(p * (t + 1.0) + 0.3), PARAMS)


def train(opt, params, state, start, stop):
  update = jax.jit(opt.update)
  for t in range(start, stop):
    with jax.numpy_dtype_promotion("standard"):
      updates, state = update(grads_at(t), state, params)
    params = optax.apply_updates(params, updates)
  return params, state


def assert_identical(a, b):
  assert jax.tree.structure(a) == jax.tree.structure(b)
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    assert jnp.asarray(x).dtype == jnp.asarray(y).dtype
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_flax_serialization_round_trip_and_resume(name):
  opt = OPTIMIZERS[name]()
  with jax.numpy_dtype_promotion("standard"):
    state0 = opt.init(PARAMS)
  params, state = train(opt, PARAMS, state0, 0, 5)
  blob = flax.serialization.to_bytes({"params": params, "opt_state": state})
  restored = flax.serialization.from_bytes({"params": PARAMS, "opt_state": state0}, blob)
  assert_identical(restored["opt_state"], state)
  assert_identical(restored["params"], params)
  resumed, _ = train(opt, restored["params"], restored["opt_state"], 5, 10)
  straight, _ = train(opt, PARAMS, state0, 0, 10)
  assert_identical(resumed, straight)


@pytest.mark.parametrize("name", ["adam schedule bf16", "chain+MultiSteps"])
def test_orbax_round_trip_and_resume(name, tmp_path):
  opt = OPTIMIZERS[name]()
  with jax.numpy_dtype_promotion("standard"):
    state0 = opt.init(PARAMS)
  params, state = train(opt, PARAMS, state0, 0, 5)
  checkpointer = ocp.StandardCheckpointer()
  path = tmp_path / "step5"
  checkpointer.save(path, {"params": params, "opt_state": state})
  checkpointer.wait_until_finished()
  abstract = jax.eval_shape(lambda: {"params": PARAMS, "opt_state": state0})
  restored = checkpointer.restore(path, abstract)
  checkpointer.close()
  assert_identical(restored["opt_state"], state)
  resumed, _ = train(opt, restored["params"], restored["opt_state"], 5, 10)
  straight, _ = train(opt, PARAMS, state0, 0, 10)
  assert_identical(resumed, straight)
