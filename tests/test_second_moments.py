"""AdaBelief, Yogi, AdaMaxW, ACProp, ADOPT, MADGRAD and Sophia: against Optax
(float64, 200 steps of the hard gradient sequence), against their papers'
loops, state by name, complex parameters, and their new primitives."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from optax import contrib
from optax.tree_utils import tree_get, tree_get_all_with_path
import pytest

import adamx
from tests import reference_second_moments as reference
from tests.trajectories import (
    SHAPES, TOLERANCE, final_state, gradient_sequence, initial_params, relative_difference,
    run_adamx, run_optax, scan_path, stack,
)


def squared():
  """A deterministic diagonal "Hessian" for Optax's Sophia: g * g (Sophia-G style)."""
  return optax.stateless(lambda updates, params: jax.tree.map(lambda g: g * g, updates))


# (name, Optax's factory, arguments): two or more settings per method, non-default included.
# Sophia's Hessian estimate is g^2 here (adamx.square() / squared()); the default
# Hutchinson estimator is compared in its own test.
CASES = [
    ("adabelief", optax.adabelief, dict(learning_rate=1e-2)),
    ("adabelief", optax.adabelief, dict(learning_rate=3e-3, b1=0.8, b2=0.99, eps=1e-8,
                                        eps_root=1e-10)),
    ("adabelief", optax.adabelief, dict(learning_rate=optax.cosine_decay_schedule(1e-2, 200),
                                        nesterov=True)),
    ("yogi", optax.yogi, dict(learning_rate=1e-2)),
    ("yogi", optax.yogi, dict(learning_rate=3e-3, b1=0.7, b2=0.95, eps=1e-4)),
    ("adamaxw", optax.adamaxw, dict(learning_rate=1e-2)),
    ("adamaxw", optax.adamaxw, dict(learning_rate=1e-2, b1=0.5, b2=0.9, eps=1e-4, weight_decay=0.1,
                                    mask={"w": True, "b": False, "s": True})),
    ("acprop", contrib.acprop, dict(learning_rate=1e-2)),
    ("acprop", contrib.acprop, dict(learning_rate=3e-3, b1=0.8, b2=0.99, eps=1e-8, eps_root=1e-10,
                                    weight_decay=0.05)),
    ("adopt", contrib.adopt, dict(learning_rate=1e-2)),
    ("adopt", contrib.adopt, dict(learning_rate=1e-2, b1=0.8, b2=0.99, eps=1e-4, nesterov=True,
                                  clip_value_fn=lambda c: 0.5 * c**0.5)),
    ("adopt", contrib.adopt, dict(learning_rate=1e-3, use_clipping=False)),
    ("sophia", contrib.sophia, dict(learning_rate=1e-2)),
    ("sophia", contrib.sophia, dict(learning_rate=1e-2, b1=0.9, b2=0.95, eps=1e-6, weight_decay=0.01,
                                    weight_decay_mask={"w": True, "b": False, "s": False},
                                    gamma=0.05, clip_threshold=None, update_interval=3)),
    ("sophia", contrib.sophia, dict(learning_rate=optax.exponential_decay(1e-2, 50, 0.5),
                                    clip_threshold=0.3, update_interval=1)),
]


def with_estimator(name, kwargs, estimator):
  return {**kwargs, "hessian_diagonal_fn": estimator} if name == "sophia" else kwargs


def optax_difference(name, peer, kwargs, seed):
  grads, params = gradient_sequence(seed), initial_params(seed)
  mine = run_adamx(getattr(adamx, name)(**with_estimator(name, kwargs, adamx.square())),
                   grads, params)
  theirs = run_optax(peer(**with_estimator(name, kwargs, squared())), grads, params)
  return relative_difference(mine, theirs)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("name", "peer", "kwargs"), CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)])
def test_matches_optax(name, peer, kwargs, seed):
  assert optax_difference(name, peer, kwargs, seed) <= TOLERANCE["peer"]


def int64_count(opt):
  """Optax's MADGRAD with its step count in int64, so that sqrt(count + 1) is float64."""

  def init(params):
    decay_state, madgrad_state = opt.init(params)
    return decay_state, madgrad_state._replace(count=jnp.zeros([], jnp.int64))

  return optax.GradientTransformation(init, opt.update)


MADGRAD_CASES = [
    dict(learning_rate=1e-2),
    dict(learning_rate=3e-3, momentum=0.5, weight_decay=0.01, eps=1e-4),
    dict(learning_rate=lambda count: 1e-2 * 0.99**count, momentum=0.8),
]


@pytest.mark.parametrize("kwargs", MADGRAD_CASES, ids=range(len(MADGRAD_CASES)))
def test_madgrad_matches_optax_given_a_float64_square_root(kwargs):
  grads, params = gradient_sequence(0), initial_params(0)
  mine = run_adamx(adamx.madgrad(**kwargs), grads, params)
  theirs = run_optax(int64_count(contrib.madgrad(**kwargs)), grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["peer"]


def test_madgrad_differs_from_plain_optax_by_its_float32_square_root():
  """Optax forms sqrt(count + 1) from its int32 count, which JAX computes in
  float32 even with x64 on; the trajectories then agree to that rounding only."""
  count = jnp.asarray(2, jnp.int32)
  with jax.numpy_dtype_promotion("standard"):
    assert jnp.sqrt(count + 1).dtype == jnp.float32  # the cause
  grads, params = gradient_sequence(0), initial_params(0)
  mine = run_adamx(adamx.madgrad(1e-2), grads, params)
  theirs = run_optax(contrib.madgrad(1e-2), grads, params)
  assert 1e-10 < relative_difference(mine, theirs) < 1e-6


def quartic(params):
  return sum(jnp.sum(jnp.cos(p) + 0.1 * p**4) for p in jax.tree.leaves(params))


def run_with_objective(opt, grads, params):
  """Trajectory and final state with ``obj_fn`` passed to every update (Hutchinson)."""

  def step(carry, g):
    p, state = carry
    updates, state = opt.update(g, state, p, obj_fn=quartic)
    p = optax.apply_updates(p, updates)
    return (p, state), p

  p0 = jax.tree.map(jnp.asarray, params)
  (_, state), path = jax.jit(lambda p: jax.lax.scan(step, (p, opt.init(p)), stack(grads)))(p0)
  return np.concatenate([np.asarray(path[k]).reshape(len(grads), -1) for k in SHAPES], 1), state


@pytest.mark.parametrize("kwargs", [dict(learning_rate=1e-2),
                                    dict(learning_rate=3e-3, update_interval=3, gamma=0.1)])
def test_sophia_with_optax_hutchinson_estimator_and_obj_fn(kwargs):
  grads, params = gradient_sequence(2), initial_params(2)
  mine, my_state = run_with_objective(adamx.sophia(**kwargs), grads, params)
  with jax.numpy_dtype_promotion("standard"):
    theirs, their_state = run_with_objective(contrib.sophia(**kwargs), grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["peer"]
  np.testing.assert_array_equal(tree_get(my_state, "key"), tree_get(their_state, "key"))


# --- The papers' loops ---------------------------------------------------------------


def flat_sequence(seed, *, dense):
  return np.stack([np.concatenate([g[k].ravel() for k in SHAPES])
                   for g in gradient_sequence(seed, dense=dense)])


X0 = np.concatenate([v.ravel() for v in initial_params(0).values()])


def run_flat(opt, grads):
  return np.asarray(jax.jit(lambda x: scan_path(opt, x, jnp.asarray(grads)))(jnp.asarray(X0)))


PAPER = {
    "adabelief (Zhuang et al., Alg. 2)": (
        adamx.adabelief(1e-2, 0.9, 0.999, eps=1e-8, eps_root=1e-8),
        lambda g: reference.adabelief(g, X0, 1e-2, 0.9, 0.999, 1e-8), False),
    "adabelief, non-default": (
        adamx.adabelief(3e-3, 0.8, 0.99, eps=1e-6, eps_root=1e-6),
        lambda g: reference.adabelief(g, X0, 3e-3, 0.8, 0.99, 1e-6), False),
    "yogi (Zaheer et al., Alg. 2)": (
        adamx.yogi(1e-2, 0.9, 0.999, 1e-3, initial_accumulator_value=0.0, bias_correction=False),
        lambda g: reference.yogi(g, X0, 1e-2, 0.9, 0.999, 1e-3), False),
    "yogi, non-default": (
        adamx.yogi(3e-3, 0.7, 0.95, 1e-4, initial_accumulator_value=0.0, bias_correction=False),
        lambda g: reference.yogi(g, X0, 3e-3, 0.7, 0.95, 1e-4), False),
    "adamaxw (Kingma & Ba §7.1 + Loshchilov & Hutter)": (
        adamx.adamaxw(2e-3, 0.9, 0.999, eps=0.0, weight_decay=0.01),
        lambda g: reference.adamaxw(g, X0, 2e-3, 0.9, 0.999, 0.01), True),
    "adamaxw, non-default": (
        adamx.adamaxw(1e-2, 0.5, 0.9, eps=0.0, weight_decay=0.1),
        lambda g: reference.adamaxw(g, X0, 1e-2, 0.5, 0.9, 0.1), True),
    "acprop (authors' code)": (
        adamx.acprop(1e-2, 0.9, 0.999, 1e-16, 1e-16, previous_mean=False),
        lambda g: reference.acprop(g, X0, 1e-2, 0.9, 0.999, 1e-16), True),
    "acprop, non-default": (
        adamx.acprop(3e-3, 0.8, 0.99, 1e-12, 1e-12, previous_mean=False),
        lambda g: reference.acprop(g, X0, 3e-3, 0.8, 0.99, 1e-12), True),
    "adopt (Taniguchi et al., Alg. 2)": (
        adamx.adopt(1e-2, 0.9, 0.9999, 1e-6),
        lambda g: reference.adopt(g, X0, 1e-2, 0.9, 0.9999, 1e-6), False),
    "adopt, non-default": (
        adamx.adopt(3e-3, 0.8, 0.99, 1e-4),
        lambda g: reference.adopt(g, X0, 3e-3, 0.8, 0.99, 1e-4), False),
    "adopt without clipping": (
        adamx.adopt(1e-3, 0.9, 0.999, 1e-6, use_clipping=False),
        lambda g: reference.adopt(g, X0, 1e-3, 0.9, 0.999, 1e-6, clipping=False), False),
    "madgrad (Defazio & Jelassi, Alg. 1, gamma = lr + eps)": (
        adamx.madgrad(1e-2, 0.9, eps=1e-6),
        lambda g: reference.madgrad(g, X0, 1e-2 + 1e-6, 0.1, 1e-6), False),
    "madgrad, non-default": (
        adamx.madgrad(3e-3, 0.5, eps=1e-4),
        lambda g: reference.madgrad(g, X0, 3e-3 + 1e-4, 0.5, 1e-4), False),
    "sophia (Liu et al., Alg. 3)": (
        adamx.sophia(1e-2, 0.965, 0.99, 1e-8, 1e-4, None, 0.01, 1.0, 10, adamx.square(),
                       bias_correction=False, delayed_hessian=False),
        lambda g: reference.sophia(g, X0, 1e-2, 0.965, 0.99, 1e-8, 0.01, 1.0, 10, 1e-4,
                                   np.square), False),
    "sophia, non-default": (
        adamx.sophia(3e-3, 0.9, 0.95, 1e-6, 0.05, None, 0.05, 0.5, 3, adamx.square(),
                       bias_correction=False, delayed_hessian=False),
        lambda g: reference.sophia(g, X0, 3e-3, 0.9, 0.95, 1e-6, 0.05, 0.5, 3, 0.05, np.square),
        False),
}


@pytest.mark.parametrize("case", list(PAPER))
def test_matches_the_papers_loop(case):
  opt, loop, dense = PAPER[case]
  grads = flat_sequence(3, dense=dense)
  assert relative_difference(run_flat(opt, grads), loop(grads)) <= TOLERANCE["reference"]


def test_optax_forms_differ_from_the_papers_where_the_docstrings_say():
  """The default (Optax) forms are not the paper's loops: the switches matter."""
  grads = flat_sequence(3, dense=True)
  pairs = [
      (adamx.yogi(1e-2), reference.yogi(grads, X0, 1e-2, 0.9, 0.999, 1e-3)),
      (adamx.acprop(1e-2), reference.acprop(grads, X0, 1e-2, 0.9, 0.999, 1e-16)),
      (adamx.sophia(1e-2, hessian_diagonal_fn=adamx.square()),
       reference.sophia(grads, X0, 1e-2, 0.965, 0.99, 1e-8, 0.01, 1.0, 10, 1e-4, np.square)),
  ]
  for opt, paper in pairs:
    assert relative_difference(run_flat(opt, grads), paper) > 1e-6


# --- State by name ---------------------------------------------------------------------

STATE_CASES = [
    ("adabelief", optax.adabelief, dict(learning_rate=0.01), ["mu", "nu", "count"]),
    ("yogi", optax.yogi, dict(learning_rate=0.01), ["mu", "nu", "count"]),
    ("adamaxw", optax.adamaxw, dict(learning_rate=0.01, weight_decay=0.1), ["mu", "nu", "count"]),
    ("acprop", contrib.acprop, dict(learning_rate=0.01), ["mu", "nu", "count"]),
    ("adopt", contrib.adopt, dict(learning_rate=0.01), ["mu", "nu", "count"]),
    ("madgrad", lambda **kw: int64_count(contrib.madgrad(**kw)), dict(learning_rate=0.01),
     ["grad_sum_sq", "x0"]),  # and "s", below (also a parameter's name here)
    ("sophia", contrib.sophia, dict(learning_rate=0.01, update_interval=3), ["mu", "nu", "count"]),
]



@pytest.mark.parametrize(("name", "peer", "kwargs", "fields"), STATE_CASES,
                         ids=[c[0] for c in STATE_CASES])
def test_tree_get_reads_what_optax_keeps_under_the_same_name(name, peer, kwargs, fields):
  mine = final_state(getattr(adamx, name)(**with_estimator(name, kwargs, adamx.square())))
  with jax.numpy_dtype_promotion("standard"):
    theirs = final_state(peer(**with_estimator(name, kwargs, squared())))
  assert type(mine).__name__ == name.capitalize() + "State"
  assert len(tree_get_all_with_path(mine, "count")) == 1
  for field in fields:
    assert len(tree_get_all_with_path(theirs, field)) == 1, f"optax has no single {field}"
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300),
                 tree_get(mine, field), tree_get(theirs, field))


def test_madgrad_s_is_optax_s():
  mine = final_state(adamx.madgrad(0.01))
  with jax.numpy_dtype_promotion("standard"):
    theirs = final_state(int64_count(contrib.madgrad(0.01)))
  assert mine._fields == ("count", "s", "grad_sum_sq", "x0")
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12), mine.s, theirs[1].s)


# --- Complex parameters -------------------------------------------------------------------


def complex_sequence(seed):
  real, imag = gradient_sequence(seed), gradient_sequence(seed + 100)
  return [{k: a[k] + 1j * b[k] for k in SHAPES} for a, b in zip(real, imag)]


COMPLEX_CASES = [
    ("adabelief", optax.adabelief, dict(learning_rate=1e-2, nesterov=True)),
    ("yogi", optax.yogi, dict(learning_rate=1e-2)),
    ("adamaxw", optax.adamaxw, dict(learning_rate=1e-2, weight_decay=0.1)),
    ("acprop", contrib.acprop, dict(learning_rate=1e-2, weight_decay=0.01)),
    ("adopt", contrib.adopt, dict(learning_rate=1e-2, use_clipping=False)),
]


@pytest.mark.parametrize(("name", "peer", "kwargs"), COMPLEX_CASES, ids=[c[0] for c in COMPLEX_CASES])
def test_complex128_matches_optax(name, peer, kwargs):
  grads = complex_sequence(0)
  params = {k: v + 0.5j * v[::-1] if v.ndim else v + 0.5j for k, v in initial_params(0).items()}
  mine = run_adamx(getattr(adamx, name)(**kwargs), grads, params)
  theirs = run_optax(peer(**kwargs), grads, params)
  assert np.iscomplexobj(mine)
  assert relative_difference(mine, theirs) <= TOLERANCE["peer"]


@pytest.mark.parametrize(("opt", "owner"), [
    (adamx.adopt(1e-2), "clip_by_schedule"),
    (adamx.sophia(1e-2, hessian_diagonal_fn=adamx.square()), "max_eps"),
    (adamx.sophia(1e-2, clip_threshold=None, hessian_diagonal_fn=adamx.square()), "max_eps"),
])
def test_complex_parameters_are_refused_where_there_is_no_order(opt, owner):
  z = jnp.asarray([1 + 1j, -2j])
  with pytest.raises(TypeError, match=f"{owner}: complex"):
    opt.update(z, opt.init(z), z)


def test_madgrad_descends_on_complex_parameters_where_optax_fails():
  target = jnp.asarray([1 + 2j, -3 + 0.5j])
  loss = lambda z: jnp.sum(jnp.abs(z - target) ** 2)  # noqa: E731
  opt, z = adamx.madgrad(0.05), jnp.zeros(2, jnp.complex128)
  state = opt.init(z)
  step = jax.jit(lambda z, s: opt.update(jnp.conj(jax.grad(loss)(z)), s, z))
  for _ in range(300):
    updates, state = step(z, state)
    z = optax.apply_updates(z, updates)
  assert float(loss(z)) < 1e-2 * float(loss(jnp.zeros(2, jnp.complex128)))
  with jax.numpy_dtype_promotion("standard"), pytest.raises(TypeError, match="cbrt"):
    contrib.madgrad(0.05).update(target, contrib.madgrad(0.05).init(target), target)


# --- Low precision ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_delayed_statistics_are_stored_in_float32_so_float16_acprop_stays_finite(dtype):
  """ACProp divides by the *stored* s of the previous step: in float16 a small s
  would be flushed to 0 and the next step be g / eps (inf)."""
  opt = adamx.acprop(0.02, eps=1e-8)
  params = jnp.asarray(np.linspace(-1, 1, 4), dtype)
  assert tree_get(opt.init(params), "nu").dtype == jnp.float32
  state = opt.init(params)
  for scale_ in [0.0, 0.0, 1e-7, 1e-4, 1e-4, 0.0, 1.0, 3e-2]:
    updates, state = opt.update(jnp.full(4, scale_, dtype), state, params)
    assert updates.dtype == dtype and bool(jnp.all(jnp.isfinite(updates)))
    params = optax.apply_updates(params, updates)
  assert tree_get(state, "nu").dtype == jnp.float32


# --- Primitives -------------------------------------------------------------------------------


def outputs(t, inputs, params=None):
  state, outs = t.init(inputs[0] if params is None else params), []
  for u in inputs:
    out, state = t.update(u, state, params)
    outs.append(np.asarray(out))
  return outs, state


def test_additive_moment_moves_by_a_signed_fraction_of_the_square():
  v0, b = 0.5, 0.9
  u = jnp.asarray([0.1, 2.0, 0.5])
  out, state = outputs(adamx.additive_moment(b, v0), [u])
  np.testing.assert_allclose(out[0], [0.5 - 0.1 * 0.1, 0.5 + 0.1 * 2.0, 0.5], rtol=1e-15)
  assert state.nu is not None


def test_ema_deviation_centres_on_the_new_or_the_previous_mean():
  u = [jnp.asarray([2.0]), jnp.asarray([4.0])]
  current, _ = outputs(adamx.ema_deviation(0.5), u)  # m: 1, 2.5
  previous, _ = outputs(adamx.ema_deviation(0.5, previous=True), u)  # m before: 0, 1
  np.testing.assert_allclose(np.concatenate(current), [1.0, 1.5])
  np.testing.assert_allclose(np.concatenate(previous), [2.0, 3.0])


def test_ema_plus_eps_accumulates_eps():
  out, _ = outputs(adamx.ema_plus_eps(0.5, 1e-3), [jnp.zeros(1)] * 3)
  np.testing.assert_allclose(np.concatenate(out), [1e-3, 1.5e-3, 1.75e-3], rtol=1e-12)


def test_delayed_ema_emits_the_previous_statistic():
  u = [jnp.asarray([4.0]), jnp.asarray([2.0]), jnp.asarray([8.0])]
  plain, state = outputs(adamx.delayed_ema(0.5), u)
  np.testing.assert_allclose(np.concatenate(plain), [np.inf, 2.0, 2.0])  # s: 2, 2, 5
  np.testing.assert_allclose(state.nu, [5.0])
  first, _ = outputs(adamx.delayed_ema(0.5, from_first=True, first=0.0), u)
  np.testing.assert_allclose(np.concatenate(first), [0.0, 4.0, 3.0])  # s: 4, 3, 5.5
  corrected, _ = outputs(adamx.delayed_ema(0.5, 0.25, bias_correction=True, first=1.0), u)
  # s: 2.25, 2.375; corrected by 1 - 0.5 and 1 - 0.25
  np.testing.assert_allclose(np.concatenate(corrected), [1.0, 4.5, 2.375 / 0.75])


def counting_estimator():
  """A Hessian estimate ``u * scale`` (``scale`` an extra argument) whose state counts its calls."""

  def update(updates, state, params=None, *, scale):
    return jax.tree.map(lambda u: u * scale, updates), state + 1

  return optax.GradientTransformationExtraArgs(lambda params: jnp.zeros([], jnp.int32), update)


def test_periodic_ema_calls_its_estimator_only_on_refresh_steps_with_the_extra_arguments():
  t = adamx.periodic_ema(0.5, 3, counting_estimator(), estimator_name="calls")
  state, outs = t.init(jnp.zeros(1)), []
  for k in range(7):
    out, state = t.update(jnp.asarray([2.0]), state, jnp.zeros(1), scale=10.0)
    outs.append(float(out[0]))
  assert int(state.calls) == 3  # counts 0, 3, 6
  assert outs == [0.0, 10.0, 10.0, 10.0, 15.0, 15.0, 15.0]
  current = adamx.periodic_ema(0.5, 3, counting_estimator(), delayed=False)
  assert float(current.update(jnp.ones(1), current.init(jnp.zeros(1)), None, scale=4.0)[0][0]) == 2.0


def test_periodic_ema_refuses_a_non_positive_interval():
  with pytest.raises(adamx.InvalidHyperparameter, match="update_interval=0"):
    adamx.periodic_ema(0.5, 0, adamx.square())


def test_max_eps_cube_root_and_clip_by_schedule():
  np.testing.assert_array_equal(outputs(adamx.max_eps(0.5), [jnp.asarray([0.1, 2.0])])[0][0],
                                [0.5, 2.0])
  np.testing.assert_allclose(outputs(adamx.cube_root(), [jnp.asarray([8.0, 27.0])])[0][0],
                             [2.0, 3.0])
  clipped, _ = outputs(adamx.clip_by_schedule(lambda c: c**0.25), [jnp.asarray([5.0, -5.0])] * 3)
  np.testing.assert_allclose(np.stack(clipped), [[0, 0], [1, -1], [2**0.25, -(2**0.25)]])
  with pytest.raises(TypeError, match="cube_root: complex"):
    outputs(adamx.cube_root(), [jnp.asarray([1j])])


def test_scale_by_sqrt_step_and_dual_average():
  weights, _ = outputs(adamx.scale_by_sqrt_step(lambda c: 0.1 * (c + 1), 0.01),
                       [jnp.ones(1)] * 3)
  np.testing.assert_allclose(np.concatenate(weights),
                             [(0.1 * k + 0.01) * np.sqrt(k) for k in (1, 2, 3)], rtol=1e-14)
  x0, x = jnp.asarray([1.0]), jnp.asarray([3.0])
  t = adamx.dual_average(0.75)
  out, state = t.update(jnp.asarray([0.5]), t.init(x0), x)
  np.testing.assert_allclose(out, [0.75 * 3.0 + 0.25 * (1.0 - 0.5) - 3.0])
  np.testing.assert_array_equal(state.x0, x0)
  with pytest.raises(ValueError, match="dual_average needs the parameters"):
    t.update(x, t.init(x0))


def test_recipes_print_their_parts():
  shown = {
      "adabelief": "ema_plus_eps", "yogi": "additive_moment", "adamaxw": "infinity_moment",
      "acprop": "delayed_ema", "adopt": "clip_by_schedule", "madgrad": "cube_root",
      "sophia": "periodic_ema",
  }
  for name, part in shown.items():
    kwargs = dict(learning_rate=0.1)
    text = repr(getattr(adamx, name)(**with_estimator(name, kwargs, adamx.square())))
    assert text.startswith(f"{name}(") and part in text, text
