"""Quantized moments ("int8", "int4", adamx.quantized): the storage format's error
bounds, the state's size, a quantized method against its float32 twin, and the
contracts (checkpoints, jit, vmap). The contract table (tests/methods.py) runs
"adam int8", "adam int4", "lion int8" and "sgd momentum int8" through every
contract test besides."""

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
import pytest

import adamx
from adamx._core import quantized as Q

FORMATS = {name: Q.as_format(name) for name in ("int8", "int4")}
FORMATS |= {f"{name} nonnegative": f.for_nonnegative() for name, f in list(FORMATS.items())}


def sample(shape, seed, nonnegative):
  """Values over four decades, with exact zeros, as moments are."""
  rng = np.random.default_rng(seed)
  x = rng.normal(size=shape) * 10.0 ** rng.uniform(-4, 0, size=shape)
  x = np.where(rng.uniform(size=shape) < 0.05, 0.0, x)
  return jnp.asarray(np.abs(x) if nonnegative else x, jnp.float32)


@pytest.mark.parametrize("name", FORMATS)
def test_round_trip_lands_on_a_neighbouring_code(name):
  """Each element decodes to one of the two codes around it (times its block's
  scale): the error is at most one code gap, and the block maximum is exact."""
  fmt = FORMATS[name]
  x = sample((5, 1000), 0, fmt.nonnegative)
  stored = fmt.encode(x, jnp.uint32(3))
  y = fmt.decode(stored, x.shape)
  table = fmt.code_map
  blocks = -(-1000 // fmt.block)
  scales = np.asarray(stored.scales)
  for b in range(blocks):
    cols = slice(b * fmt.block, min((b + 1) * fmt.block, 1000))
    scale = scales[:, b:b + 1]
    normalized = np.asarray(x[:, cols]) / scale
    below = np.clip(np.searchsorted(table, normalized, side="right") - 1, 0, len(table) - 2)
    allowed = np.stack([table[below], table[below + 1]]) * scale
    got = np.asarray(y[:, cols])
    assert np.all(np.isclose(got, allowed[0], rtol=1e-6, atol=0)
                  | np.isclose(got, allowed[1], rtol=1e-6, atol=0))
    assert np.allclose(np.abs(got).max(axis=1), scale[:, 0], rtol=1e-6)  # the max is a code


@pytest.mark.parametrize("name", FORMATS)
def test_rounding_is_unbiased_over_writes(name):
  fmt = FORMATS[name]
  x = sample((1, 2 * fmt.block), 1, fmt.nonnegative)
  mean = np.mean([np.asarray(fmt.decode(fmt.encode(x, jnp.uint32(s)), x.shape))
                  for s in range(400)], axis=0)
  scale = np.repeat(np.abs(np.asarray(x)).reshape(2, fmt.block).max(axis=1), fmt.block)
  gap = np.diff(fmt.code_map).max() * scale
  # within 5 standard errors of the mean of a two-point variable of width <= gap
  assert np.all(np.abs(mean - np.asarray(x)) <= 5 * gap / 2 / np.sqrt(400) + 1e-7)


def test_nonnegative_codes_never_decode_to_zero_in_a_nonzero_block():
  """A second moment rounded to 0 would divide a nonzero first moment by eps."""
  fmt = FORMATS["int4 nonnegative"]
  x = jnp.zeros((1, 128)).at[0, 0].set(1.0)
  y = fmt.decode(fmt.encode(x, jnp.uint32(0)), x.shape)
  assert float(y.min()) > 0 and float(y[0, 0]) == 1.0
  assert float(fmt.decode(fmt.encode(jnp.zeros((1, 128)), jnp.uint32(0)), (1, 128)).max()) == 0


def gpt2_small():
  d, blocks, vocab = 768, 12, 50257
  block = {"ln_1": {"scale": (d,), "bias": (d,)}, "attn": {"c_attn": (d, 3 * d), "c_attn_b": (3 * d,),
           "c_proj": (d, d), "c_proj_b": (d,)}, "ln_2": {"scale": (d,), "bias": (d,)},
           "mlp": {"c_fc": (d, 4 * d), "c_fc_b": (4 * d,), "c_proj": (4 * d, d), "c_proj_b": (d,)}}
  shapes = {"wte": (vocab, d), "wpe": (1024, d), "ln_f": {"scale": (d,), "bias": (d,)},
            "h": [block] * blocks}
  return jax.tree.map(lambda s: jax.ShapeDtypeStruct(s, jnp.float32), shapes,
                      is_leaf=lambda s: isinstance(s, tuple))


def state_bytes_per_param(opt, params):
  state = jax.eval_shape(opt.init, params)
  count = sum(np.prod(p.shape) for p in jax.tree.leaves(params))
  return sum(np.prod(s.shape) * s.dtype.itemsize for s in jax.tree.leaves(state)) / count


@pytest.mark.parametrize(("moments", "at_most"), [(None, 8.0001), ("int8", 2.1), ("int4", 1.1)])
def test_adam_state_bytes_per_parameter_on_gpt2_small(moments, at_most):
  opt = adamx.adam(1e-3, mu_dtype=moments, nu_dtype=moments)
  assert state_bytes_per_param(opt, gpt2_small()) <= at_most


def test_small_and_zero_dimensional_leaves_stay_float32():
  state = adamx.adam(1e-3, mu_dtype="int8").init(
      {"big": jnp.zeros((64, 64)), "small": jnp.zeros(4095), "scalar": jnp.zeros(())})
  assert Q.is_quantized(state.mu["big"]) and state.mu["big"].codes.dtype == jnp.uint8
  assert state.mu["small"].dtype == jnp.float32 and state.mu["scalar"].dtype == jnp.float32


def regression(seed=0):
  """A least-squares problem with leaves large enough to be quantized."""
  rng = np.random.default_rng(seed)
  x = jnp.asarray(rng.normal(size=(512, 128)), jnp.float32)
  w_true = jnp.asarray(rng.normal(size=(128, 64)) / 8, jnp.float32)
  y = x @ w_true + 0.01 * jnp.asarray(rng.normal(size=(512, 64)), jnp.float32)

  def loss(p):
    return jnp.mean((x @ p["w"] + p["b"] - y) ** 2)

  return loss, {"w": jnp.zeros((128, 64), jnp.float32), "b": jnp.zeros(64, jnp.float32)}


def train(opt, steps=300, batch=None):
  loss, params = regression()

  def step(carry, _):
    p, s = carry
    u, s = opt.update(jax.grad(loss)(p), s, p)
    return (optax.apply_updates(p, u), s), loss(p)

  (params, state), curve = jax.jit(lambda p: jax.lax.scan(step, (p, opt.init(p)), None, steps))(params)
  return np.asarray(curve), params, state


@pytest.mark.parametrize(("method", "moments", "within", "spread"), [
    ("adam", "int8", 0.01, 1.1), ("adam", "int4", 0.03, 10.0), ("adamw", "int8", 0.01, 1.1),
    ("lion", "int8", 0.03, 1.5), ("sgd", "int8", 0.01, 1.1)])  # Lion ends at its lr's floor
def test_a_quantized_method_tracks_its_float32_twin(method, moments, within, spread):
  """Over 300 steps the final loss is within ``within`` (relative) of the same method
  with float32 moments (the issue's targets: 1% for int8, 3% for int4), and at every
  step the loss is within a factor ``spread`` of the twin's (int4 learns slower early)."""
  args = {"adam": dict(learning_rate=1e-2), "adamw": dict(learning_rate=1e-2, weight_decay=1e-3),
          "lion": dict(learning_rate=1e-3), "sgd": dict(learning_rate=0.05, momentum=0.9)}[method]
  dtype_names = {"sgd": ("accumulator_dtype",), "lion": ("mu_dtype",)}.get(
      method, ("mu_dtype", "nu_dtype"))
  twin, _, _ = train(getattr(adamx, method)(**args))
  mine, _, state = train(getattr(adamx, method)(**args, **dict.fromkeys(dtype_names, moments)))
  assert any(Q.is_quantized(leaf) for leaf in jax.tree.leaves(state, is_leaf=Q.is_quantized))
  assert twin[-1] < 0.05 * twin[0]  # the problem is learned
  assert abs(mine[-1] - twin[-1]) <= within * twin[-1], (mine[-1], twin[-1])
  ratio = np.maximum(mine / twin, twin / mine)
  assert ratio.max() <= spread, f"worst ratio {ratio.max():.3g} at step {ratio.argmax()}"


def test_state_round_trips_exactly_through_flax_and_orbax(tmp_path):
  _, params, state = train(adamx.adam(1e-2, mu_dtype="int8", nu_dtype="int4"), steps=20)
  restored = flax.serialization.from_bytes(state, flax.serialization.to_bytes(state))
  jax.tree.map(np.testing.assert_array_equal, restored, state)
  checkpointer = ocp.StandardCheckpointer()
  checkpointer.save(tmp_path / "state", state)
  checkpointer.wait_until_finished()
  back = checkpointer.restore(tmp_path / "state", jax.eval_shape(lambda: state))
  checkpointer.close()
  assert jax.tree.structure(back) == jax.tree.structure(state)
  jax.tree.map(np.testing.assert_array_equal, back, state)


def test_jit_equals_eager_and_vmap_equals_separate_runs():
  opt = adamx.adam(1e-2, mu_dtype="int8", nu_dtype="int8")
  loss, params = regression()
  grads = jax.grad(loss)(params)
  state = opt.init(params)
  eager = opt.update(grads, state, params)
  jitted = jax.jit(opt.update)(grads, state, params)
  jax.tree.map(np.testing.assert_array_equal, eager, jitted)
  two = jax.tree.map(lambda a: jnp.stack([a, 2 * a]), params)
  batched = jax.vmap(lambda p: opt.update(jax.grad(loss)(p), opt.init(p), p))(two)
  for i in range(2):
    p = jax.tree.map(lambda a: a[i], two)
    single = opt.update(jax.grad(loss)(p), opt.init(p), p)
    # vmapped gradients differ from the single ones by rounding, which may move an
    # element across a stochastic-rounding threshold: one code apart at most.
    def close(a, b):
      a, b = np.asarray(a[i]), np.asarray(b)
      if np.issubdtype(b.dtype, np.integer):  # codes: a neighbouring code at most
        assert np.abs(a.astype(np.int64) - b.astype(np.int64)).max() <= 1
      else:
        np.testing.assert_allclose(a, b, rtol=1e-2, atol=1e-6)

    jax.tree.map(close, batched, single)


def test_formats_are_refused_where_the_statistic_is_not_shaped_like_its_leaf():
  with pytest.raises(TypeError, match="quantized storage is for statistics shaped like"):
    adamx.cover_accumulate(dtype="int8").init({"w": jnp.zeros((64, 64))})
  with pytest.raises(ValueError, match="quantized format, which the kernel does not compute"):
    adamx.fused(adamx.adam(1e-3, mu_dtype="int8"))
  with pytest.raises(ValueError, match="bits=3"):
    adamx.quantized(3)
