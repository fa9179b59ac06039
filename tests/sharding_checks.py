"""Sharding checks on a simulated 8-device CPU mesh (run by test_sharding.py).

XLA reads ``--xla_force_host_platform_device_count`` once, when JAX starts, so
these checks run in their own process: ``XLA_FLAGS=... python
tests/sharding_checks.py``. Each check prints ``ok: ...`` or raises
``AssertionError`` naming the method and leaf.
"""

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec as P

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from adamx._tools.sharding import shard_state, state_shardings  # noqa: E402
from tests.methods import METHODS as TABLE, build, elementwise, shardable  # noqa: E402

jax.config.update("jax_numpy_dtype_promotion", "strict")

COLLECTIVES = ("all-reduce", "all-gather", "collective-permute", "all-to-all",
               "reduce-scatter")
# Every method of the table that takes sharded parameters.
METHODS = {name: build(name) for name in TABLE if shardable(name)}
SPECS = {"w": P("data", "model"), "b": P("model"), "s": P()}
rng = np.random.default_rng(0)
HOST_PARAMS = {"w": rng.normal(size=(8, 16)).astype(np.float32),
               "b": rng.normal(size=(16,)).astype(np.float32),
               "s": np.float32(0.5)}
HOST_GRADS = [jax.tree.map(lambda p: rng.normal(size=np.shape(p)).astype(np.float32), HOST_PARAMS)
              for _ in range(3)]


def put(tree, mesh, specs):
  return {k: jax.device_put(v, NamedSharding(mesh, specs[k])) for k, v in tree.items()}


def param_shaped(state, params):
  """(path, leaf, parameter name) for state leaves that mirror a parameter."""
  for path, leaf in jax.tree_util.tree_flatten_with_path(state)[0]:
    key = getattr(path[-1], "key", None)
    if key in params and np.shape(leaf) == np.shape(params[key]) and np.ndim(leaf) > 0:
      yield jax.tree_util.keystr(path), leaf, key


def train(opt, params, grads, step):
  state = opt.init(params)
  for g in grads:
    params, state = step(params, state, g)
  return params, state


def make_step(opt, **jit_kwargs):
  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state
  return jax.jit(step, **jit_kwargs)


def check_abstract_init():
  abstract = jax.tree.map(lambda p: jax.ShapeDtypeStruct(np.shape(p), p.dtype), HOST_PARAMS)
  for name, opt in METHODS.items():
    shapes = jax.eval_shape(opt.init, abstract)
    concrete = opt.init(jax.tree.map(jnp.asarray, HOST_PARAMS))
    assert jax.tree.structure(shapes) == jax.tree.structure(concrete), name
    for s, c in zip(jax.tree.leaves(shapes), jax.tree.leaves(concrete)):
      assert (s.shape, s.dtype) == (c.shape, c.dtype), name
  print("ok: init on jax.ShapeDtypeStruct / jax.eval_shape")


def check_like_parameters(mesh):
  params = put(HOST_PARAMS, mesh, SPECS)
  for name, opt in METHODS.items():
    reference, _ = train(opt, jax.tree.map(jnp.asarray, HOST_PARAMS), HOST_GRADS, make_step(opt))
    grads = [put(g, mesh, SPECS) for g in HOST_GRADS]
    step = make_step(opt)
    got, state = train(opt, params, grads, step)
    for path, leaf, key in param_shaped(state, params):
      assert leaf.sharding.is_equivalent_to(params[key].sharding, np.ndim(leaf)), (
          f"{name}: state leaf {path} has {leaf.sharding}, its parameter {params[key].sharding}")
    for k in params:
      assert got[k].sharding.is_equivalent_to(params[k].sharding, np.ndim(got[k])), (name, k)
      np.testing.assert_allclose(np.asarray(got[k]), np.asarray(reference[k]), rtol=1e-6,
                                 atol=1e-7, err_msg=f"{name}: sharded != single device ({k})")
    hlo = step.lower(params, opt.init(params), grads[0]).compile().as_text()
    found = [c for c in COLLECTIVES if c in hlo]
    # Layer-wise methods reduce over a whole leaf: that is their communication.
    assert not found or not elementwise(name), f"{name}: compiled update has collectives {found}"
    jitted_init = jax.jit(opt.init, out_shardings=state_shardings(opt, params))(params)
    for path, leaf, key in param_shaped(jitted_init, params):
      assert leaf.sharding.is_equivalent_to(params[key].sharding, np.ndim(leaf)), (
          f"{name}: jit(init, out_shardings=state_shardings) leaf {path}: {leaf.sharding}")
  print(f"ok: state sharded like parameters, same results as one device, no collectives"
        f" in elementwise methods ({len(METHODS)} methods)")


def check_explicit_mesh_jit_init(mesh):
  explicit = Mesh(mesh.devices, mesh.axis_names, axis_types=(AxisType.Explicit,) * 2)
  params = put(HOST_PARAMS, explicit, SPECS)
  with jax.set_mesh(explicit):
    for name, opt in METHODS.items():
      state = jax.jit(opt.init)(params)
      for path, leaf, key in param_shaped(state, params):
        assert leaf.sharding.spec == params[key].sharding.spec, (name, path, leaf.sharding)
  print("ok: jax.jit(opt.init) keeps parameter shardings under an explicit mesh")


def check_zero1(mesh):
  replicated = {k: P() for k in HOST_PARAMS}
  params = put(HOST_PARAMS, mesh, replicated)
  for name in ("adam", "sgd momentum", "rmsprop centered momentum", "amsgrad"):
    opt = METHODS[name]
    reference, _ = train(opt, jax.tree.map(jnp.asarray, HOST_PARAMS), HOST_GRADS, make_step(opt))
    state = shard_state(opt.init(params), mesh, "data")
    state_sharding = jax.tree.map(lambda x: x.sharding, state)
    param_sharding = jax.tree.map(lambda x: x.sharding, params)
    step = make_step(opt, out_shardings=(param_sharding, state_sharding))
    p = params
    for g in HOST_GRADS:
      p, state = step(p, state, put(g, mesh, replicated))
    split = 0
    for path, leaf, key in param_shaped(state, params):
      spec = leaf.sharding.spec
      assert "data" in spec, f"{name}: ZeRO-1 leaf {path} not split over data: {spec}"
      shard = leaf.addressable_shards[0].data
      assert shard.size * mesh.shape["data"] == leaf.size, (name, path, shard.shape)
      split += 1
    assert split, name
    for k in params:
      np.testing.assert_allclose(np.asarray(p[k]), np.asarray(reference[k]), rtol=1e-6,
                                 atol=1e-7, err_msg=f"{name}: ZeRO-1 != single device ({k})")
    abstract = shard_state(jax.eval_shape(opt.init, params), mesh, "data")
    assert jax.tree.map(lambda x: x.sharding, abstract) == state_sharding, name
  print("ok: ZeRO-1 state split over 'data', same results as one device")


def main():
  assert jax.device_count() == 8, f"expected 8 simulated devices, got {jax.device_count()}"
  mesh = Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "model"))
  check_abstract_init()
  check_like_parameters(mesh)
  check_explicit_mesh_jit_init(mesh)
  check_zero1(mesh)


if __name__ == "__main__":
  main()
