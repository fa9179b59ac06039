"""fused_adam: the single-pass kernel against adamx.adam, optax.adam and itself.

Float64 comparisons (conftest enables x64 and strict promotion). The kernel
repeats adamx.adam's operations in the same order and dtype; XLA may contract
``p + (-lr) * r`` into one fused multiply-add in some vector lanes, so
parameters may differ by one rounding: RTOL is a few float64 ulps.
"""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree

import adamx
from adamx._fast.adam import fused_adam

RTOL = 4e-16 * 8
ATOL = 1e-15  # one rounding of p + u, where p + u nearly cancels (|p| <= 2)
F32_RTOL = 2.4e-7


def _params(dtype=jnp.float64):
  return {"w": jnp.linspace(-1, 1, 12, dtype=dtype).reshape(3, 4),
          "b": [jnp.arange(5, dtype=dtype), jnp.asarray(0.5, dtype)],
          "big": jnp.linspace(0, 2, 70_000, dtype=dtype)}  # several kernel threads


def _grads(params, step):
  key = jax.random.fold_in(jax.random.key(0), step)
  leaves, treedef = jax.tree.flatten(params)
  return treedef.unflatten([
      jax.random.normal(jax.random.fold_in(key, i), x.shape, x.dtype) for i, x in enumerate(leaves)])


def _close(a, b, rtol=RTOL, atol=0.0):
  jax.tree.map(lambda x, y: np.testing.assert_allclose(
      np.asarray(x, np.float64), np.asarray(y, np.float64), rtol=rtol, atol=atol), a, b)


def _run_reference(opt, params, steps, jit=True):
  state = opt.init(params)
  step = lambda g, s, p: (lambda u, s: (optax.apply_updates(p, u), s, u))(*opt.update(g, s, p))  # noqa: E731
  step = jax.jit(step) if jit else step
  for t in range(steps):
    params, state, updates = step(_grads(params, t), state, params)
  return params, state, updates


@pytest.mark.parametrize("jit", [True, False])
def test_step_matches_adamx_adam(jit):
  lr = optax.linear_schedule(1e-2, 1e-3, 5)
  ref, fused = adamx.adam(lr, b1=0.8, b2=0.99, eps=1e-7, eps_root=1e-12), fused_adam(
      lr, b1=0.8, b2=0.99, eps=1e-7, eps_root=1e-12)
  p_ref, s_ref, _ = _run_reference(ref, _params(), 6, jit)
  params, state = _params(), fused.init(_params())
  step = jax.jit(fused.step) if jit else fused.step
  for t in range(6):
    params, state = step(params, _grads(params, t), state)
  assert jax.tree.structure(state) == jax.tree.structure(s_ref)  # checkpoints interchange
  for name in ("count", "learning_rate"):
    np.testing.assert_array_equal(getattr(state, name), getattr(s_ref, name))
  # Eager adamx.adam runs each operation alone, without XLA's fused
  # multiply-adds that the kernel reproduces: one rounding apart per step.
  rtol = RTOL if jit else 1e-12
  _close(params, p_ref, rtol=rtol, atol=ATOL)
  _close(state, s_ref, rtol=rtol, atol=1e-300 if jit else ATOL)


def test_update_matches_optax_adam():
  ref, fused = optax.adam(1e-3), fused_adam(1e-3)
  with jax.numpy_dtype_promotion("standard"):  # optax mixes Python floats and int32
    p_ref, _, u_ref = _run_reference(ref, _params(), 4)
  p, _, u = _run_reference(fused, _params(), 4)
  _close(u, u_ref, rtol=1e-12)
  _close(p, p_ref, rtol=1e-12, atol=ATOL)


def test_float32_and_bfloat16_moments_match_adamx_adam():
  for moment in (None, jnp.bfloat16):
    ref = adamx.adam(1e-2, mu_dtype=moment, nu_dtype=moment)
    fused = fused_adam(1e-2, mu_dtype=moment, nu_dtype=moment)
    p_ref, s_ref, _ = _run_reference(ref, _params(jnp.float32), 3)
    params, state = _params(jnp.float32), fused.init(_params(jnp.float32))
    for t in range(3):
      params, state = jax.jit(fused.step)(params, _grads(params, t), state)
    assert jax.tree.map(jnp.result_type, state) == jax.tree.map(jnp.result_type, s_ref)
    _close(params, p_ref, rtol=F32_RTOL, atol=1e-7)
    # bfloat16 moments: the same rounding of the same float32 value.
    _close(state, s_ref, rtol=F32_RTOL if moment is None else 2**-8, atol=1e-30)


def test_vmap_over_learning_rates_equals_separate_runs():
  lrs = jnp.array([1e-3, 1e-2, 1e-1])
  params, grads = _params(), _grads(_params(), 0)

  def one(lr):
    opt = fused_adam(lr)
    return opt.step(params, grads, opt.init(params))[0]

  batched = jax.jit(jax.vmap(one))(lrs)
  for i, lr in enumerate(lrs):
    _close(jax.tree.map(lambda x: x[i], batched), one(lr), rtol=0)


def test_vmap_over_parameters():
  opt = fused_adam(1e-2)
  stacked = jax.tree.map(lambda x: jnp.stack([x, 2 * x]), _params())
  grads = jax.tree.map(lambda x: jnp.stack([x, -x]), _grads(_params(), 1))
  out, _ = jax.vmap(opt.step)(stacked, grads, jax.vmap(opt.init)(stacked))
  for i in range(2):
    pick = lambda t: jax.tree.map(lambda x: x[i], t)  # noqa: E731
    expected, _ = opt.step(pick(stacked), pick(grads), opt.init(pick(stacked)))
    _close(pick(out), expected, rtol=0)


def test_flat_parameters_give_the_tree_results():
  params, grads = _params(), _grads(_params(), 2)
  opt = fused_adam(1e-2)
  flat, unravel = ravel_pytree(params)
  flat_out, _ = opt.step(flat, ravel_pytree(grads)[0], opt.init(flat))
  tree_out, _ = opt.step(params, grads, opt.init(params))
  _close(unravel(flat_out), tree_out, rtol=0)


def test_works_inside_optax_chain_and_donated_jit():
  opt = optax.chain(optax.clip_by_global_norm(1.0), fused_adam(1e-2))
  ref = optax.chain(optax.clip_by_global_norm(1.0), adamx.adam(1e-2))
  _close(_run_reference(opt, _params(), 3)[0], _run_reference(ref, _params(), 3)[0], atol=ATOL)
  fused = fused_adam(1e-2)
  params = _params()
  state = fused.init(params)
  step = jax.jit(fused.step, donate_argnums=(0, 2))
  for t in range(2):
    params, state = step(params, _grads(params, t), state)
  assert jax.tree.structure(params) == jax.tree.structure(_params())


def test_errors_name_the_problem():
  opt = fused_adam(1e-2)
  half = {"w": jnp.ones(3, jnp.float16)}
  with pytest.raises(TypeError, match="float16"):
    opt.update(half, opt.init(half))
  with pytest.raises(ValueError, match="tree structure"):
    opt.update({"v": jnp.ones(3)}, opt.init({"w": jnp.ones(3)}))
  with pytest.raises(ValueError, match="needs the parameters"):
    opt.step(None, {"w": jnp.ones(3)}, opt.init({"w": jnp.ones(3)}))


def test_multi_device_sharded_parameters_are_refused():
  script = (
      "import jax, jax.numpy as jnp, numpy as np\n"
      "from adamx._fast.adam import fused_adam\n"
      "mesh = jax.sharding.Mesh(np.array(jax.devices()), ('x',))\n"
      "s = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec('x'))\n"
      "p = {'w': jax.device_put(jnp.ones(8), s)}\n"
      "opt = fused_adam(0.1)\n"
      "try:\n  opt.step(p, p, opt.init(p))\nexcept ValueError as e:\n  print('refused:', e)\n")
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
  result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          check=False, timeout=120)
  assert "refused: fused_adam: a leaf is sharded" in result.stdout, result.stderr
