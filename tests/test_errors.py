"""Bad input gets a clear error; nothing is silently broadcast or corrupted."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adamx
from adamx.compat import torch as adamx_torch

BAD_HYPERPARAMETERS = [
    (adamx.adam, dict(learning_rate=1e-3, b1=1.5), "b1=1.5", "0.0 <= b1 < 1.0"),
    (adamx.adam, dict(learning_rate=1e-3, b1=1.0), "b1=1.0", "0.0 <= b1 < 1.0"),
    (adamx.adam, dict(learning_rate=1e-3, b2=-0.1), "b2=-0.1", "0.0 <= b2 < 1.0"),
    (adamx.adam, dict(learning_rate=1e-3, eps=-1e-8), "eps=-1e-08", "0.0 <= eps"),
    (adamx.adam, dict(learning_rate=-1.0), "learning_rate=-1.0", "0.0 <= learning_rate"),
    (adamx.adam, dict(learning_rate=math.nan), "learning_rate=nan", "0.0 <= learning_rate"),
    (adamx.adamw, dict(learning_rate=1e-3, weight_decay=-0.1), "weight_decay=-0.1", "0.0 <="),
    (adamx.sgd, dict(learning_rate=0.1, momentum=1.2), "momentum=1.2", "< 1.0"),
    (adamx.rmsprop, dict(learning_rate=0.1, decay=2.0), "decay=2.0", "< 1.0"),
    (adamx.adadelta, dict(rho=-0.5), "rho=-0.5", "0.0 <= rho"),
    (adamx.adagrad, dict(learning_rate=0.1, initial_accumulator_value=-1.0),
     "initial_accumulator_value=-1.0", "0.0 <="),
    (adamx.radam, dict(learning_rate=0.1, threshold=3.0), "threshold=3.0", "4.0 <= threshold"),
    (adamx.nadam, dict(learning_rate=0.1, momentum_decay=-1.0), "momentum_decay=-1.0", "0.0 <="),
    (adamx.adam, dict(learning_rate=1e-3, b1=np.array([0.9, 1.1])), "b1=array", "< 1.0"),
    (adamx.scale_by_ema, dict(decay=1.0), "decay=1.0", "< 1.0"),
    (adamx_torch.Adam, dict(betas=(1.0, 0.999)), "b1=1.0", "< 1.0"),
    (adamx_torch.SGD, dict(lr=0.1, nesterov=True), "nesterov", "momentum > 0"),
]


@pytest.mark.parametrize(("factory", "kwargs", "value", "valid_range"), BAD_HYPERPARAMETERS)
def test_invalid_hyperparameter_names_argument_value_and_range(factory, kwargs, value, valid_range):
  with pytest.raises(ValueError) as error:
    factory(**kwargs)
  assert value in str(error.value) and valid_range in str(error.value)


def test_traced_hyperparameters_are_not_checked_but_work():
  def first_update(b1):
    opt = adamx.adam(0.1, b1=b1)
    return opt.update(jnp.ones(2), opt.init(jnp.zeros(2)))[0]

  np.testing.assert_allclose(jax.jit(first_update)(0.5), -0.1)


PARAMS = {"w": jnp.zeros((3, 4)), "b": jnp.zeros(4)}


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("bad_shape", [(3, 5), (3, 1), (1, 4), (12,)])
def test_shape_mismatch_names_the_leaf_and_both_shapes(jit, bad_shape):
  opt = adamx.adam(1e-3)
  state = opt.init(PARAMS)
  grads = {"w": jnp.ones(bad_shape), "b": jnp.ones(4)}
  update = jax.jit(opt.update) if jit else opt.update
  with pytest.raises(ValueError) as error:
    update(grads, state, PARAMS)
  message = str(error.value)
  assert "['w']" in message and str(bad_shape) in message and "(3, 4)" in message


def test_tree_mismatch_is_an_error():
  opt = adamx.adamw(1e-3)
  state = opt.init(PARAMS)
  with pytest.raises(ValueError, match="tree structure"):
    opt.update({"w": jnp.ones((3, 4))}, state, PARAMS)


def test_integer_gradients_are_an_error():
  opt = adamx.adam(1e-3)
  state = opt.init(PARAMS)
  with pytest.raises(TypeError, match=r"\['b'\].*int32"):
    opt.update({"w": jnp.ones((3, 4)), "b": jnp.ones(4, jnp.int32)}, state, PARAMS)


def test_weight_decay_without_params_is_an_error():
  opt = adamx.adamw(1e-3)
  with pytest.raises(ValueError, match="needs the parameters"):
    opt.update(PARAMS, opt.init(PARAMS))


def test_a_failed_update_leaves_the_state_usable_and_unchanged():
  opt = adamx.adam(1e-1)
  state = opt.init(PARAMS)
  _, state = opt.update(jax.tree.map(jnp.ones_like, PARAMS), state, PARAMS)
  before = jax.tree.map(np.array, state)
  with pytest.raises(ValueError):
    opt.update({"w": jnp.ones((3, 5)), "b": jnp.ones(4)}, state, PARAMS)
  jax.tree.map(np.testing.assert_array_equal, jax.tree.map(np.array, state), before)
  updates, _ = opt.update(jax.tree.map(jnp.ones_like, PARAMS), state, PARAMS)
  assert all(np.isfinite(np.asarray(u)).all() for u in jax.tree.leaves(updates))


# Every kind of bad value a user may pass, for a probability, a rate and a
# flag: the error names the method, the argument, the value and what is valid.
BAD_VALUES = [
    ("learning_rate", "1e-3", "is a str", "0.0 <= learning_rate"),
    ("learning_rate", "abc", "is a str", "0.0 <= learning_rate"),
    ("learning_rate", None, "is None", "0.0 <= learning_rate"),
    ("learning_rate", True, "is a bool", "0.0 <= learning_rate"),
    ("learning_rate", math.inf, "not finite", "0.0 <= learning_rate"),
    ("learning_rate", -math.inf, "not finite", "0.0 <= learning_rate"),
    ("learning_rate", 1e-3 + 0j, "not a real number", "0.0 <= learning_rate"),
    ("learning_rate", np.array([1e-3, 2e-3]), "shape (2,)", "a scalar"),
    ("learning_rate", jnp.array([1e-3, 2e-3]), "shape (2,)", "a scalar"),
    ("learning_rate", [1e-3], "is a list", "0.0 <= learning_rate"),
    ("learning_rate", lambda count: -1.0, "schedule: -1.0 at count 0", "0.0 <= learning_rate"),
    ("b1", "0.9", "is a str", "0.0 <= b1 < 1.0"),
    ("b1", math.nan, "not finite", "0.0 <= b1 < 1.0"),
    ("b1", lambda count: 0.9, "takes no schedule", "0.0 <= b1 < 1.0"),
    ("eps", None, "is None", "0.0 <= eps"),
    ("nesterov", "yes", "is a str", "True or False"),
    ("mu_dtype", "int16", "cannot hold a moment", "quantized format: 'int8' or 'int4'"),
    ("mu_dtype", jnp.int8, "cannot hold a moment", "floating dtype"),
    ("mu_dtype", "float33", "not a dtype", "floating dtype"),
]


@pytest.mark.parametrize(("name", "value", "problem", "valid"), BAD_VALUES,
                         ids=[f"{n}-{i}" for i, (n, _, _, _) in enumerate(BAD_VALUES)])
def test_bad_values_of_every_type_are_refused_when_built(name, value, problem, valid):
  kwargs = {"learning_rate": 1e-3, name: value}
  with pytest.raises(adamx.InvalidHyperparameter) as error:
    adamx.adam(**kwargs)
  message = str(error.value)
  assert message.startswith(f"adam: {name}=")
  assert problem in message and valid in message
  assert isinstance(error.value, ValueError) and isinstance(error.value, TypeError)


@pytest.mark.parametrize("factory", [adamx.sgd, adamx.adagrad, adamx.rmsprop, adamx.adamax,
                                     adamx.nadam, adamx.amsgrad, adamx.adamw, adamx.radam,
                                     adamx_torch.Adam, adamx.compat.keras.Adam])
def test_every_method_refuses_a_string_rate(factory):
  with pytest.raises(adamx.InvalidHyperparameter, match="not a number"):
    factory(lr="0.1") if factory is adamx_torch.Adam else factory("0.1")


def test_a_failing_schedule_is_reported_with_its_argument():
  def broken(count):
    raise RuntimeError("boom")

  with pytest.raises(adamx.InvalidHyperparameter, match="adam: learning_rate is a schedule that fails"):
    adamx.adam(broken)


def test_integer_moment_dtypes_are_refused_not_silently_zeroed():
  """An integer dtype would store the moments as rounded zeros: sign descent, not Adam
  (the quantized formats are the strings "int8", "int4" or adamx.quantized(...))."""
  for kwargs in (dict(mu_dtype=jnp.int8, nu_dtype=jnp.int8), dict(nu_dtype=jnp.int32)):
    with pytest.raises(adamx.InvalidHyperparameter, match="cannot hold a moment"):
      adamx.adam(1e-3, **kwargs)
  with pytest.raises(adamx.InvalidHyperparameter, match="accumulator_dtype"):
    adamx.sgd(0.1, momentum=0.9, accumulator_dtype=jnp.int16)


@pytest.mark.parametrize("params", [
    1.0, 3, np.float64(2.0), jnp.asarray(2.0), {}, [], {"a": None, "b": jnp.zeros((0, 3))},
    [jnp.zeros(2), None, {"c": jnp.asarray(1.0)}],
], ids=["float", "int", "numpy-scalar", "0-d", "empty-dict", "empty-list", "none-and-zero-size",
        "nested-with-none"])
@pytest.mark.parametrize("factory", [adamx.adam, adamx.adamw, adamx.sgd, adamx.rmsprop])
def test_unusual_parameter_trees_work(factory, params):
  opt = factory(0.1)
  state = opt.init(params)
  grads = jax.tree.map(lambda p: jnp.ones(jnp.shape(p), jnp.result_type(float)), params)
  updates, new_state = jax.jit(opt.update)(grads, state, params)
  assert jax.tree.structure(updates) == jax.tree.structure(grads)
  assert jax.tree.structure(new_state) == jax.tree.structure(state)
  assert all(bool(jnp.all(jnp.isfinite(u))) for u in jax.tree.leaves(updates))
