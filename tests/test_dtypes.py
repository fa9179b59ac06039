"""State dtypes, low-precision training without NaN, saturating step counters."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamx
from tests.methods import METHODS, build, dtypes_for

PARAMS = {"w": jnp.ones((2, 3), jnp.float32), "b": jnp.zeros(3, jnp.float32)}


def leaves_under(state, word):
  """dtypes of the parameter-shaped state leaves whose path mentions ``word``."""
  return {
      jnp.dtype(leaf.dtype)
      for path, leaf in jax.tree_util.tree_flatten_with_path(state)[0]
      if word in jax.tree_util.keystr(path) and jnp.ndim(leaf) > 0
  }


@pytest.mark.parametrize("factory", [adamx.adam, adamx.nadam, adamx.adamw, adamx.nadamw,
                                     adamx.amsgrad])
@pytest.mark.parametrize("mu_dtype,nu_dtype", [(jnp.bfloat16, jnp.float32),
                                               (jnp.float64, jnp.bfloat16), (None, None)])
def test_mu_and_nu_dtypes(factory, mu_dtype, nu_dtype):
  opt = factory(1e-2, mu_dtype=mu_dtype, nu_dtype=nu_dtype)
  state = opt.init(PARAMS)
  grads = jax.tree.map(lambda p: jnp.full_like(p, 0.5), PARAMS)
  updates, new_state = jax.jit(opt.update)(grads, state, PARAMS)
  for s in (state, new_state):
    assert leaves_under(s, ".mu") == {jnp.dtype(mu_dtype or jnp.float32)}
    assert leaves_under(s, ".nu") == {jnp.dtype(nu_dtype or jnp.float32)}
  assert {u.dtype for u in jax.tree.leaves(updates)} == {jnp.dtype(jnp.float32)}


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float64])
def test_momentum_accumulator_dtype(dtype):
  opt = adamx.sgd(0.1, momentum=0.9, accumulator_dtype=dtype)
  state = opt.init(PARAMS)
  _, state = opt.update(jax.tree.map(jnp.ones_like, PARAMS), state, PARAMS)
  assert leaves_under(state, "trace") == {jnp.dtype(dtype)}
  rms = adamx.rmsprop(0.1, momentum=0.9)  # the buffer follows the parameters
  assert leaves_under(rms.init(PARAMS), "trace") == {jnp.dtype(jnp.float32)}


# Every method of the table that takes low-precision parameters.
LOW_PRECISION = [n for n in METHODS if jnp.bfloat16 in dtypes_for(n)]
# All-zero steps first (Optax #1754: eps underflows in float16 and 0/0 is
# NaN), then gradients whose squares underflow float16, then ordinary ones.
GRADIENT_SCALES = [0.0, 0.0, 1e-7, 1e-4, 1e-4, 0.0, 1.0, 3e-2]


def low_precision_run(opt, dtype):
  params = jnp.asarray(np.linspace(-1, 1, 6), dtype)
  signs = jnp.asarray([1, -1, 1, 1, -1, -1], dtype)
  grads = jnp.stack([signs * jnp.asarray(s, dtype) for s in GRADIENT_SCALES])

  def step(carry, g):
    p, state = carry
    updates, state = opt.update(g, state, p)
    return (optax.apply_updates(p, updates), state), (updates, p)

  return jax.jit(lambda p: jax.lax.scan(step, (p, opt.init(p)), grads))(params)[1]


@pytest.mark.parametrize("name", LOW_PRECISION)
@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_low_precision_training_stays_finite(name, dtype):
  opt = build(name)
  updates, path = low_precision_run(opt, dtype)
  assert updates.dtype == dtype and path.dtype == dtype
  assert bool(jnp.all(jnp.isfinite(updates))), f"{name}: non-finite update"
  assert bool(jnp.all(jnp.isfinite(path)))
  # The leading all-zero steps move the parameters only where float32 does
  # (weight decay): never by a 0/0.
  if not np.any(np.asarray(low_precision_run(opt, jnp.float32)[0][:2])):
    np.testing.assert_array_equal(updates[:2], 0)


def test_float16_adam_on_tiny_gradients_matches_float32():
  # g^2 = 1e-8 and eps = 1e-8 are 0 in float16: computed there the first
  # step would be 0/0 or g/0. In float32 it is -lr * g / (|g| + eps).
  g = jnp.asarray([1e-4, -2e-4], jnp.float16)
  opt = adamx.adam(1e-2)
  low, _ = opt.update(g, opt.init(jnp.zeros(2, jnp.float16)))
  high, _ = opt.update(g.astype(jnp.float32), opt.init(jnp.zeros(2, jnp.float32)))
  np.testing.assert_allclose(np.asarray(low, np.float32), np.asarray(high), rtol=4e-3)  # float16 ulps
  np.testing.assert_allclose(np.asarray(high), [-1e-2, 1e-2], rtol=1e-3)


INT32_MAX = np.iinfo(np.int32).max


def with_counts(state, value):
  """``state`` with every step counter set to ``value``."""
  return jax.tree_util.tree_map_with_path(
      lambda path, x: jnp.asarray(value, jnp.int32)
      if jax.tree_util.keystr(path).endswith(".count") else x,
      state,
  )


COUNTING = [n for n in LOW_PRECISION if "count" in build(n).init(jnp.ones(3))._fields]


@pytest.mark.parametrize("name", COUNTING)  # Rprop, as Optax's, keeps no step counter
def test_step_counters_saturate(name):
  opt = build(name)
  params = jnp.ones(3, jnp.float32)
  state = with_counts(opt.init(params), INT32_MAX - 1)
  counts = lambda s: [int(leaf) for path, leaf in jax.tree_util.tree_flatten_with_path(s)[0]
                      if jax.tree_util.keystr(path).endswith(".count")]
  assert counts(state) and set(counts(state)) == {INT32_MAX - 1}
  update = jax.jit(opt.update)
  for _ in range(2):
    updates, state = update(jnp.full(3, 0.5, jnp.float32), state, params)
    assert bool(jnp.all(jnp.isfinite(updates)))
  assert set(counts(state)) == {INT32_MAX}, "a counter wrapped or stopped short"


@pytest.mark.parametrize("g0", [1e-6, 1e-7])
def test_float16_parts_exchange_float32_so_tiny_gradients_still_step(g0):
  """(1 - b1) g = 1e-8 is 0 in float16: between the parts of a composition updates pass
  as float32, so with float32 moments each step is -lr sign(g) (to g's own float16
  rounding), where casting between the parts gave 0 (g0 = 1e-7) or 16% errors (1e-6)."""
  g = jnp.asarray([g0, -2 * g0], jnp.float16)
  opt = adamx.adam(1e-2, mu_dtype=jnp.float32, nu_dtype=jnp.float32)
  state = opt.init(jnp.zeros(2, jnp.float16))
  for _ in range(3):
    updates, state = opt.update(g, state)
    assert updates.dtype == jnp.float16
    np.testing.assert_allclose(np.asarray(updates, np.float32), [-1e-2, 1e-2], rtol=0.1)
