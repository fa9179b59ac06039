"""Readable recipes: printing, hyperparameters read back, the current learning rate."""

import flax.training.train_state
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamx
from adamx._tools.state import learning_rate

ADAM_RECIPE = """\
adam(learning_rate=0.001, b1=0.9, b2=0.999, eps=1e-08) = chain(
  ratio(
    numerator=chain(scale_by_ema(decay=0.9), bias_correct(decay=0.9)),
    denominator=chain(
      square(),
      scale_by_ema(decay=0.999, name='nu'),
      bias_correct(decay=0.999),
      root(),
      add_eps(eps=1e-08),
    ),
  ),
  scale_by_learning_rate(learning_rate=0.001),
)"""


def test_adam_prints_its_recipe():
  assert str(adamx.adam(1e-3)) == ADAM_RECIPE


def test_composition_prints_every_part_and_value():
  text = repr(adamx.chain(optax.clip_by_global_norm(1.0),
                          adamx.adamw(1e-3, b1=0.8, weight_decay=0.1)))
  assert text.startswith("chain(\n  <optax GradientTransformation>,\n  adamw(")
  for part in ("b1=0.8", "weight_decay=0.1", "scale_by_ema(decay=0.8)",
               "add_decayed_weights(weight_decay=0.1)",
               "scale_by_learning_rate(learning_rate=0.001)"):
    assert part in text
  sched = optax.linear_schedule(0.1, 0.0, 10)
  assert repr(adamx.sgd(sched, momentum=0.9)) == (
      "sgd(learning_rate=schedule, momentum=0.9) = "
      "chain(momentum(decay=0.9), scale_by_learning_rate(learning_rate=schedule))")
  assert repr(adamx.scale_by_rms(0.9, 1e-6)).startswith("ratio(\n  numerator=identity(),")


@pytest.mark.parametrize("factory,kwargs", [
    (adamx.sgd, dict(learning_rate=0.1, momentum=0.9, nesterov=True)),
    (adamx.adagrad, dict(learning_rate=0.1, initial_accumulator_value=0.2, eps=1e-6)),
    (adamx.rmsprop, dict(learning_rate=0.1, decay=0.8, eps=1e-6, centered=True)),
    (adamx.adadelta, dict(learning_rate=0.5, rho=0.8, eps=1e-5)),
    (adamx.adam, dict(learning_rate=0.1, b1=0.8, b2=0.99, eps=1e-6, eps_root=1e-9)),
    (adamx.adamax, dict(learning_rate=0.1, b1=0.8, b2=0.99, eps=1e-6)),
    (adamx.nadam, dict(learning_rate=0.1, b1=0.8, b2=0.99, eps=1e-6, momentum_decay=0.004)),
    (adamx.amsgrad, dict(learning_rate=0.1, b1=0.8, b2=0.99, eps=1e-6)),
    (adamx.adamw, dict(learning_rate=0.1, b1=0.8, b2=0.99, eps=1e-6, weight_decay=0.2)),
    (adamx.radam, dict(learning_rate=0.1, b1=0.8, b2=0.99, eps=1e-6, threshold=6.0)),
])
def test_hyperparams_read_back(factory, kwargs):
  opt = factory(**kwargs)
  assert opt.name == factory.__name__
  assert opt.hyperparams == kwargs
  array = jnp.asarray(0.25, jnp.float32)  # arrays are kept as given
  assert factory(**{**kwargs, "learning_rate": array}).hyperparams["learning_rate"] is array


def train(opt, steps, params=None):
  params = jnp.ones(3, jnp.float32) if params is None else params
  state = opt.init(params)
  rates = []

  @jax.jit
  def step(params, state):
    updates, state = opt.update(0.1 * params, state, params)
    return optax.apply_updates(params, updates), state

  for _ in range(steps):
    with jax.numpy_dtype_promotion("standard"):  # optax wrappers' own code
      params, state = step(params, state)
    rates.append(float(learning_rate(state)))
  return rates


SCHEDULE = optax.linear_schedule(1.0, 0.0, 10)
EXPECTED = [float(np.float32(SCHEDULE(i))) for i in range(5)]


def test_learning_rate_of_a_schedule_each_step():
  assert train(adamx.adam(SCHEDULE), 5) == pytest.approx(EXPECTED, rel=1e-6)
  state = adamx.sgd(SCHEDULE).init(jnp.zeros(2))
  assert float(learning_rate(state)) == 1.0  # before the first step: count 0


@pytest.mark.parametrize("wrap", [
    lambda: optax.chain(optax.clip_by_global_norm(1.0), adamx.adam(SCHEDULE)),
    lambda: optax.masked(adamx.sgd(SCHEDULE, momentum=0.9), lambda p: True),
    lambda: optax.apply_if_finite(adamx.adamw(SCHEDULE), 3),
    lambda: optax.inject_hyperparams(adamx.adam)(learning_rate=SCHEDULE),
], ids=["chain", "masked", "apply_if_finite", "inject_hyperparams"])
def test_learning_rate_found_inside_optax_wrappers(wrap):
  assert train(wrap(), 5) == pytest.approx(EXPECTED, rel=1e-6)


def test_learning_rate_under_multisteps_advances_every_k_steps():
  rates = train(optax.MultiSteps(adamx.adam(SCHEDULE), every_k_schedule=2), 6)
  assert rates == pytest.approx([1.0, 1.0, 1.0, 0.9, 0.9, 0.8], rel=1e-6)


def test_learning_rate_from_flax_train_state():
  state = flax.training.train_state.TrainState.create(
      apply_fn=None, params={"w": jnp.ones(2, jnp.float32)}, tx=adamx.adam(SCHEDULE))
  for _ in range(3):
    state = state.apply_gradients(grads={"w": jnp.ones(2, jnp.float32)})
  assert float(learning_rate(state.opt_state)) == pytest.approx(EXPECTED[2], rel=1e-6)
  assert float(jax.jit(learning_rate)(state.opt_state)) == pytest.approx(EXPECTED[2], rel=1e-6)


def test_learning_rate_needs_exactly_one_rate():
  with pytest.raises(ValueError, match="0 learning-rate states"):
    learning_rate(optax.sgd(0.1).init(jnp.zeros(2)))
  both = optax.partition({"a": adamx.sgd(0.1), "b": adamx.adam(0.2)}, {"x": "a", "y": "b"})
  state = both.init({"x": jnp.zeros(2), "y": jnp.zeros(2)})
  with pytest.raises(ValueError, match="2 learning-rate states"):
    learning_rate(state)
  assert float(learning_rate(state.inner_states["b"])) == pytest.approx(0.2)
