"""Adafactor, SM3, Rprop and torch's Adafactor, Rprop and ASGD against their
peers (Optax, torch.optim, float64 and complex128) and the papers' loops.

Besides the standard tree (a (3, 4) matrix, a vector, a scalar), trees with a
larger matrix and a 3-D tensor exercise the factoring over two chosen axes.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from optax.tree_utils import tree_get
import pytest
import torch

import adamx
from adamx._methods.factored import adafactor, factored_rms, rprop, sm3
from adamx._primitives.cover import cover_accumulate
from tests.peers import TORCH_FACTORED_CASES
from adamx._primitives.factored import factored_ema, power_decay
from adamx._primitives.layerwise import clip_block_rms, scale_by_param_block_rms
from adamx._primitives.scale import add_decayed_weights_at_rate
from adamx._primitives.steps_adaptation import (
    average_iterates, scale_by_inverse_power_rate, sign_agreement_step,
)
from adamx.compat import torch as T
from tests import reference_factored as reference
from tests.trajectories import SHAPES, TOLERANCE, relative_difference


TENSORS = {"w": (3, 4), "m": (6, 5), "t": (2, 5, 3), "b": (4,), "s": ()}
NO_SCALAR = {"w": (3, 4), "m": (6, 5), "t": (2, 5, 3), "b": (4,)}  # optax.sm3 fails on 0-d
SHAPE_SETS = {"standard": SHAPES, "tensors": TENSORS, "no_scalar": NO_SCALAR}


def sequence(seed, shapes, steps=200, *, dense=False, complex_=False, scale=1.0):
  """tests/trajectories.py's hard sequence for any shapes: scales 1e-3..1e3,
  sparse exact zeros and whole all-zero steps (unless ``dense``)."""
  rng = np.random.default_rng(seed)

  def draw(shape):
    return rng.normal(size=shape) * 10.0 ** rng.uniform(-3, 3, size=shape)

  out = []
  for step in range(steps):
    grads = {}
    for name, shape in shapes.items():
      g = draw(shape) + (1j * draw(shape) if complex_ else 0)
      if not dense:
        g = np.where(rng.uniform(size=shape) < 0.15, 0.0, g)
        if step % 37 == 5:
          g = np.zeros_like(g)
      grads[name] = scale * g
    out.append(grads)
  return out


def start(seed, shapes, *, complex_=False):
  rng = np.random.default_rng(1000 + seed)
  return {k: rng.normal(size=s) + (1j * rng.normal(size=s) if complex_ else 0)
          for k, s in shapes.items()}


def trajectory(opt, grads, params, *, standard=False, field=None):
  """Parameters after each step (steps x entries, keys in order), jitted scan;
  with ``field``, that state statistic after each step instead."""
  keys = list(params)
  stacked = {k: jnp.asarray(np.stack([g[k] for g in grads])) for k in keys}

  def step(carry, g):
    p, state = carry
    updates, state = opt.update(g, state, p)
    p = optax.apply_updates(p, updates)
    return (p, state), (p if field is None else tree_get(state, field))

  def scan(p0):
    return jax.lax.scan(step, (p0, opt.init(p0)), stacked)[1]

  p0 = {k: jnp.asarray(v) for k, v in params.items()}
  if standard:
    with jax.numpy_dtype_promotion("standard"):
      path = jax.jit(scan)(p0)
  else:
    path = jax.jit(scan)(p0)
  return np.concatenate([np.asarray(path[k]).reshape(len(grads), -1) for k in keys], axis=1)


def torch_trajectory(make, grads, params, *, lr_at=None, field=None):
  """The same under a torch.optim optimizer in float64 (complex128 for complex
  parameters); with ``field``, that per-parameter state entry after each step."""
  previous = torch.get_default_dtype()
  torch.set_default_dtype(torch.float64)
  try:
    keys = list(params)
    tensors = {k: torch.tensor(np.asarray(v), requires_grad=True) for k, v in params.items()}
    opt = make([tensors[k] for k in keys])
    path = []
    for count, g in enumerate(grads):
      if lr_at is not None:
        for group in opt.param_groups:
          group["lr"] = lr_at(count)
      for k in keys:
        tensors[k].grad = torch.tensor(np.asarray(g[k]))
      opt.step()
      values = [tensors[k] if field is None else opt.state[tensors[k]][field] for k in keys]
      path.append(np.concatenate([v.detach().numpy().reshape(-1) for v in values]))
    return np.stack(path)
  finally:
    torch.set_default_dtype(previous)


def difference(a, b):
  """relative_difference for real or complex trajectories."""
  scale = np.maximum(np.abs(b).max(axis=1), np.finfo(np.float64).tiny)
  return float((np.abs(a - b).max(axis=1) / scale).max())


# ---------------------------------------------------------------- Optax peers

# (name, shapes, kwargs): the same arguments to adamx.<name> and optax.<name>.
OPTAX_CASES = [
    ("adafactor", "standard", dict(learning_rate=1e-2)),  # nothing factored at 128
    ("adafactor", "tensors", dict(learning_rate=1e-2, min_dim_size_to_factor=2)),
    ("adafactor", "tensors", dict(learning_rate=optax.cosine_decay_schedule(0.05, 200),
                                  min_dim_size_to_factor=3, decay_rate=0.6, decay_offset=-5,
                                  clipping_threshold=None, eps=1e-20,
                                  multiply_by_parameter_scale=False, weight_decay_rate=1e-3,
                                  weight_decay_mask={"w": True, "m": False, "t": True,
                                                     "b": False, "s": True})),
    ("adafactor", "tensors", dict(learning_rate=3e-2, min_dim_size_to_factor=4,
                                  clipping_threshold=2.0, weight_decay_rate=1e-2,
                                  momentum=jnp.asarray(0.9, jnp.float64))),
    ("adafactor", "tensors", dict(learning_rate=3e-2, min_dim_size_to_factor=2, momentum=0.8,
                                  dtype_momentum=jnp.float64, factored=False)),
    ("adafactor", "standard", dict(min_dim_size_to_factor=3)),  # no rate: steps of RMS(w)
    ("sm3", "no_scalar", dict(learning_rate=1e-2)),
    ("sm3", "no_scalar", dict(learning_rate=0.1, momentum=0.5)),
    ("sm3", "no_scalar", dict(learning_rate=3e-2, momentum=0.0)),
    ("rprop", "standard", dict(learning_rate=1e-2, one_step_late=True)),
    ("rprop", "tensors", dict(learning_rate=0.1, eta_minus=0.3, eta_plus=1.5,
                              min_step_size=1e-3, max_step_size=0.05, one_step_late=True)),
    # a step size above the bound is kept until the first sign comparison (Optax, the paper)
    ("rprop", "standard", dict(learning_rate=80.0, max_step_size=50.0, one_step_late=True)),
]
ADAMX_ONLY = {"one_step_late"}
MINE = {"adafactor": adafactor, "sm3": sm3, "rprop": rprop}


def optax_difference(name, shapes, kwargs, seed=0):
  grads, params = sequence(seed, SHAPE_SETS[shapes]), start(seed, SHAPE_SETS[shapes])
  mine = trajectory(MINE[name](**kwargs), grads, params)
  theirs = trajectory(getattr(optax, name)(**{k: v for k, v in kwargs.items()
                                              if k not in ADAMX_ONLY}),
                      grads, params, standard=True)
  return relative_difference(mine, theirs)


@pytest.mark.parametrize(("name", "shapes", "kwargs"), OPTAX_CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(OPTAX_CASES)])
def test_matches_optax(name, shapes, kwargs):
  assert optax_difference(name, shapes, kwargs) <= TOLERANCE["peer"]


def test_adafactor_complex128_is_optax_s():
  shapes = {"w": (3, 4), "b": (4,)}
  grads = sequence(4, shapes, 120, complex_=True)
  params = start(4, shapes, complex_=True)
  args = dict(learning_rate=1e-2, min_dim_size_to_factor=2, momentum=jnp.asarray(0.9, jnp.float64))
  mine = trajectory(adafactor(**args), grads, params)
  theirs = trajectory(optax.adafactor(**args), grads, params, standard=True)
  assert mine.dtype == np.complex128
  assert difference(mine, theirs) <= TOLERANCE["peer"]


def test_adafactor_momentum_as_a_python_float_is_optax_s_to_float32_rounding():
  """With momentum stored in float32 (Optax's default dtype_momentum) under
  x64, Optax multiplies a Python-float decay by the float32 EMA in float32
  (a weak-typed scalar keeps the array's dtype); adamx computes in the wider
  dtype of the update. The same decay as a float64 array (OPTAX_CASES) makes
  Optax compute in float64 too, and the two agree to rounding."""
  kwargs = dict(learning_rate=3e-2, min_dim_size_to_factor=2, momentum=0.9)
  gap = optax_difference("adafactor", "tensors", kwargs)
  assert 1e-10 < gap < 1e-5
  as_array = dict(kwargs, momentum=jnp.asarray(0.9, jnp.float64))
  assert optax_difference("adafactor", "tensors", as_array) <= TOLERANCE["peer"]


def test_adafactor_decay_in_float32_is_optax_s_and_in_float64_the_paper_s():
  """Optax casts the step to float32 before 1 - t^-0.8 (about 1e-8 relative
  on a float64 trajectory); decay_dtype=None computes it in the leaf's dtype."""
  grads, params = sequence(1, TENSORS), start(1, TENSORS)
  args = dict(learning_rate=1e-2, min_dim_size_to_factor=2)
  theirs = trajectory(optax.adafactor(**args), grads, params, standard=True)
  assert relative_difference(trajectory(adafactor(**args), grads, params), theirs) <= 1e-10
  wide = trajectory(adafactor(**args, decay_dtype=None), grads, params)
  assert 1e-10 < relative_difference(wide, theirs) < 1e-6
  assert float(power_decay(2.0, 0.8, 0.0)) == 1 - 3.0**-0.8  # count 2: t = 3


def test_rprop_takes_the_current_step_where_optax_takes_the_previous():
  """optax.scale_by_rprop (0.2.8) emits the previous step's update: its first
  update is 0. adamx.rprop takes the current step, as the paper and torch."""
  g = {"x": jnp.asarray([3.0, -2.0, 0.0])}
  mine = rprop(0.1).update(g, rprop(0.1).init(g), g)[0]["x"]
  late = rprop(0.1, one_step_late=True)
  assert np.array_equal(mine, [-0.1, 0.1, 0.0])
  assert np.array_equal(late.update(g, late.init(g), g)[0]["x"], [0.0, 0.0, 0.0])
  with jax.numpy_dtype_promotion("standard"):
    optax_first = optax.rprop(0.1).update(g, optax.rprop(0.1).init(g), g)[0]["x"]
  assert np.array_equal(np.abs(optax_first), [0.0, 0.0, 0.0])
  grads, params = sequence(2, SHAPES), start(2, SHAPES)
  current = trajectory(rprop(1e-2), grads, params)
  with_torch = torch_trajectory(lambda ps: torch.optim.Rprop(ps, lr=1e-2), grads, params)
  assert relative_difference(current, with_torch) <= TOLERANCE["peer"]
  lagged = trajectory(optax.rprop(1e-2), grads, params, standard=True)
  assert relative_difference(current, lagged) > 1e-3


def test_sm3_on_a_scalar_is_its_own_cover_where_optax_fails():
  """optax.sm3 indexes a per-axis list that a 0-d parameter does not have;
  adamx keeps the scalar's sum (AdaGrad on one coordinate)."""
  s = {"s": jnp.asarray(2.0)}
  with pytest.raises(IndexError), jax.numpy_dtype_promotion("standard"):
    optax.sm3(0.1).update(s, optax.sm3(0.1).init(s), s)
  opt = sm3(0.1, momentum=0.0, eps=0.0)
  updates, state = opt.update(s, opt.init(s), s)
  assert float(updates["s"]) == pytest.approx(-0.1)  # -lr g / sqrt(g^2)
  assert float(state.mu["s"][0]) == 4.0


# ------------------------------------------------------------ torch.optim peers

def torch_difference(name, shapes, kwargs, lr_at, *, seed=0, field=None, complex_=False,
                     scale=1.0, **mine):
  shapes = SHAPE_SETS[shapes] if isinstance(shapes, str) else shapes
  grads = sequence(seed, shapes, complex_=complex_, scale=scale)
  params = start(seed, shapes, complex_=complex_)
  ours = dict(kwargs, lr=lr_at) if lr_at is not None else kwargs
  a = trajectory(getattr(T, name)(**ours, **mine), grads, params, field=field)
  theirs = dict(kwargs, lr=float(lr_at(0))) if lr_at is not None else kwargs
  torch_lr = (lambda count: float(lr_at(count))) if lr_at is not None else None
  b = torch_trajectory(lambda ps: getattr(torch.optim, name)(ps, **theirs), grads, params,
                       lr_at=torch_lr, field=field)
  return difference(a, b)


@pytest.mark.parametrize(("name", "shapes", "kwargs", "lr_at"), TORCH_FACTORED_CASES,
                         ids=[f"{n}-{i}" for i, (n, *_) in enumerate(TORCH_FACTORED_CASES)])
def test_matches_torch(name, shapes, kwargs, lr_at):
  assert torch_difference(name, shapes, kwargs, lr_at) <= TOLERANCE["peer"]


def test_torch_adafactor_bounds_act_on_tiny_gradients():
  """Gradients of 1e-20: torch's row normaliser and V-hat bounds (machine
  epsilon and its square) are what decide the step, and they are reproduced."""
  kwargs = dict(lr=1e-2)
  assert torch_difference("Adafactor", "tensors", kwargs, None, scale=1e-20) <= TOLERANCE["peer"]
  shapes = {"w": (3, 4)}
  unbounded = trajectory(T.Adafactor(eps=(0.0, 1e-3)), sequence(0, shapes, scale=1e-20),
                         start(0, shapes))
  bounded = trajectory(T.Adafactor(), sequence(0, shapes, scale=1e-20), start(0, shapes))
  assert relative_difference(unbounded, bounded) > 1e-3


@pytest.mark.parametrize(("name", "kwargs"), [
    ("Rprop", dict(lr=0.05)),
    ("Rprop", dict(lr=0.1, etas=(0.4, 1.3), step_sizes=(1e-4, 1.0))),
    ("ASGD", dict(lr=0.01, lambd=0.05, t0=30, weight_decay=0.01)),
])
def test_complex128_matches_torch(name, kwargs):
  """torch views complex tensors as real pairs: Rprop has a step size per
  part (the imaginary ones start at 0, so at min_step_size), ASGD is linear."""
  shapes = {"w": (3, 4), "b": (4,)}
  assert torch_difference(name, shapes, kwargs, None, complex_=True) <= TOLERANCE["peer"]


@pytest.mark.parametrize(("name", "field", "shapes"), [
    ("ASGD", "ax", {"w": (3, 4), "b": (4,)}),
    ("Rprop", "step_size", {"w": (3, 4), "b": (4,)}),
    ("Adafactor", "row_var", {"w": (3, 4), "m": (6, 5)}),
    ("Adafactor", "col_var", {"w": (3, 4), "m": (6, 5)}),
    ("Adafactor", "variance", {"b": (4,), "s": ()}),
])
def test_state_is_torch_s_by_name(name, field, shapes):
  """The statistics torch keeps, read by name (torch keeps the reduced axis of
  row_var and col_var with size 1; adamx removes it, as Optax)."""
  kwargs = dict(lr=0.05, t0=10) if name == "ASGD" else dict(lr=0.05)
  grads, params = sequence(5, shapes, 30), start(5, shapes)
  mine = trajectory(getattr(T, name)(**kwargs), grads, params, field=field)
  torchs = torch_trajectory(lambda ps: getattr(torch.optim, name)(ps, **kwargs), grads,
                            params, field=field)
  assert relative_difference(mine, torchs) <= TOLERANCE["peer"]


@pytest.mark.parametrize(("name", "kwargs", "fields", "shapes"), [
    ("adafactor", dict(learning_rate=1e-2, min_dim_size_to_factor=2), ["v_row", "v_col", "v"],
     "tensors"),
    ("sm3", dict(learning_rate=1e-2), ["mu", "nu"], "no_scalar"),
    ("rprop", dict(learning_rate=1e-2), ["step_sizes", "prev_updates"], "tensors"),
])
def test_state_is_optax_s_by_name(name, kwargs, fields, shapes):
  """tree_get finds Optax's statistics, with Optax's shapes and values (the
  state of rprop is Optax's whether or not the update is one step late)."""
  shapes = SHAPE_SETS[shapes]
  grads, params = sequence(6, shapes, 7), start(6, shapes)

  def final(opt, standard=False):
    p = {k: jnp.asarray(v) for k, v in params.items()}
    with jax.numpy_dtype_promotion("standard" if standard else "strict"):
      state = opt.init(p)
      for g in grads:
        updates, state = opt.update({k: jnp.asarray(v) for k, v in g.items()}, state, p)
        p = optax.apply_updates(p, updates)
    return state

  mine = final(MINE[name](**kwargs))
  theirs = final(getattr(optax, name)(**kwargs), standard=True)
  for field in fields:
    got, want = tree_get(mine, field), tree_get(theirs, field)
    assert jax.tree.structure(got) == jax.tree.structure(want), field
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300),
                 got, want)


# -------------------------------------------------------------- papers' loops

def relative_step(count):
  """§8's rho_t = min(1e-2, 1/sqrt(t)), t = count + 1."""
  return jnp.minimum(1e-2, 1 / jnp.sqrt(jnp.asarray(count, jnp.float64) + 1))


def per_array(loop, grads, params):
  return np.concatenate([loop(np.stack([g[k] for g in grads]), params[k]) for k in params],
                        axis=1)


MATRICES = {"w": (3, 4), "m": (6, 5), "b": (4,), "s": ()}  # the paper factors matrices only

PAPER = {
    "adafactor (Shazeer & Stern, Alg. 4/5, §5, §8)": (
        MATRICES, False,
        adafactor(relative_step, min_dim_size_to_factor=1, decay_dtype=None),
        lambda g, x: reference.adafactor(g, x)),
    "adafactor, c = 0.6, d = 2": (
        MATRICES, False,
        adafactor(relative_step, min_dim_size_to_factor=1, decay_rate=0.6,
                  clipping_threshold=2.0, decay_dtype=None),
        lambda g, x: reference.adafactor(g, x, c=0.6, d=2.0)),
    # torch adds no eps1 to g^2 (its bounds never act on these gradients)
    "torch Adafactor (Shazeer & Stern)": (
        MATRICES, True, T.Adafactor(),
        lambda g, x: reference.adafactor(g, x)),
    "sm3 (Anil et al., SM3-II)": (
        TENSORS, False, sm3(0.1, momentum=0.0, eps=0.0),
        lambda g, x: reference.sm3(g, x, 0.1)),
    "sm3, dense gradients": (
        TENSORS, True, sm3(1e-2, momentum=0.0, eps=0.0),
        lambda g, x: reference.sm3(g, x, 1e-2)),
    "rprop (iRprop-, Igel & Hüsken)": (
        SHAPES, False, rprop(1e-2),
        lambda g, x: reference.irprop_minus(g, x, 1e-2, 0.5, 1.2, 1e-6, 50.0)),
    "rprop, other factors and bounds": (
        TENSORS, False, rprop(0.1, 0.3, 1.5, 1e-3, 0.05),
        lambda g, x: reference.irprop_minus(g, x, 0.1, 0.3, 1.5, 1e-3, 0.05)),
    "torch Rprop (iRprop-)": (
        SHAPES, False, T.Rprop(lr=0.05, etas=(0.4, 1.3)),
        lambda g, x: reference.irprop_minus(g, x, 0.05, 0.4, 1.3, 1e-6, 50.0)),
    "torch ASGD (Bottou, §5.3)": (
        SHAPES, False, T.ASGD(lr=0.05, lambd=0.1, alpha=0.75, t0=20),
        lambda g, x: reference.asgd(g, x, 0.05, 0.1, 0.75, 20)[0]),
}


@pytest.mark.parametrize("case", list(PAPER))
def test_matches_paper(case):
  shapes, dense, opt, loop = PAPER[case]
  grads, params = sequence(7, shapes, dense=dense), start(7, shapes)
  assert relative_difference(trajectory(opt, grads, params),
                             per_array(loop, grads, params)) <= TOLERANCE["reference"]


def test_asgd_average_is_the_paper_s_and_kept_in_the_state():
  """The averaged iterate (what Polyak & Juditsky's guarantee is about) is
  in the state as ``ax``; the parameters themselves are not averaged."""
  grads, params = sequence(8, SHAPES), start(8, SHAPES)
  opt = T.ASGD(lr=0.05, lambd=0.1, alpha=0.75, t0=20)
  averages = trajectory(opt, grads, params, field="ax")
  want = per_array(lambda g, x: reference.asgd(g, x, 0.05, 0.1, 0.75, 20)[1], grads, params)
  assert relative_difference(averages, want) <= TOLERANCE["reference"]
  assert relative_difference(trajectory(opt, grads, params), averages) > 1e-3


# ------------------------------------------------------------- the primitives

def test_factored_ema_keeps_rows_and_columns_of_the_two_largest_or_last_axes():
  p = {"t": jnp.zeros((2, 5, 3))}
  largest = factored_ema(0.5, min_dim_size_to_factor=2).init(p)
  last = factored_ema(0.5, min_dim_size_to_factor=2, axes="last").init(p)
  assert largest.v_row["t"].shape == (2, 3) and largest.v_col["t"].shape == (2, 5)
  assert last.v_row["t"].shape == (2, 5) and last.v_col["t"].shape == (2, 3)
  assert largest.v["t"].shape == (1,)
  unfactored = factored_ema(0.5).init(p)  # 128: not factored
  assert unfactored.v["t"].shape == (2, 5, 3) and unfactored.v_row["t"].shape == (1,)


def test_factored_ema_of_a_rank_one_input_is_exact():
  """The reconstruction r c^T / mean(r) is exact for a rank-one input."""
  u = jnp.outer(jnp.asarray([1.0, 2.0, 3.0]), jnp.asarray([0.5, 4.0, 1.0, 2.0]))
  opt = factored_ema(0.0, min_dim_size_to_factor=2, floor=0.0)
  out, state = opt.update(u, opt.init(u))
  np.testing.assert_allclose(out, u, rtol=1e-15)
  np.testing.assert_allclose(state.v_row, u.mean(axis=1), rtol=1e-15)


def test_factored_ema_floor_defaults_to_the_statistics_machine_epsilon():
  u = jnp.zeros((2, 3), jnp.float32)
  opt = factored_ema(0.5, min_dim_size_to_factor=2)
  out, _ = opt.update(u, opt.init(u))
  eps = float(jnp.finfo(jnp.float32).eps)
  np.testing.assert_allclose(out, np.full((2, 3), eps**2), rtol=1e-6)
  opt0 = factored_ema(0.5, min_dim_size_to_factor=2, floor=0.0)
  assert np.isnan(np.asarray(opt0.update(u, opt0.init(u))[0])).all()  # 0/0, as Optax


def test_cover_accumulate_is_sm3_s_min_of_max():
  u = jnp.asarray([[1.0, 4.0], [9.0, 0.0]])
  opt = cover_accumulate()
  out, state = opt.update(u, opt.init(u))
  np.testing.assert_array_equal(out, u)
  np.testing.assert_array_equal(state.mu[0], [4.0, 9.0])  # row maxima
  np.testing.assert_array_equal(state.mu[1], [9.0, 4.0])  # column maxima
  out, state = opt.update(jnp.ones((2, 2)), state)
  np.testing.assert_array_equal(out, [[5.0, 5.0], [10.0, 5.0]])  # 1 + min(row, column)


def test_block_rms_scalings():
  u = jnp.asarray([3.0, -4.0])  # RMS = sqrt(12.5)
  clipped, _ = clip_block_rms(1.0).update(u, clip_block_rms(1.0).init(u))
  np.testing.assert_allclose(np.sqrt(np.mean(np.asarray(clipped) ** 2)), 1.0)
  kept, _ = clip_block_rms(10.0).update(u, clip_block_rms(10.0).init(u))
  np.testing.assert_array_equal(kept, u)
  by_params = scale_by_param_block_rms()
  w = jnp.asarray([1e-5, 0.0])
  scaled, _ = by_params.update(u, by_params.init(w), w)
  np.testing.assert_allclose(scaled, 1e-3 * u)  # the minimum scale
  w = jnp.asarray([2.0, -2.0])
  scaled, _ = by_params.update(u, by_params.init(w), w)
  np.testing.assert_allclose(scaled, 2.0 * u)
  with jax.numpy_dtype_promotion("standard"):
    theirs = optax.clip_by_block_rms(1.0).update(u, optax.EmptyState())[0]
    by_optax = optax.scale_by_param_block_rms().update(u, optax.EmptyState(), w)[0]
  np.testing.assert_allclose(clipped, theirs, rtol=1e-15)
  np.testing.assert_allclose(scaled, by_optax, rtol=1e-15)



def test_sign_agreement_step_rules():
  opt = sign_agreement_step(0.1, 0.5, 2.0, 0.01, 0.3)
  state = opt.init(jnp.zeros(3))
  out, state = opt.update(jnp.asarray([1.0, 1.0, 0.0]), state)
  np.testing.assert_allclose(out, [0.1, 0.1, 0.0])  # no history: the initial step
  out, state = opt.update(jnp.asarray([2.0, -1.0, 5.0]), state)
  np.testing.assert_allclose(out, [0.2, 0.0, 0.1])  # agree: grow; flip: no step
  np.testing.assert_allclose(state.step_sizes, [0.2, 0.05, 0.1])
  out, state = opt.update(jnp.asarray([3.0, -1.0, 5.0]), state)
  np.testing.assert_allclose(out, [0.3, -0.05, 0.2])  # capped at 0.3; a flip is forgotten


def test_inverse_power_rate_and_rate_decay_are_formed_in_the_leaf_dtype():
  opt = scale_by_inverse_power_rate(0.5, lambd=2.0, alpha=0.5)
  state = opt.init(jnp.zeros(1))
  rates = []
  for _ in range(3):
    out, state = opt.update(jnp.ones(1), state)
    rates.append(-float(out[0]))
    assert float(state.learning_rate) == rates[-1]
  np.testing.assert_allclose(rates, [0.5, 0.5 / 2**0.5, 0.5 / 3**0.5], rtol=1e-15)
  w = jnp.asarray([1.0, -2.0], jnp.float32)
  for lr, wd in ((0.7, 0.3), (0.1, 1e-4)):
    plain = add_decayed_weights_at_rate(lr, wd)
    arrays = add_decayed_weights_at_rate(jnp.float32(lr), jnp.float32(wd))
    a = plain.update(jnp.zeros(2, jnp.float32), plain.init(w), w)[0]
    b = arrays.update(jnp.zeros(2, jnp.float32), arrays.init(w), w)[0]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, np.float32(lr) * np.float32(wd) * np.asarray(w), rtol=1e-7)


def test_average_iterates_starts_after_t0():
  opt = average_iterates(t0=1.0)
  w = jnp.asarray([0.0])
  state = opt.init(w)
  for step in (1.0, 1.0, 1.0, 1.0):  # iterates 1, 2, 3, 4
    u = jnp.asarray([step])
    out, state = opt.update(u, state, w)
    assert out is u or np.array_equal(out, u)
    w = w + u
  # mu = 1, 1, 1, 1/2: the average is w until step t0 + 2 = 3, then (3 + 4) / 2
  np.testing.assert_allclose(state.ax, [3.5])


def test_factored_rms_shape_mismatch_names_the_leaf():
  opt = factored_rms(0.5, min_dim_size_to_factor=2)
  state = opt.init({"w": jnp.zeros((3, 4))})
  with pytest.raises(ValueError, match=r"factored_ema: update leaf \['w'\] has shape \(3, 5\)"):
    opt.update({"w": jnp.zeros((3, 5))}, state)


def test_torch_adafactor_eps_must_be_a_pair():
  with pytest.raises(adamx.InvalidHyperparameter, match="eps=0.001 is not a pair"):
    T.Adafactor(eps=1e-3)
  with pytest.raises(adamx.InvalidHyperparameter, match=r"eps\[1\]=-1"):
    T.Adafactor(eps=(None, -1))
  with pytest.raises(adamx.InvalidHyperparameter, match="axes='first'"):
    factored_ema(0.5, axes="first")


@pytest.mark.parametrize(("build", "match"), [
    (lambda: adafactor(0.1, weight_decay_rate=-1e-3), "adafactor: weight_decay_rate=-0.001"),
    (lambda: adafactor(0.1, decay_rate=-0.8), "adafactor: decay_rate=-0.8"),
    (lambda: rprop(0.1, eta_plus=0.9), "rprop: eta_plus=0.9"),
    (lambda: T.Rprop(etas=(0.5,)), "etas=.* is not a pair"),
    (lambda: T.Rprop(step_sizes=(-1.0, 50.0)), "min_step_size=-1.0"),
    (lambda: T.ASGD(lambd=-1e-4), "torch.optim.ASGD: lambd=-0.0001"),
    (lambda: T.Adafactor(beta2_decay=0.8), "torch.optim.Adafactor: beta2_decay=0.8"),
    (lambda: T.Adafactor(d=0.5), "torch.optim.Adafactor: d=0.5"),
])
def test_bad_hyperparameters_are_refused_when_built(build, match):
  with pytest.raises(adamx.InvalidHyperparameter, match=match):
    build()


def test_recipes_are_arrangements_of_the_same_primitives():
  optax_style = repr(adafactor(1e-2))
  torch_style = repr(T.Adafactor())
  for part in ("factored_ema", "clip_block_rms", "scale_by_param_block_rms", "root()"):
    assert part in optax_style and part in torch_style
  assert "add_eps(eps=1e-30)" in optax_style and "add_eps" not in torch_style
  assert "axes='last'" in torch_style
