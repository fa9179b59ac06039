"""Properties over random parameter trees, dtypes and hyperparameters (hypothesis).

Trees nest dicts, lists and tuples, with ``None``, 0-d and zero-size leaves,
and each leaf has its own dtype (float16, bfloat16, float32, float64,
complex64). For every method of the table in tests/methods.py (the fused path takes
float32/float64 only and has its own tests):

* ``jax.jit`` equals eager execution (to a few roundings of the leaf's dtype);
* ``jax.vmap`` over a batch of gradients equals a loop;
* the state keeps its structure and dtypes, finite inputs give finite outputs;
* ``init`` works on ``jax.ShapeDtypeStruct`` leaves.
"""

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings

from tests.methods import METHODS, build, dtypes_for, takes_complex

# Every method that takes all parameter dtypes (the fused path has its own tests).
NAMES = [n for n in METHODS if jnp.bfloat16 in dtypes_for(n)]
DTYPES = [jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64, jnp.complex64]
# Relative agreement of jit and eager, by leaf dtype: XLA fuses multiply-adds
# under jit that eager execution rounds separately.
RTOL = {jnp.dtype(jnp.float16): 2e-2, jnp.dtype(jnp.bfloat16): 5e-2, jnp.dtype(jnp.float32): 1e-4,
        jnp.dtype(jnp.float64): 1e-10, jnp.dtype(jnp.complex64): 1e-4}


@st.composite
def leaves(draw):
  shape = draw(st.sampled_from([(), (0,), (3,), (2, 3), (0, 2)]))
  dtype = jnp.dtype(draw(st.sampled_from(DTYPES)))
  seed = draw(st.integers(0, 2**16))
  rng = np.random.default_rng(seed)
  x = rng.uniform(-3, 3, size=shape)
  if jnp.issubdtype(dtype, jnp.complexfloating):
    x = x + 1j * rng.uniform(-3, 3, size=shape)
  return jnp.asarray(x, dtype)


trees = st.recursive(
    st.one_of(leaves(), st.none()),
    lambda children: st.one_of(
        st.dictionaries(st.sampled_from("abcd"), children, max_size=3),
        st.lists(children, max_size=3),
        st.lists(children, max_size=2).map(tuple)),
    max_leaves=6,
).filter(lambda tree: tree is not None)  # params=None means "no parameters" to Optax
with_arrays = trees.filter(lambda tree: len(jax.tree.leaves(tree)) > 0)


def gradients_like(params, seed):
  rng = np.random.default_rng(seed)

  def draw(p):
    g = rng.normal(size=p.shape) * 10.0 ** rng.uniform(-2, 2, size=p.shape)
    if jnp.iscomplexobj(p):
      g = g + 1j * rng.normal(size=p.shape)
    return jnp.asarray(g, p.dtype)

  return jax.tree.map(draw, params)


def real_for(method, params):
  """The parameters, with complex leaves made real for a method that refuses complex."""
  if takes_complex(method):
    return params
  return jax.tree.map(lambda p: jnp.real(p) if jnp.iscomplexobj(p) else p, params)


def dtypes_of(tree):
  return jax.tree.map(lambda x: jnp.asarray(x).dtype, tree)


def two_steps(opt, params, seed):
  state = opt.init(params)
  outs = []
  for k in range(2):
    updates, state = opt.update(gradients_like(params, seed + k), state, params)
    outs.append(updates)
  return outs, state


def assert_close(a, b):
  def close(x, y):
    x, y = np.asarray(x.astype(jnp.complex128) if jnp.iscomplexobj(x) else x.astype(jnp.float64)), \
        np.asarray(y.astype(jnp.complex128) if jnp.iscomplexobj(y) else y.astype(jnp.float64))
    np.testing.assert_allclose(x, y, rtol=RTOL.get(jnp.dtype(a_dtypes.pop(0)), 0), atol=1e-6)

  a_dtypes = [jnp.asarray(x).dtype for x in jax.tree.leaves(a)]
  jax.tree.map(close, a, b)


@settings(max_examples=60, deadline=None)
@given(method=st.sampled_from(NAMES), params=trees, seed=st.integers(0, 1000),
       lr=st.floats(1e-4, 0.5))
def test_jit_equals_eager_state_is_stable_and_outputs_finite(method, params, seed, lr):
  rate = "lr" if method.startswith("torch") else "learning_rate"
  opt = build(method, **{rate: lr})
  params = real_for(method, params)
  eager, state = two_steps(opt, params, seed)
  jitted, jit_state = jax.jit(lambda p: two_steps(opt, p, seed))(params)
  assert_close(jitted, eager)
  initial = opt.init(params)
  assert jax.tree.structure(state) == jax.tree.structure(initial)
  assert dtypes_of(state) == dtypes_of(initial) == dtypes_of(jit_state)
  for u, p in zip(jax.tree.leaves(eager[1]), jax.tree.leaves(params)):
    assert u.dtype == p.dtype and bool(jnp.all(jnp.isfinite(u)))


@settings(max_examples=40, deadline=None)
@given(method=st.sampled_from(NAMES), params=with_arrays, seed=st.integers(0, 1000))
def test_vmap_over_gradients_equals_a_loop(method, params, seed):
  opt = build(method)
  params = real_for(method, params)
  batch = [gradients_like(params, seed + k) for k in range(2)]

  def one(g):
    return opt.update(g, opt.init(params), params)

  looped = [jax.jit(one)(g) for g in batch]
  stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *batch)
  batched = jax.jit(jax.vmap(one))(stacked)
  for k, single in enumerate(looped):
    assert_close(jax.tree.map(lambda x: x[k], batched), single)


@settings(max_examples=40, deadline=None)
@given(method=st.sampled_from(NAMES), params=trees)
def test_init_works_on_abstract_parameters(method, params):
  opt = build(method)
  params = real_for(method, params)
  abstract = jax.tree.map(lambda p: jax.ShapeDtypeStruct(p.shape, p.dtype), params)
  shapes = jax.eval_shape(opt.init, abstract)
  concrete = opt.init(params)
  assert jax.tree.structure(shapes) == jax.tree.structure(concrete)
  assert jax.tree.map(lambda s: (s.shape, s.dtype), shapes) == jax.tree.map(
      lambda c: (jnp.shape(c), jnp.asarray(c).dtype), concrete)
