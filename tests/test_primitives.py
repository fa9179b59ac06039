"""Primitives one by one: their maths, state, and the fan-out rule."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamx


def one_step(t, g, params=None):
  g = jnp.asarray(g)
  return t.update(g, t.init(g if params is None else params), params)[0]


def test_recipe_prints_the_composition_and_hyperparameters():
  text = repr(adamx.adam(1e-3, b1=0.8))
  for part in ("adam(learning_rate=0.001, b1=0.8", "ratio(", "numerator=chain(scale_by_ema(decay=0.8), bias_correct(decay=0.8))",
               "denominator=chain(", "square()", "bias_correct(decay=0.999)", "add_eps(eps=1e-08)",
               "scale_by_learning_rate(learning_rate=0.001)"):
    assert part in text
  assert repr(adamx.chain(adamx.scale_by_ema(0.5), adamx.momentum(0.9, nesterov=True))) == (
      "chain(scale_by_ema(decay=0.5), momentum(decay=0.9, nesterov=True))")


def test_hyperparameters_can_be_read_back():
  opt = adamx.adamw(3e-4, b2=0.95, weight_decay=0.1)
  assert opt.hyperparams["learning_rate"] == 3e-4 and opt.hyperparams["b2"] == 0.95
  assert opt.hyperparams["weight_decay"] == 0.1


def test_ratio_defines_zero_over_zero_as_zero_and_keeps_nan():
  """eps = 0 on an all-zero gradient: a zero step, not NaN; NaN gradients still show."""
  opt = adamx.adam(1e-2, eps=0.0)
  assert float(one_step(opt, [0.0])[0]) == 0.0
  assert np.isnan(float(one_step(opt, [np.nan])[0]))


def test_float16_adam_on_a_zero_gradient_is_finite():
  """Optax gives NaN here: eps=1e-8 underflows in float16 (DESIGN §3)."""
  p = jnp.zeros(3, jnp.float16)
  updates = one_step(adamx.adam(1e-3), jnp.zeros(3, jnp.float16), p)
  assert updates.dtype == jnp.float16 and np.isfinite(np.asarray(updates, np.float32)).all()


def test_running_max_and_its_placement_give_the_two_amsgrads():
  v = [4.0, 1.0, 9.0, 2.0]
  t = adamx.running_max()
  state = t.init(jnp.zeros(()))
  seen = []
  for x in v:
    out, state = t.update(jnp.asarray(x), state)
    seen.append(float(out))
  assert seen == [4.0, 4.0, 9.0, 9.0]

  def denominator_parts(method):
    ratio = method.parts[0][1].parts[0][1]  # method = chain(ratio(...), rate)
    return [part.name for _, part in dict(ratio.parts)["denominator"].parts]

  assert denominator_parts(adamx.amsgrad(1e-2)) == [
      "square", "scale_by_ema", "bias_correct", "running_max", "root", "add_eps"]
  assert denominator_parts(adamx.amsgrad(1e-2, max_before_correction=True)) == [
      "square", "scale_by_ema", "running_max", "root", "bias_correct", "add_eps"]


def test_infinity_moment():
  t = adamx.infinity_moment(0.5, eps=0.0)
  state = t.init(jnp.zeros(()))
  out = []
  for g in [-4.0, 1.0, 3.0]:
    u, state = t.update(jnp.asarray(g), state)
    out.append(float(u))
  assert out == [4.0, 2.0, 3.0]


def test_momentum_dampening_spares_the_first_step():
  t = adamx.momentum(0.9, dampening=0.5)
  state = t.init(jnp.zeros(()))
  u1, state = t.update(jnp.asarray(1.0), state)
  u2, state = t.update(jnp.asarray(1.0), state)
  assert float(u1) == 1.0 and float(u2) == pytest.approx(0.9 + 0.5)


def test_bias_correct_power_half_corrects_a_root():
  ema_then_root = adamx.chain(adamx.square(), adamx.scale_by_ema(0.99), adamx.root(), adamx.bias_correct(0.99, power=0.5))
  assert float(one_step(ema_then_root, [3.0])[0]) == pytest.approx(3.0, rel=1e-14)


def test_counters_saturate_instead_of_wrapping():
  t = adamx.bias_correct(0.9)
  state = t.init(jnp.zeros(()))._replace(count=jnp.asarray(jnp.iinfo(jnp.int32).max - 1, jnp.int32))
  for _ in range(3):
    out, state = t.update(jnp.asarray(1.0), state)
  assert int(state.count) == jnp.iinfo(jnp.int32).max and float(out) == 1.0


def test_init_works_on_abstract_parameters():
  params = {"w": jax.ShapeDtypeStruct((1000, 1000), jnp.bfloat16)}
  state = jax.eval_shape(adamx.adam(1e-3, mu_dtype=jnp.float32).init, params)
  leaves = jax.tree.leaves(state)
  assert any(leaf.shape == (1000, 1000) and leaf.dtype == jnp.float32 for leaf in leaves)
  assert any(leaf.shape == (1000, 1000) and leaf.dtype == jnp.bfloat16 for leaf in leaves)


def test_primitives_compose_with_optax():
  """An adamx primitive inside optax.chain with Optax's own clipping."""
  opt = optax.chain(optax.clip_by_global_norm(1.0),
                    adamx.scale_by_rms(0.9, 1e-8, eps_in_sqrt=False), optax.scale(-0.1))
  updates = one_step(opt, [30.0, 40.0])
  np.testing.assert_allclose(updates, -0.1 * np.array([0.6, 0.8]) / np.sqrt(0.1 * np.array([0.36, 0.64])), rtol=1e-7)


def test_scale_by_rms_numerator_is_adam():
  """scale_by_rms(..., numerator=EMA) is Adam's direction, exactly."""
  adam_direction = adamx.scale_by_rms(
      0.999, 1e-8, eps_in_sqrt=False, bias_correction=True,
      numerator=adamx.chain(adamx.scale_by_ema(0.9), adamx.bias_correct(0.9)))
  grads = np.random.default_rng(0).normal(size=(20, 3))
  a, b = adam_direction, adamx.scale_by_adam()
  sa, sb = a.init(jnp.zeros(3)), b.init(jnp.zeros(3))
  for g in grads:
    ua, sa = a.update(jnp.asarray(g), sa)
    ub, sb = b.update(jnp.asarray(g), sb)
    np.testing.assert_array_equal(ua, ub)


def test_lag_emits_the_previous_input():
  for first_step_current, first in ((False, 0.0), (True, 5.0)):
    t = adamx.lag(first_step_current=first_step_current)
    state = t.init(jnp.zeros(()))
    seen = []
    for x in (5.0, 7.0, -1.0):
      out, state = t.update(jnp.asarray(x), state)
      seen.append(float(out))
    assert seen == [first, 5.0, 7.0]


def test_linear_combines_branches_of_the_raw_updates():
  """u_t - u_{t-1}, 0 on the first step (Adan's gradient difference), plus 2 u_t."""
  t = adamx.linear((3.0, adamx.identity()), (-1.0, adamx.lag(first_step_current=True)))
  state = t.init(jnp.zeros(()))
  seen = []
  for x in (1.0, 4.0, 2.0):
    out, state = t.update(jnp.asarray(x), state)
    seen.append(float(out))
  assert seen == [2.0, 11.0, 2.0]
  assert repr(t) == "linear(3.0*identity(), -1.0*lag(first_step_current=True))"
  with pytest.raises(adamx.InvalidHyperparameter, match="coefficient 1"):
    adamx.linear((1.0, adamx.identity()), ("2", adamx.identity()))
