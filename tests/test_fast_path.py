"""adamx.fused: the multi-tensor kernel against the composed methods, Optax and itself.

The kernel repeats each composed method's operations in the same order and
dtype, with fused multiply-adds exactly where XLA's CPU backend puts them, so
under ``jax.jit`` the state is bit-identical to the composed method's and so
are the updates of every leaf of more than one element (one-element leaves: an
few ulps, where XLA simplifies Adam's ratio differently); a step (update and apply in one pass) may differ from
``optax.apply_updates`` by one rounding of ``p + u``, which XLA contracts in
some vector lanes only. Float64 throughout unless a test says otherwise.
"""

import os
import pathlib
import subprocess
import sys

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamx
from adamx._fast import build
from adamx._fast import fused as fused_module

# (composed method, arguments): every kernel, with non-default arguments and a
# schedule where the method takes one.
SCHEDULE = optax.linear_schedule(2e-2, 1e-3, 30)
CASES = {
    "adam": (adamx.adam, dict(learning_rate=SCHEDULE, b1=0.8, b2=0.99, eps=1e-7, eps_root=1e-12)),
    "adamw": (adamx.adamw, dict(learning_rate=SCHEDULE, weight_decay=0.05)),
    "adam bf16 moments": (adamx.adam, dict(learning_rate=1e-2, mu_dtype=jnp.bfloat16,
                                           nu_dtype=jnp.bfloat16)),
    "sgd momentum": (adamx.sgd, dict(learning_rate=SCHEDULE, momentum=0.9)),
    "sgd nesterov": (adamx.sgd, dict(learning_rate=1e-2, momentum=0.8, nesterov=True)),
    "lion": (adamx.lion, dict(learning_rate=SCHEDULE, b1=0.85, b2=0.98, weight_decay=0.1)),
    "adagrad": (adamx.adagrad, dict(learning_rate=SCHEDULE, initial_accumulator_value=0.05)),
    "adagrad eps outside the root": (adamx.adagrad, dict(learning_rate=0.1, eps=1e-10,
                                                         initial_accumulator_value=0.0,
                                                         eps_in_sqrt=False)),
}
STEPS = 40


def _params(dtype=jnp.float64):
  return {"w": jnp.linspace(-1, 1, 12, dtype=dtype).reshape(3, 4),
          "b": [jnp.arange(5, dtype=dtype), jnp.asarray(0.5, dtype), jnp.full((1,), -0.3, dtype)],
          "t": jnp.linspace(-3, 3, 24, dtype=dtype).reshape(2, 3, 4, 1),
          "big": jnp.linspace(0, 2, 70_000, dtype=dtype)}  # several kernel threads


def _grads(params, step):
  """A hard sequence: noise of varying scale over six decades, exact zeros, and
  a pull towards the parameters' initial values (so the same at every run)."""
  key = jax.random.fold_in(jax.random.key(0), step)
  leaves, treedef = jax.tree.flatten(params)
  scale = 10.0 ** ((step % 7) - 3)
  out = []
  for i, x in enumerate(leaves):
    g = jax.random.normal(jax.random.fold_in(key, i), x.shape, x.dtype) * scale + 0.1
    out.append(jnp.where(jnp.abs(g) < 0.05 * scale, 0, g).astype(x.dtype))
  return treedef.unflatten(out)


def _dtype_of(case):
  return jnp.float32 if "bf16" in case else jnp.float64


def _equal(a, b):
  jax.tree.map(lambda x, y: np.testing.assert_array_equal(np.asarray(x), np.asarray(y)), a, b)


def _equal_updates(a, b):
  """Bit-identical, but for one-element leaves: XLA simplifies Adam's ratio
  there differently (no broadcast to rewrite): a few ulps apart."""
  def check(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.size == 1:
      np.testing.assert_allclose(x, y, rtol=8 * np.finfo(x.dtype).eps)
    else:
      np.testing.assert_array_equal(x, y)
  jax.tree.map(check, a, b)


def _close(a, b, steps=STEPS):
  """Parameters of two runs whose steps differ by one rounding each (see the next tests)."""
  def check(x, y):
    eps = float(jnp.finfo(x.dtype).eps)
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=2 * steps * eps, atol=steps * eps)
  jax.tree.map(check, a, b)


def _trajectory(opt, params, steps=STEPS):
  """Parameters, state and last updates of ``steps`` jitted steps."""
  state = opt.init(params)

  @jax.jit
  def step(params, grads, state):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state, updates

  for t in range(steps):
    params, state, updates = step(params, _grads(params, t), state)
  return params, state, updates


@pytest.mark.parametrize("case", CASES)
def test_state_and_updates_are_bit_identical_to_the_composed_method(case):
  method, args = CASES[case]
  reference, fast = method(**args), adamx.fused(method(**args))
  params = _params(_dtype_of(case))
  s_ref, state = reference.init(params), fast.init(params)
  update_ref, update = jax.jit(reference.update), jax.jit(fast.update)
  for t in range(STEPS):  # both read the same parameters (weight decay) at every step
    grads = _grads(params, t)
    u_ref, s_ref = update_ref(grads, s_ref, params)
    u, state = update(grads, state, params)
    _equal_updates(u, u_ref)
    params = optax.apply_updates(params, u_ref)
  tree = fast.tree_state(state, params)
  assert type(tree) is type(s_ref)
  _equal(tree, s_ref)


@pytest.mark.parametrize("case", CASES)
def test_a_step_is_within_one_rounding_of_update_and_apply(case):
  # XLA contracts p + (-lr) * r into one multiply-add in some vector lanes of
  # the composed method's jitted update-and-apply; the kernel never does. So
  # from the same parameters, gradient and state, the new parameters differ
  # by at most one unit in the last place (one rounding of the add).
  method, args = CASES[case]
  reference, fast = method(**args), adamx.fused(method(**args))
  params = _params(_dtype_of(case))
  s_ref, state = reference.init(params), fast.init(params)

  @jax.jit
  def reference_step(params, grads, state):
    updates, state = reference.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  step = jax.jit(fast.step)
  for t in range(STEPS):
    grads = _grads(params, t)
    new_ref, s_ref = reference_step(params, grads, s_ref)
    new, state = step(params, grads, state)
    # One rounding of p + u: at most one ulp of the larger of |p|, |u| (< 2 |p| + |p + u|).
    jax.tree.map(lambda x, y, p: np.testing.assert_array_less(
        np.abs(np.asarray(x) - np.asarray(y)),
        2 * np.spacing(np.maximum(np.abs(np.asarray(y)), np.abs(np.asarray(p)))) * 1.0001),
        new, new_ref, params)
    params = new_ref
  _equal(fast.tree_state(state, params), s_ref)


@pytest.mark.parametrize("case", ["adam", "adamw", "sgd nesterov", "lion", "adagrad"])
def test_matches_optax_in_float64(case):
  method, args = CASES[case]
  peer = {"adam": lambda: optax.adam(SCHEDULE, b1=0.8, b2=0.99, eps=1e-7, eps_root=1e-12),
          "adamw": lambda: optax.adamw(SCHEDULE, weight_decay=0.05),
          "sgd nesterov": lambda: optax.sgd(1e-2, momentum=0.8, nesterov=True),
          "lion": lambda: optax.lion(SCHEDULE, b1=0.85, b2=0.98, weight_decay=0.1),
          "adagrad": lambda: optax.adagrad(SCHEDULE, initial_accumulator_value=0.05)}[case]()
  with jax.numpy_dtype_promotion("standard"):  # Optax mixes Python floats and int32
    p_ref, _, u_ref = _trajectory(peer, _params())
  p, _, u = _trajectory(adamx.fused(method(**args)), _params())
  jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-14), p, p_ref)
  jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-14), u, u_ref)


def test_state_is_flat_and_read_by_optax_names():
  params = _params()
  state = adamx.fused(adamx.adam(1e-3)).init(params)
  assert type(state).__name__ == "FusedAdamState"
  assert state._fields == adamx.adam(1e-3).init(params)._fields
  nu = optax.tree_utils.tree_get(state, "nu")
  assert [x.shape for x in nu] == [(12 + 5 + 1 + 1 + 24 + 70_000,)]  # one buffer per dtype


def test_mixed_dtypes_get_one_buffer_each():
  params = {"a": jnp.ones(3, jnp.float32), "b": jnp.ones(4, jnp.float64), "c": jnp.ones(2, jnp.float32)}
  grads = jax.tree.map(lambda x: x * 0.5, params)
  fast, ref = adamx.fused(adamx.adam(0.1)), adamx.adam(0.1)
  state = fast.init(params)
  assert [(x.shape, x.dtype) for x in state.mu] == [((5,), jnp.float32), ((4,), jnp.float64)]
  u, state = jax.jit(fast.update)(grads, state)
  u_ref, s_ref = jax.jit(ref.update)(grads, ref.init(params))
  _equal_updates(u, u_ref)
  _equal(fast.tree_state(state, params), s_ref)


def test_checkpoints_round_trip_and_convert_both_ways():
  params = _params()
  fast, ref = adamx.fused(adamx.adamw(1e-2)), adamx.adamw(1e-2)
  _, state, _ = _trajectory(fast, params, steps=3)
  restored = flax.serialization.from_bytes(fast.init(params), flax.serialization.to_bytes(state))
  _equal(restored, state)
  assert type(restored) is type(state)
  # A composed method's checkpoint continues on the fused path and back.
  _, s_ref, _ = _trajectory(ref, params, steps=3)
  _equal(fast.flat_state(s_ref, params), state)
  _equal(fast.tree_state(state, params), s_ref)


def test_vmap_over_learning_rates_equals_separate_runs():
  lrs = jnp.array([1e-3, 1e-2, 1e-1])
  params, grads = _params(), _grads(_params(), 0)

  def one(lr):
    opt = adamx.fused(adamx.adamw(lr, weight_decay=0.1))
    return opt.step(params, grads, opt.init(params))

  batched = jax.jit(jax.vmap(one))(lrs)
  for i, lr in enumerate(lrs):
    _equal(jax.tree.map(lambda x: x[i], batched), jax.jit(one)(lr))


def test_vmap_over_models():
  opt = adamx.fused(adamx.lion(1e-2))
  stacked = jax.tree.map(lambda x: jnp.stack([x, 2 * x]), _params())
  grads = jax.tree.map(lambda x: jnp.stack([x, -x]), _grads(_params(), 1))
  out, _ = jax.jit(jax.vmap(opt.step))(stacked, grads, jax.vmap(opt.init)(stacked))
  for i in range(2):
    pick = lambda t: jax.tree.map(lambda x: x[i], t)  # noqa: E731
    _equal(pick(out), jax.jit(opt.step)(pick(stacked), pick(grads), opt.init(pick(stacked)))[0])


def test_works_in_chain_multisteps_and_donated_jit():
  for wrap in (lambda o: optax.chain(optax.clip_by_global_norm(1.0), o),
               lambda o: optax.MultiSteps(o, every_k_schedule=2)):
    with jax.numpy_dtype_promotion("standard"):  # Optax mixes Python floats and int32
      p_ref, _, _ = _trajectory(wrap(adamx.adam(1e-2)), _params(), steps=6)
      p, _, _ = _trajectory(wrap(adamx.fused(adamx.adam(1e-2))), _params(), steps=6)
    _close(p, p_ref, steps=6)
  fast = adamx.fused(adamx.sgd(1e-2, momentum=0.9))
  params = _params()
  state = fast.init(params)
  step = jax.jit(fast.step, donate_argnums=(0, 2))
  for t in range(2):
    params, state = step(params, _grads(params, t), state)
  assert jax.tree.structure(params) == jax.tree.structure(_params())


def test_flax_train_state():
  from flax.training import train_state
  params = _params()
  ts = train_state.TrainState.create(apply_fn=None, params=params,
                                     tx=adamx.fused(adamx.adamw(1e-2)))
  ref = train_state.TrainState.create(apply_fn=None, params=params, tx=adamx.adamw(1e-2))
  for t in range(3):
    ts = jax.jit(lambda s, g: s.apply_gradients(grads=g))(ts, _grads(ts.params, t))
    ref = jax.jit(lambda s, g: s.apply_gradients(grads=g))(ref, _grads(ref.params, t))
  _close(ts.params, ref.params, steps=3)


def test_unsupported_methods_and_arguments_are_refused_by_name():
  with pytest.raises(ValueError, match="no kernel computes 'rmsprop'.*adamx.adam"):
    adamx.fused(adamx.rmsprop(1e-3))
  with pytest.raises(ValueError, match="no kernel computes 'torch.optim.Adam'"):
    adamx.fused(adamx.compat.torch.Adam(lr=1e-3))
  with pytest.raises(ValueError, match=r"fused\(adam\): nesterov=True is not supported"):
    adamx.fused(adamx.adam(1e-3, nesterov=True))
  with pytest.raises(ValueError, match="mask"):
    adamx.fused(adamx.adamw(1e-3, mask=lambda p: p))
  with pytest.raises(ValueError, match="dampening=0.5"):
    adamx.fused(adamx.sgd(1e-3, momentum=0.9, dampening=0.5))
  with pytest.raises(ValueError, match="needs momentum"):
    adamx.fused(adamx.sgd(1e-3))


def test_bad_inputs_name_the_problem():
  opt = adamx.fused(adamx.adam(1e-2))
  half = {"w": jnp.ones(3, jnp.float16)}
  with pytest.raises(TypeError, match="float16"):
    opt.update(half, opt.init(half))
  with pytest.raises(ValueError, match="sizes"):
    opt.update({"w": jnp.ones(4)}, opt.init({"w": jnp.ones(3)}))
  with pytest.raises(TypeError, match=r"flat state FusedAdamState.*got AdamState.*\.flat_state"):
    opt.update({"w": jnp.ones(3)}, adamx.adam(1e-2).init({"w": jnp.ones(3)}))
  with pytest.raises(ValueError, match="needs the parameters"):
    opt.step(None, {"w": jnp.ones(3)}, opt.init({"w": jnp.ones(3)}))
  with pytest.raises(TypeError, match="parameters of dtype float32 beside gradients of float64"):
    opt.step({"w": jnp.ones(3, jnp.float32)}, {"w": jnp.ones(3)}, opt.init({"w": jnp.ones(3)}))


@pytest.mark.parametrize("missing", ["kernel", "cpu backend"])
def test_without_the_kernel_the_composed_method_runs_on_the_same_state(monkeypatch, missing):
  method, args = CASES["adamw"]
  p_kernel, s_kernel, _ = _trajectory(adamx.fused(method(**args)), _params(), steps=5)
  if missing == "kernel":
    error = build.KernelBuildError("no compiler (simulated)")
    monkeypatch.setattr(build, "_load", lambda: error)
    reason = "no compiler .simulated."
  else:
    monkeypatch.setattr(fused_module.jax, "default_backend", lambda: "gpu")
    reason = "runs on CPU and the backend is gpu"
  fused_module._warn_fallback.cache_clear()
  with pytest.warns(RuntimeWarning, match=f"{reason}.*composed method") as caught:
    p, state, _ = _trajectory(adamx.fused(method(**args)), _params(), steps=5)
  assert len(caught) == 1  # one warning, not one per step
  _equal(state, s_kernel)
  _close(p, p_kernel, steps=5)


def test_multi_device_sharded_parameters_are_refused():
  script = (
      "import jax, jax.numpy as jnp, numpy as np, adamx\n"
      "mesh = jax.sharding.Mesh(np.array(jax.devices()), ('x',))\n"
      "s = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec('x'))\n"
      "p = {'w': jax.device_put(jnp.ones(8), s)}\n"
      "opt = adamx.fused(adamx.adam(0.1))\n"
      "try:\n  opt.step(p, p, opt.init(p))\nexcept ValueError as e:\n  print('refused:', e)\n")
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
  result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          check=False, timeout=120)
  assert "refused: fused(adam): a leaf is sharded" in result.stdout, result.stderr


def _run_isolated(tmp_path, env_changes, hide_packaged=True):
  """Runs one fused step in a fresh process; returns (stdout, stderr)."""
  script = (
      "import warnings, jax.numpy as jnp, adamx\n"
      "from adamx._fast import build\n"
      + ("build.packaged = lambda: None\n" if hide_packaged else "")
      + "warnings.simplefilter('error')\n"
      "opt = adamx.fused(adamx.adam(0.1))\n"
      "p, _ = opt.step(jnp.zeros(2), jnp.ones(2), opt.init(jnp.zeros(2)))\n"
      "print('ok', build.library_path(), p)\n")
  env = {**os.environ, "ADAMX_CACHE_DIR": str(tmp_path), **env_changes}
  result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          check=False, timeout=300)
  return result.stdout, result.stderr


@pytest.mark.slow
@pytest.mark.skipif(build.shutil.which("g++") is None and build.shutil.which("c++") is None,
                    reason="no C++ compiler on this machine: the lazy build cannot be tested")
def test_lazy_build_is_cached_and_the_cache_needs_no_compiler(tmp_path):
  out, err = _run_isolated(tmp_path, {})
  assert out.startswith(f"ok {tmp_path}"), err
  # A machine whose compiler is gone still uses the cached kernel.
  out, err = _run_isolated(tmp_path, {"CXX": "/nonexistent/c++", "PATH": "/nonexistent"})
  assert out.startswith(f"ok {tmp_path}"), err


def test_the_kernel_is_built_with_the_package():
  packaged = build.packaged()
  if packaged is None:
    pytest.skip("adamx was installed without its kernel (no compiler at build time)")
  assert build.library_path() == packaged
  assert packaged.parent == pathlib.Path(adamx.__file__).parent / "_fast"


def test_inject_hyperparams_changes_the_rate_without_rebuilding():
  opt = optax.inject_hyperparams(
      lambda learning_rate: adamx.fused(adamx.adam(learning_rate)))(learning_rate=0.1)
  ref = optax.inject_hyperparams(adamx.adam)(learning_rate=0.1)
  params, grads = _params(), _grads(_params(), 0)
  state, s_ref = opt.init(params), ref.init(params)
  for lr in (0.1, 0.01):
    state.hyperparams["learning_rate"] = jnp.asarray(lr)
    s_ref.hyperparams["learning_rate"] = jnp.asarray(lr)
    u, state = jax.jit(opt.update)(grads, state, params)
    u_ref, s_ref = jax.jit(ref.update)(grads, s_ref, params)
    _equal_updates(u, u_ref)
