"""Properties the seed explainers rest on, checked in float64."""

import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings, strategies as st

import adamx
from tests.trajectories import TOLERANCE

# Scale-free methods (eps = 0): a positive diagonal rescaling of every
# gradient, g -> c * g, leaves the updates unchanged.
SCALE_FREE = {
    "adam": adamx.adam(1e-2, eps=0.0),
    "adamax": adamx.adamax(1e-2, eps=0.0),
    "nadam": adamx.nadam(1e-2, eps=0.0),
    "amsgrad": adamx.amsgrad(1e-2, eps=0.0),
    "rmsprop": adamx.rmsprop(1e-2, eps=0.0, momentum=0.9),
    "rmsprop centered": adamx.rmsprop(1e-2, eps=0.0, centered=True, initial_scale=0.0),
    "adagrad": adamx.adagrad(1e-1, initial_accumulator_value=0.0, eps=0.0),
}


def updates_for(opt, grads):
  x = jnp.zeros(grads.shape[1:])

  def step(state, g):
    u, state = opt.update(g, state, x)
    return state, u

  return jax.lax.scan(step, opt.init(x), grads)[1]


scales = hnp.arrays(np.float64, (4,), elements=st.floats(1e-3, 1e3))
magnitudes = hnp.arrays(np.float64, (30, 4), elements=st.floats(1e-3, 1e2))
signs = hnp.arrays(np.float64, (30, 4), elements=st.sampled_from([-1.0, 1.0]))


@pytest.mark.parametrize("name", list(SCALE_FREE))
@settings(max_examples=15, deadline=None)
@given(c=scales, magnitude=magnitudes, sign=signs)
def test_invariant_to_diagonal_rescaling(name, c, magnitude, sign):
  opt = SCALE_FREE[name]
  grads = magnitude * sign
  plain = updates_for(opt, jnp.asarray(grads))
  rescaled = updates_for(opt, jnp.asarray(grads * c))
  np.testing.assert_allclose(rescaled, plain, rtol=TOLERANCE["invariance"], atol=1e-300)


@settings(max_examples=10, deadline=None)
@given(c=scales, magnitude=magnitudes, sign=signs)
def test_radam_is_scale_invariant_once_rectified(c, magnitude, sign):
  """Before rho_t reaches the threshold RAdam steps by m_hat itself (b2=0.9: t <= 5)."""
  opt = adamx.radam(1e-2, b2=0.9, eps=0.0)
  grads = magnitude * sign
  plain = updates_for(opt, jnp.asarray(grads))
  rescaled = updates_for(opt, jnp.asarray(grads * c))
  np.testing.assert_allclose(rescaled[6:], plain[6:], rtol=TOLERANCE["invariance"], atol=1e-300)
  np.testing.assert_allclose(rescaled[0], c * plain[0], rtol=TOLERANCE["invariance"])


def test_sgd_is_not_scale_invariant():
  grads = jnp.ones((3, 2))
  assert not np.allclose(updates_for(adamx.sgd(0.1), 10 * grads), updates_for(adamx.sgd(0.1), grads))


def test_bias_correction_recovers_the_first_gradient():
  """beta1 = 0.2, g1 = 10: the raw EMA is 8, the corrected one is 10."""
  g1 = jnp.array([10.0])
  raw = adamx.scale_by_ema(0.2)
  corrected = adamx.chain(adamx.scale_by_ema(0.2), adamx.bias_correct(0.2))
  assert float(raw.update(g1, raw.init(g1))[0][0]) == pytest.approx(8.0, rel=1e-15)
  assert float(corrected.update(g1, corrected.init(g1))[0][0]) == pytest.approx(10.0, rel=1e-15)


def steps_on_constant_slope(opt, steps=300, slope=2.0):
  x = jnp.zeros(())
  state = opt.init(x)
  out = []
  for _ in range(steps):
    u, state = opt.update(jnp.asarray(slope), state, x)
    x = optax.apply_updates(x, u)
    out.append(-float(u))
  return np.array(out)


def test_adam_moves_at_lr_from_the_first_step_on_a_constant_slope():
  steps = steps_on_constant_slope(adamx.adam(1e-2, eps=0.0))
  np.testing.assert_allclose(steps, 1e-2, rtol=1e-12)


def test_rmsprop_with_momentum_accelerates_to_lr_over_one_minus_mu():
  steps = steps_on_constant_slope(adamx.rmsprop(1e-2, eps=0.0, momentum=0.9))
  assert steps[0] < 0.35 * steps[-1]  # lr/sqrt(1-rho) at first (no bias correction) ...
  np.testing.assert_allclose(steps[-1], 1e-1, rtol=1e-6)  # ... accelerating to 10 lr


def test_adam_and_rmsprop_momentum_share_the_parts_in_a_different_arrangement():
  """The same primitives: Adam averages raw gradients, RMSProp+momentum rescaled ones."""
  adam = adamx.chain(
      adamx.ratio(adamx.chain(adamx.scale_by_ema(0.9), adamx.bias_correct(0.9)),
                  adamx.rms(0.999, 1e-8, bias_correction=True)),
      adamx.scale_by_learning_rate(1e-2))
  rms_momentum = adamx.chain(
      adamx.ratio(adamx.identity(), adamx.rms(0.999, 1e-8, bias_correction=True)),
      adamx.momentum(0.9), adamx.scale_by_learning_rate(1e-2))
  adam_steps = steps_on_constant_slope(adam)
  rms_steps = steps_on_constant_slope(rms_momentum)
  np.testing.assert_allclose(adam_steps, 1e-2, rtol=1e-6)
  np.testing.assert_allclose(rms_steps[-1], 1e-1, rtol=1e-6)
