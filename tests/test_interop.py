"""adamx transformations in Optax wrappers and in Flax, Haiku and Equinox loops.

Each test trains a small linear regression to a loss threshold.
"""

import equinox as eqx
import flax.linen as nn
import flax.nnx as nnx
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax.training.train_state import TrainState

import adamx

RNG = np.random.default_rng(0)
X = jnp.asarray(RNG.normal(size=(64, 4)), jnp.float32)
TRUE_W = jnp.asarray([[1.0], [-2.0], [0.5], [3.0]], jnp.float32)
Y = X @ TRUE_W + 0.5
THRESHOLD = 1e-2
STEPS = 300


def mse(pred):
  return jnp.mean((pred - Y) ** 2)


def linear_loss(params):
  return mse(X @ params["w"] + params["b"])


def fit(opt, steps=STEPS):
  params = {"w": jnp.zeros((4, 1), jnp.float32), "b": jnp.zeros((1,), jnp.float32)}

  @jax.jit
  def step(params, state):
    loss, grads = jax.value_and_grad(linear_loss)(params)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state, loss

  with jax.numpy_dtype_promotion("standard"):  # Optax's wrappers need it
    state = opt.init(params)
    for _ in range(steps):
      params, state, _ = step(params, state)
    return float(linear_loss(params))


OPTAX_WRAPPERS = {
    "chain with clipping": lambda: optax.chain(optax.clip_by_global_norm(1.0), adamx.adam(0.05)),
    "MultiSteps": lambda: optax.MultiSteps(adamx.adam(0.1), every_k_schedule=2),
    "inject_hyperparams": lambda: optax.inject_hyperparams(adamx.adam)(
        learning_rate=optax.exponential_decay(0.1, 100, 0.5)),
    "apply_if_finite": lambda: optax.apply_if_finite(adamx.nadam(0.05), max_consecutive_errors=3),
    "masked": lambda: optax.chain(
        optax.masked(adamx.adam(0.05), {"w": True, "b": False}),
        optax.masked(adamx.sgd(0.1, momentum=0.9), {"w": False, "b": True})),
    "partition": lambda: optax.partition(
        {"adam": adamx.adam(0.05), "rms": adamx.rmsprop(0.01)}, {"w": "adam", "b": "rms"}),
}


@pytest.mark.parametrize("name", list(OPTAX_WRAPPERS))
def test_optax_wrappers_train(name):
  assert fit(OPTAX_WRAPPERS[name]()) < THRESHOLD


def test_inject_hyperparams_exposes_and_changes_the_rate():
  opt = optax.inject_hyperparams(adamx.adam)(learning_rate=0.1, b2=0.99)
  params = {"w": jnp.zeros(2, jnp.float32)}
  with jax.numpy_dtype_promotion("standard"):
    state = opt.init(params)
    state.hyperparams["learning_rate"] = jnp.asarray(0.0, jnp.float32)
    updates, state = opt.update({"w": jnp.ones(2, jnp.float32)}, state, params)
  np.testing.assert_array_equal(updates["w"], 0.0)  # the injected rate is used


def test_apply_if_finite_skips_a_nan_step():
  opt = optax.apply_if_finite(adamx.adam(0.1), max_consecutive_errors=3)
  params = jnp.ones(2, jnp.float32)
  with jax.numpy_dtype_promotion("standard"):
    state = opt.init(params)
    updates, state = opt.update(jnp.asarray([jnp.nan, 1.0], jnp.float32), state, params)
  np.testing.assert_array_equal(updates, 0.0)
  assert int(state.notfinite_count) == 1


def test_flax_linen_train_state():
  model = nn.Dense(1)
  state = TrainState.create(apply_fn=model.apply, params=model.init(jax.random.key(0), X),
                            tx=adamx.adam(0.05))

  @jax.jit
  def step(state):
    grads = jax.grad(lambda p: mse(state.apply_fn(p, X)))(state.params)
    return state.apply_gradients(grads=grads)

  for _ in range(STEPS):
    state = step(state)
  assert mse(state.apply_fn(state.params, X)) < THRESHOLD


def test_flax_nnx_optimizer():
  model = nnx.Linear(4, 1, rngs=nnx.Rngs(0))
  optimizer = nnx.Optimizer(model, adamx.adamw(0.05, weight_decay=1e-4), wrt=nnx.Param)

  @nnx.jit
  def step(model, optimizer):
    grads = nnx.grad(lambda m: mse(m(X)))(model)
    optimizer.update(model, grads)

  for _ in range(STEPS):
    step(model, optimizer)
  assert mse(model(X)) < THRESHOLD


def test_haiku_transform_loop():
  net = hk.without_apply_rng(hk.transform(lambda x: hk.Linear(1)(x)))
  params = net.init(jax.random.key(0), X)
  opt = adamx.radam(0.05)
  state = opt.init(params)

  @jax.jit
  def step(params, state):
    grads = jax.grad(lambda p: mse(net.apply(p, X)))(params)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  for _ in range(STEPS):
    params, state = step(params, state)
  assert mse(net.apply(params, X)) < THRESHOLD


def test_equinox_filter_jit_loop():
  model = eqx.nn.Linear(4, 1, key=jax.random.key(0), dtype=jnp.float32)
  opt = adamx.amsgrad(0.05)
  state = opt.init(eqx.filter(model, eqx.is_inexact_array))

  def loss(model):
    return mse(jax.vmap(model)(X))

  @eqx.filter_jit
  def step(model, state):
    grads = eqx.filter_grad(loss)(model)
    updates, state = opt.update(grads, state, eqx.filter(model, eqx.is_inexact_array))
    return eqx.apply_updates(model, updates), state

  for _ in range(STEPS):
    model, state = step(model, state)
  assert loss(model) < THRESHOLD


def test_extra_arguments_flow_through_optax_wrappers():
  """Optax passes value=loss to every part; adamx parts ignore what they do not use."""
  params = jnp.zeros(2, jnp.float32)
  with jax.numpy_dtype_promotion("standard"):  # optax's own wrapper code
    plateau = optax.chain(adamx.adam(1e-1), optax.contrib.reduce_on_plateau(patience=1))
    state = plateau.init(params)
    for loss in (1.0, 1.0, 1.0, 1.0):
      updates, state = plateau.update(jnp.ones(2, jnp.float32), state, params,
                                      value=jnp.asarray(loss))
    assert float(state[1].scale) < 1.0  # the plateau was seen: the value reached it
    named = optax.named_chain(("a", adamx.scale(0.5)), ("b", optax.scale(2.0)))
    out, _ = named.update(jnp.ones(2, jnp.float32), named.init(params), loss=1.0)
  np.testing.assert_array_equal(out, jnp.ones(2))


def test_keras_sgd_with_momentum_and_weight_decay_has_one_learning_rate():
  opt = adamx.compat.keras.SGD(learning_rate=0.05, momentum=0.9, weight_decay=0.01)
  assert float(adamx.learning_rate(opt.init(jnp.zeros(2)))) == pytest.approx(0.05)


def test_fused_replace_keeps_its_step():
  opt = adamx.fused(adamx.adam(0.1))
  replaced = opt._replace(init=opt.init)
  assert replaced.name == "fused(adam)" and type(replaced) is type(opt)
  params, state = replaced.step(jnp.zeros(2), jnp.ones(2), replaced.init(jnp.zeros(2)))
  np.testing.assert_allclose(params, [-0.1, -0.1], rtol=1e-6)
  assert repr(adamx.adam(0.1)._replace(init=opt.init)).startswith("adam(")
