"""Parameter groups as data (``adamx.param_groups``), in float64 over the hard
200-step sequence: the same numbers as ``optax.partition`` of the equivalent
fixed methods and as torch.optim's parameter groups; a group's value changed
without recompiling; ``vmap`` over it; Orbax round trips."""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
import pytest
import torch

import adamx
from adamx.compat import torch as adamx_torch
from tests.trajectories import (
    TOLERANCE, gradient_sequence, initial_params, relative_difference, run_adamx, run_optax,
    run_torch, stack,
)

GRADS, PARAMS = gradient_sequence(7), initial_params(7)
LABELS = {"w": "matrix", "b": "vector", "s": "vector"}


def schedule(count):
  return 1e-2 * 0.5 ** (jnp.asarray(count, jnp.float64) / 50)


def grouped_adamw():
  return adamx.param_groups(
      adamx.adamw, learning_rate=1e-2, weight_decay=0.1,
      groups={"no_decay": adamx.group("^b$", weight_decay=0.0),
              "slow": adamx.group("^s$", learning_rate=1e-3, b2=0.99)})


CASES = {
    "patterns": (grouped_adamw, lambda: optax.partition(
        {"default": optax.adamw(1e-2, weight_decay=0.1),
         "no_decay": optax.adamw(1e-2, weight_decay=0.0),
         "slow": optax.adamw(1e-3, b2=0.99, weight_decay=0.1)},
        {"w": "default", "b": "no_decay", "s": "slow"})),
    "labels and another method": (lambda: adamx.param_groups(
        adamx.adam, learning_rate=1e-2, labels=LABELS,
        groups={"vectors": adamx.group(label="vector", method=adamx.lion, learning_rate=1e-3,
                                       weight_decay=0.01)}),
        lambda: optax.partition({"default": optax.adam(1e-2),
                                 "vectors": optax.lion(1e-3, weight_decay=0.01)},
                                lambda p: {"w": "default", "b": "vectors", "s": "vectors"})),
    "multiplier of a schedule": (lambda: adamx.param_groups(
        adamx.sgd, learning_rate=schedule, momentum=0.9,
        groups={"embed": adamx.group("w", learning_rate_multiplier=0.1)}),
        lambda: optax.partition({"default": optax.sgd(schedule, momentum=0.9),
                                 "embed": optax.sgd(lambda c: 0.1 * schedule(c), momentum=0.9)},
                                {"w": "embed", "b": "default", "s": "default"})),
}


@pytest.mark.parametrize("case", CASES)
def test_matches_optax_partition_of_the_fixed_methods(case):
  mine, theirs = CASES[case]
  assert relative_difference(run_adamx(mine(), GRADS, PARAMS),
                             run_optax(theirs(), GRADS, PARAMS)) <= TOLERANCE["peer"]


def test_a_leaf_goes_to_the_first_group_that_takes_it():
  opt = adamx.param_groups(adamx.sgd, learning_rate=1.0, groups={
      "first": adamx.group("w|b", learning_rate=2.0), "second": adamx.group("b|s", learning_rate=3.0)})
  params = {k: jnp.ones(2) for k in ("w", "b", "s", "other")}
  updates, _ = opt.update(params, opt.init(params))
  assert {k: float(v[0]) for k, v in updates.items()} == {"w": -2.0, "b": -2.0, "s": -3.0,
                                                          "other": -1.0}


def test_paths_are_keys_joined_by_slashes():
  params = {"params": {"Dense_0": {"kernel": jnp.ones(2), "bias": jnp.ones(2)}}, "list": [jnp.ones(1)]}
  assert adamx._combinators.groups.leaf_paths(params) == [
      "list/0", "params/Dense_0/bias", "params/Dense_0/kernel"]


def test_learning_rate_is_reported_per_group():
  opt = CASES["multiplier of a schedule"][0]()
  state = opt.init(PARAMS)
  _, state = opt.update(PARAMS, state, PARAMS)
  rates = adamx.learning_rate(state)
  assert set(rates) == {"default", "embed"}
  np.testing.assert_allclose(float(rates["embed"]), 0.1 * float(schedule(0)), rtol=1e-15)
  np.testing.assert_allclose(float(rates["default"]), float(schedule(0)), rtol=1e-15)


def run_changing(opt, change_at, **values):
  """The grouped trajectory, with the "slow" group's values changed at one step."""
  step = jax.jit(lambda p, s, g: _apply(opt, p, s, g))
  params, state = jax.tree.map(jnp.asarray, PARAMS), opt.init(PARAMS)
  path = []
  for t, grads in enumerate(GRADS):
    if t == change_at:
      state = adamx.set_group_hyperparams(state, "slow", **values)
    params, state = step(params, state, jax.tree.map(jnp.asarray, grads))
    path.append(np.concatenate([np.asarray(params[k]).reshape(-1) for k in ("w", "b", "s")]))
  return np.stack(path), step


def _apply(opt, params, state, grads):
  updates, state = opt.update(grads, state, params)
  return optax.apply_updates(params, updates), state


def test_changing_a_groups_value_needs_no_recompilation_and_acts_from_that_step(caplog):
  with caplog.at_level(logging.WARNING), jax.log_compiles():
    mine, step = run_changing(grouped_adamw(), 60, learning_rate=3e-4, b2=0.9)
  compiled = [r.getMessage() for r in caplog.records if "Finished XLA compilation" in r.getMessage()
              and "<lambda>" in r.getMessage()]
  assert len(compiled) == 1, compiled  # the first call only
  assert step._cache_size() == 1
  # Reference: Optax with the slow group's hyperparameters injected, changed at step 60.
  theirs_opt = optax.partition(
      {"default": optax.adamw(1e-2, weight_decay=0.1), "no_decay": optax.adamw(1e-2, weight_decay=0.0),
       "slow": optax.inject_hyperparams(optax.adamw)(learning_rate=1e-3, b2=0.99, weight_decay=0.1)},
      {"w": "default", "b": "no_decay", "s": "slow"})
  with jax.numpy_dtype_promotion("standard"):
    params, state = jax.tree.map(jnp.asarray, PARAMS), theirs_opt.init(PARAMS)
    path = []
    for t, grads in enumerate(GRADS):
      if t == 60:
        hyper = state.inner_states["slow"].inner_state.hyperparams
        hyper["learning_rate"], hyper["b2"] = jnp.asarray(3e-4), jnp.asarray(0.9)
      updates, state = theirs_opt.update(jax.tree.map(jnp.asarray, grads), state, params)
      params = optax.apply_updates(params, updates)
      path.append(np.concatenate([np.asarray(params[k]).reshape(-1) for k in ("w", "b", "s")]))
  assert relative_difference(mine, np.stack(path)) <= TOLERANCE["peer"]


def test_vmap_over_a_groups_learning_rate_equals_separate_runs():
  opt = grouped_adamw()
  grads = stack(GRADS[:50])

  def final(lr):
    state = adamx.set_group_hyperparams(opt.init(PARAMS), "slow", learning_rate=lr)

    def step(carry, g):
      p, s = carry
      return _apply(opt, p, s, g), None

    return jax.lax.scan(step, (jax.tree.map(jnp.asarray, PARAMS), state), grads)[0][0]

  rates = jnp.asarray([1e-4, 1e-3, 1e-2])
  batched = jax.jit(jax.vmap(final))(rates)
  for i, lr in enumerate(rates):
    single = jax.jit(final)(lr)
    for k in single:
      np.testing.assert_allclose(batched[k][i], single[k], rtol=1e-12, atol=0)


def test_orbax_round_trip_then_change_a_group_without_rebuilding(tmp_path):
  opt = grouped_adamw()
  state = opt.init(PARAMS)
  params = jax.tree.map(jnp.asarray, PARAMS)
  for grads in GRADS[:5]:
    params, state = _apply(opt, params, state, jax.tree.map(jnp.asarray, grads))
  checkpointer = ocp.StandardCheckpointer()
  checkpointer.save(tmp_path / "step5", {"params": params, "opt_state": state})
  checkpointer.wait_until_finished()
  restored = checkpointer.restore(tmp_path / "step5", jax.eval_shape(lambda: {
      "params": params, "opt_state": state}))
  checkpointer.close()
  jax.tree.map(np.testing.assert_array_equal, restored["opt_state"], state)
  resumed = adamx.set_group_hyperparams(restored["opt_state"], "slow", learning_rate=1e-4)
  straight = adamx.set_group_hyperparams(state, "slow", learning_rate=1e-4)
  a, b = restored["params"], params
  for grads in GRADS[5:20]:
    g = jax.tree.map(jnp.asarray, grads)
    a, resumed = _apply(opt, a, resumed, g)
    b, straight = _apply(opt, b, straight, g)
  jax.tree.map(np.testing.assert_array_equal, a, b)
  assert float(adamx.learning_rate(resumed)["slow"]) == 1e-4


# ------------------------------------------------------------------ torch's param groups

def test_torch_param_groups_match_torch():
  mine = adamx_torch.AdamW([{"params": "^b$", "weight_decay": 0.0},
                            {"params": "^s$", "lr": 1e-3, "betas": (0.8, 0.99)}],
                           lr=1e-2, weight_decay=0.1)

  def theirs(tensors):  # run_torch passes the tensors in the order w, b, s
    w, b, s = tensors
    return torch.optim.AdamW([{"params": [w]}, {"params": [b], "weight_decay": 0.0},
                              {"params": [s], "lr": 1e-3, "betas": (0.8, 0.99)}],
                             lr=1e-2, weight_decay=0.1)

  assert relative_difference(run_adamx(mine, GRADS, PARAMS),
                             run_torch(theirs, GRADS, PARAMS)) <= TOLERANCE["peer"]


def test_torch_sgd_groups_with_momentum_match_torch():
  mine = adamx_torch.SGD([{"params": "w", "lr": 1e-3, "momentum": 0.5}], lr=2e-3, momentum=0.9,
                         weight_decay=0.01)

  def theirs(tensors):
    w, b, s = tensors
    return torch.optim.SGD([{"params": [w], "lr": 1e-3, "momentum": 0.5}, {"params": [b, s]}],
                           lr=2e-3, momentum=0.9, weight_decay=0.01)

  assert relative_difference(run_adamx(mine, GRADS, PARAMS),
                             run_torch(theirs, GRADS, PARAMS)) <= TOLERANCE["peer"]


# ------------------------------------------------------------------------------ errors

@pytest.mark.parametrize(("build", "error", "says"), [
    (lambda: adamx.param_groups(adamx.adam, learning_rate=1e-3,
                                groups={"default": adamx.group("b")}), ValueError, "reserved"),
    (lambda: adamx.param_groups(adamx.adam, learning_rate=1e-3,
                                groups={"v": adamx.group(label="vector")}), ValueError, "labels="),
    (lambda: adamx.group("b", label="x"), TypeError, "exactly one"),
    (lambda: adamx.group("("), Exception, "missing"),
    (lambda: adamx.param_groups(adamx.adam, learning_rate=1e-3, groups={
        "e": adamx.group("e", learning_rate_multiplier=-1.0)}), adamx.InvalidHyperparameter,
     "learning_rate_multiplier=-1.0"),
    (lambda: adamx.param_groups(adamx.adam, learning_rate=1e-3, groups={
        "e": adamx.group("e", b1=1.5)}), adamx.InvalidHyperparameter, "b1=1.5"),
    (lambda: adamx_torch.AdamW([{"params": [torch.zeros(1)], "lr": 1e-2}]), TypeError,
     "regular expression"),
])
def test_bad_groups_are_refused_naming_what_is_wrong(build, error, says):
  with pytest.raises(error, match=says):
    build()


def test_setting_a_group_value_is_checked():
  state = grouped_adamw().init(PARAMS)
  with pytest.raises(KeyError, match="no group 'fast'"):
    adamx.set_group_hyperparams(state, "fast", learning_rate=1.0)
  with pytest.raises(KeyError, match="holds no"):
    adamx.set_group_hyperparams(state, "slow", nesterov=True)
  with pytest.raises(adamx.InvalidHyperparameter, match="learning_rate=-1.0"):
    adamx.set_group_hyperparams(state, "slow", learning_rate=-1.0)
