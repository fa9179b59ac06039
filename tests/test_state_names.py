"""States are readable by name, as Optax's: ``tree_get(state, name)`` finds
the same statistic with the same value in an adamx state and in the state
of the Optax method of the same name (float64, after a few steps)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from optax.tree_utils import tree_get, tree_get_all_with_path

import adamx
from tests.trajectories import final_state

# (method, arguments, the statistics Optax keeps under these names)
CASES = [
    ("sgd", dict(learning_rate=0.1, momentum=0.9), ["trace"]),
    ("sgd", dict(learning_rate=0.1, momentum=0.9, nesterov=True), ["trace"]),
    ("adagrad", dict(learning_rate=0.1), ["sum_of_squares"]),
    ("rmsprop", dict(learning_rate=0.01), ["nu"]),
    ("rmsprop", dict(learning_rate=0.01, centered=True, momentum=0.9), ["mu", "nu", "trace"]),
    ("rmsprop", dict(learning_rate=0.01, bias_correction=True), ["nu", "count"]),
    ("adadelta", dict(learning_rate=0.5), ["e_g", "e_x"]),
    ("adam", dict(learning_rate=0.01), ["mu", "nu", "count"]),
    ("adam", dict(learning_rate=0.01, nesterov=True), ["mu", "nu", "count"]),
    ("adamax", dict(learning_rate=0.01), ["mu", "nu", "count"]),
    ("nadam", dict(learning_rate=0.01), ["mu", "nu", "count"]),
    ("amsgrad", dict(learning_rate=0.01), ["mu", "nu", "nu_max", "count"]),
    ("adamw", dict(learning_rate=0.01, weight_decay=0.1), ["mu", "nu", "count"]),
    ("nadamw", dict(learning_rate=0.01), ["mu", "nu", "count"]),
    ("radam", dict(learning_rate=0.01), ["mu", "nu", "count"]),
]


@pytest.mark.parametrize(("name", "kwargs", "fields"), CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)])
def test_tree_get_reads_what_optax_keeps_under_the_same_name(name, kwargs, fields):
  mine = final_state(getattr(adamx, name)(**kwargs))
  with jax.numpy_dtype_promotion("standard"):
    theirs = final_state(getattr(optax, name)(**kwargs))
  for field in fields:
    assert len(tree_get_all_with_path(theirs, field)) == 1, f"optax has no single {field}"
    want, got = tree_get(theirs, field), tree_get(mine, field)
    assert got is not None, f"adamx.{name} state has no {field!r}: {type(mine).__name__}{mine._fields}"
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300),
                 got, want)


@pytest.mark.parametrize("name", sorted({n for n, _, _ in CASES}))
def test_one_count_per_method(name):
  state = getattr(adamx, name)(0.1).init({"w": jnp.zeros(3)})
  assert len(tree_get_all_with_path(state, "count")) == 1
  assert type(state).__name__ == "".join(w.title() for w in name.split("_")) + "State"


def test_fields_are_attributes_and_print_by_name():
  state = adamx.adam(0.1).init({"w": jnp.zeros(2)})
  assert state._fields == ("count", "mu", "nu", "learning_rate")
  assert repr(state).startswith("AdamState(count=")


def test_unnamed_statistics_of_a_user_recipe_are_told_apart():
  recipe = adamx.chain(adamx.ratio(adamx.scale_by_ema(0.9),
                                   adamx.chain(adamx.square(), adamx.scale_by_ema(0.99))),
                       adamx.scale_by_ema(0.5))
  assert recipe.init(jnp.zeros(2))._fields == ("mu", "mu_1", "mu_2")


def test_a_foreign_part_keeps_optax_tuple_layout():
  recipe = adamx.chain(optax.clip_by_global_norm(1.0), adamx.adam(0.1))
  state = recipe.init(jnp.zeros(2))
  assert isinstance(state, tuple) and type(state[1]).__name__ == "AdamState"
  assert tree_get(state, "nu") is state[1].nu
