"""MARS, Adam-mini, LaProp and cautious masking: against float64 loops written
from their papers (tests/reference_beyond.py), and the properties the papers claim."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamx
from adamx._combinators.cautious import cautious
from adamx._core.hyperparams import InvalidHyperparameter
from adamx._methods.beyond import adam_mini, laprop, mars
from adamx._primitives.blocks import block_mean_ema, gradient_correction
from adamx._primitives.layerwise import clip_by_norm
from tests import reference_beyond as ref
from tests.trajectories import (
    SHAPES, TOLERANCE, gradient_sequence, initial_params, relative_difference, run_adamx,
)


SEQUENCE = gradient_sequence(11)  # scales 1e-3..1e3, exact zeros, all-zero steps
PARAMS = initial_params(3)


def reference_path(loop, sequence=SEQUENCE, params=PARAMS, **per_leaf):
  """The reference loop run on each leaf, flattened as ``run_adamx`` flattens."""
  columns = []
  for k in SHAPES:
    extra = {name: value[k] for name, value in per_leaf.items()}
    path = loop(np.stack([g[k] for g in sequence]), np.asarray(params[k], np.float64), **extra)
    columns.append(path.reshape(len(sequence), -1))
  return np.concatenate(columns, axis=1)


def lion_direction(b1, b2):
  """Lion's direction sign(b1 m_{t-1} + (1-b1) g_t), m_t = b2 m_{t-1} + (1-b2) g_t, from primitives."""
  interpolation = adamx.linear((1 - b1, adamx.identity()),
                               (b1, adamx.chain(adamx.scale_by_ema(b2), adamx.lag())))
  return adamx.chain(interpolation, adamx.scale_by_sign())


def then_descend(direction, learning_rate, weight_decay=0.0):
  return adamx.chain(direction, adamx.add_decayed_weights(weight_decay),
                     adamx.scale_by_learning_rate(learning_rate))


def loop(function, **kwargs):
  return lambda grads, x, **leaf: function(grads, x, **kwargs, **leaf)


# (adamx transformation, reference loop, per-leaf arguments of the loop)
CASES = {
    "mars adamw, authors' defaults, g_0 = 0": (
        mars(3e-3, weight_decay=0.1),
        loop(ref.mars, lr=3e-3, b1=0.95, b2=0.99, eps=1e-8, gamma=0.025, wd=0.1), {}),
    "mars adamw, gamma 0.5, g_0 = g_1": (
        mars(1e-3, 0.9, 0.999, 1e-6, gamma=0.5, correct_first_step=False),
        loop(ref.mars, lr=1e-3, b1=0.9, b2=0.999, eps=1e-6, gamma=0.5, zero_g0=False), {}),
    "mars lion, g_0 = 0": (
        mars(1e-3, gamma=0.025, weight_decay=0.1, variant="lion"),
        loop(ref.mars, lr=1e-3, b1=0.95, b2=0.99, eps=1e-8, gamma=0.025, wd=0.1,
             variant="lion"), {}),
    "mars lion, gamma 1, g_0 = g_1": (
        mars(3e-4, b1=0.9, gamma=1.0, variant="lion", correct_first_step=False),
        loop(ref.mars, lr=3e-4, b1=0.9, b2=0.99, eps=1e-8, gamma=1.0, variant="lion",
             zero_g0=False), {}),
    "adam_mini, one block per leaf": (
        adam_mini(1e-2, weight_decay=0.1),
        loop(ref.adam_mini, lr=1e-2, b1=0.9, b2=0.999, eps=1e-8, wd=0.1), {}),
    "adam_mini, one block per row of w": (
        adam_mini(3e-3, 0.8, 0.95, 1e-6, block_axes=lambda path, p: (0,) if np.ndim(p) == 2 else ()),
        loop(ref.adam_mini, lr=3e-3, b1=0.8, b2=0.95, eps=1e-6),
        {"kept_axes": {"w": (0,), "b": (), "s": ()}}),
    "adam_mini, one block per column of w": (
        adam_mini(3e-3, 0.9, 0.99, 1e-8, block_axes=lambda path, p: (-1,) if np.ndim(p) == 2 else ()),
        loop(ref.adam_mini, lr=3e-3, b1=0.9, b2=0.99, eps=1e-8),
        {"kept_axes": {"w": (1,), "b": (), "s": ()}}),
    "laprop, authors' defaults": (
        laprop(1e-3),
        loop(ref.laprop, lr=1e-3, b1=0.9, b2=0.999, eps=1e-15), {}),
    "laprop, mu > sqrt(nu), decay": (
        laprop(3e-3, 0.99, 0.9, 1e-8, weight_decay=0.01),
        loop(ref.laprop, lr=3e-3, b1=0.99, b2=0.9, eps=1e-8, wd=0.01), {}),
    "cautious adamw, d/(nnz+1)": (
        then_descend(cautious(adamx.scale_by_adam(0.9, 0.999, 1e-8)), 1e-2, 0.01),
        loop(ref.cautious_adamw, lr=1e-2, b1=0.9, b2=0.999, eps=1e-8, wd=0.01), {}),
    "cautious adamw, 1/(mean + eps)": (
        then_descend(cautious(adamx.scale_by_adam(0.8, 0.99, 1e-6), eps=1e-3), 3e-3),
        loop(ref.cautious_adamw, lr=3e-3, b1=0.8, b2=0.99, eps=1e-6, xi=1e-3), {}),
    "cautious sgd momentum": (
        then_descend(cautious(adamx.momentum(0.9)), 1e-4),
        loop(ref.cautious_sgd_momentum, lr=1e-4, mu=0.9), {}),
    "cautious sgd momentum, 1/(mean + eps)": (
        then_descend(cautious(adamx.momentum(0.5), eps=0.1), 1e-4),
        loop(ref.cautious_sgd_momentum, lr=1e-4, mu=0.5, xi=0.1), {}),
    "cautious lion": (
        then_descend(cautious(lion_direction(0.9, 0.99)), 1e-3, 0.1),
        loop(ref.cautious_lion, lr=1e-3, b1=0.9, b2=0.99, wd=0.1), {}),
    "cautious lion, 1/(mean + eps)": (
        then_descend(cautious(lion_direction(0.95, 0.98), eps=1e-2), 3e-4),
        loop(ref.cautious_lion, lr=3e-4, b1=0.95, b2=0.98, xi=1e-2), {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_the_papers_algorithm(case):
  opt, reference_loop, per_leaf = CASES[case]
  ours = run_adamx(opt, SEQUENCE, PARAMS)
  theirs = reference_path(reference_loop, **per_leaf)
  assert np.all(np.isfinite(theirs))
  assert not np.allclose(theirs[-1], theirs[0]), "the parameters did not move"
  assert relative_difference(ours, theirs) <= TOLERANCE["reference"], case


# --- cautious: the paper's properties ------------------------------------------------

DIRECTIONS = {
    "adamw": lambda: cautious(adamx.scale_by_adam()),
    "sgd momentum": lambda: cautious(adamx.momentum(0.9)),
    "lion": lambda: cautious(lion_direction(0.9, 0.99)),
}
UNMASKED = {"adamw": adamx.scale_by_adam, "sgd momentum": lambda: adamx.momentum(0.9),
            "lion": lambda: lion_direction(0.9, 0.99)}


def steps_and_gradients(opt, sequence=SEQUENCE, params=PARAMS):
  """Each step's parameter change, beside the gradient it was computed from."""
  path = run_adamx(opt, sequence, params)
  start = np.concatenate([np.asarray(params[k]).reshape(-1) for k in SHAPES])
  moves = np.diff(np.vstack([start, path]), axis=0)
  grads = np.stack([np.concatenate([g[k].reshape(-1) for k in SHAPES]) for g in sequence])
  return moves, grads


@pytest.mark.parametrize("name", list(DIRECTIONS))
def test_cautious_never_moves_a_coordinate_up_its_gradient(name):
  moves, grads = steps_and_gradients(then_descend(DIRECTIONS[name](), 1e-3))
  assert np.all(moves * grads <= 0)
  assert np.any(moves * grads < 0) and np.any((moves == 0) & (grads != 0)), "mask never acted"
  # Control: the same direction without the mask does move coordinates uphill.
  plain, _ = steps_and_gradients(then_descend(UNMASKED[name](), 1e-3))
  assert np.any(plain * grads > 0)


@pytest.mark.parametrize("name", list(DIRECTIONS))
def test_cautious_keeps_agreeing_coordinates_rescaled_by_d_over_nnz_plus_one(name):
  g = {"w": jnp.asarray(np.random.default_rng(0).normal(size=(3, 4)))}
  g2 = jax.tree.map(lambda x: -x * jnp.linspace(0.01, 2.0, 12).reshape(3, 4), g)
  inner, masked = UNMASKED[name](), DIRECTIONS[name]()
  s_inner, s_masked = inner.init(g), masked.init(g)
  for grads in (g, g2):
    u, s_inner = inner.update(grads, s_inner, g)
    out, s_masked = masked.update(grads, s_masked, g)
  u, out, grad = np.asarray(u["w"]), np.asarray(out["w"]), np.asarray(g2["w"])
  agree = u * grad > 0
  assert 0 < agree.sum() < agree.size
  np.testing.assert_allclose(out[agree], u[agree] * agree.size / (agree.sum() + 1), rtol=1e-15)
  assert np.all(out[~agree] == 0)
  assert jax.tree.structure(s_masked) == jax.tree.structure(masked.init(g))


def test_cautious_refuses_a_recipe_that_already_descends():
  for full in (adamx.adamw(1e-3), adamx.sgd(1e-2, momentum=0.9),
               adamx.chain(adamx.scale_by_adam(), adamx.scale_by_learning_rate(1e-3))):
    with pytest.raises(ValueError, match="cautious: the inner transformation already contains"):
      cautious(full)
  cautious(adamx.scale_by_learning_rate(1e-3, flip_sign=False))  # an ascent-signed scaling is a direction


def test_cautious_refuses_complex_updates_naming_itself():
  opt = cautious(adamx.scale_by_adam())
  z = jnp.ones(3, jnp.complex64)
  with pytest.raises(TypeError, match="cautious: complex updates have no sign"):
    opt.update(z, opt.init(z), z)


def test_cautious_keeps_the_inner_state_and_wraps_optax():
  assert cautious(adamx.scale_by_adam()).init(PARAMS)._fields == ("count", "mu", "nu")
  with jax.numpy_dtype_promotion("standard"):  # Optax's own code
    ours = run_adamx(then_descend(cautious(optax.scale_by_adam()), 1e-2), SEQUENCE, PARAMS)
  theirs = reference_path(loop(ref.cautious_adamw, lr=1e-2, b1=0.9, b2=0.999, eps=1e-8))
  assert relative_difference(ours, theirs) <= TOLERANCE["reference"]


def test_cautious_rejects_a_negative_eps():
  with pytest.raises(InvalidHyperparameter, match="cautious: eps=-1.0"):
    cautious(adamx.scale_by_adam(), eps=-1.0)


# --- MARS ------------------------------------------------------------------------------

def test_clip_by_norm_caps_each_leaf_at_the_norm_and_keeps_its_direction():
  clip = clip_by_norm(1.0)
  for g in SEQUENCE[:40]:
    tree = jax.tree.map(jnp.asarray, g)
    out = clip.update(tree, clip.init(tree))[0]
    for k in SHAPES:
      norm = np.linalg.norm(g[k])
      got = np.asarray(out[k])
      if norm > 1:
        assert np.linalg.norm(got) == pytest.approx(1.0, rel=1e-15)
        np.testing.assert_allclose(got, g[k] / norm, rtol=1e-15)
      else:
        np.testing.assert_array_equal(got, g[k])


def test_mars_without_correction_is_adamw_or_lion_on_clipped_gradients():
  adamw = adamx.chain(clip_by_norm(1.0), adamx.adamw(1e-3, 0.95, 0.99, 1e-8, weight_decay=0.1))
  same = run_adamx(mars(1e-3, gamma=0.0, weight_decay=0.1), SEQUENCE, PARAMS)
  np.testing.assert_array_equal(same, run_adamx(adamw, SEQUENCE, PARAMS))
  lion_equal_betas = adamx.chain(clip_by_norm(1.0), lion_direction(0.9, 0.9),
                                 adamx.scale_by_learning_rate(1e-3))
  np.testing.assert_allclose(run_adamx(mars(1e-3, 0.9, gamma=0.0, variant="lion"), SEQUENCE, PARAMS),
                             run_adamx(lion_equal_betas, SEQUENCE, PARAMS), rtol=1e-14)
  corrected = run_adamx(mars(1e-3, weight_decay=0.1), SEQUENCE, PARAMS)
  assert not np.allclose(corrected, same), "the correction changed nothing"


def test_mars_first_step_correction_follows_g0():
  g = jnp.asarray([0.3, -0.1])
  k = 0.025 * 0.95 / 0.05
  for correct, factor in ((True, 1 + k), (False, 1.0)):
    opt = mars(1.0, correct_first_step=correct)
    _, state = opt.update(g, opt.init(g), g)
    np.testing.assert_allclose(state.mu, 0.05 * factor * np.asarray(g), rtol=1e-15)
    np.testing.assert_array_equal(state.last_grad, g)


def test_mars_state_and_variants():
  assert mars(1e-3).init(PARAMS)._fields == ("count", "last_grad", "mu", "nu", "learning_rate")
  assert mars(1e-3, variant="lion").init(PARAMS)._fields == ("count", "last_grad", "mu",
                                                           "learning_rate")
  with pytest.raises(InvalidHyperparameter, match="mars: variant='sgd'"):
    mars(1e-3, variant="sgd")


# --- Adam-mini -------------------------------------------------------------------------

def test_adam_mini_keeps_one_second_moment_per_block():
  per_leaf = adam_mini(1e-3).init(PARAMS)
  assert {k: v.shape for k, v in per_leaf.nu.items()} == {"w": (1, 1), "b": (1,), "s": ()}
  assert per_leaf.mu["w"].shape == (3, 4)
  per_row = adam_mini(1e-3, block_axes=lambda path, p: (0,) if np.ndim(p) == 2 else ()).init(PARAMS)
  assert per_row.nu["w"].shape == (3, 1)
  abstract = jax.tree.map(lambda p: jax.ShapeDtypeStruct(np.shape(p), jnp.float32), PARAMS)
  assert jax.eval_shape(adam_mini(1e-3).init, abstract).nu["w"].shape == (1, 1)


def test_adam_mini_gives_one_learning_rate_per_block():
  """Within a block every coordinate's step is its m_hat times one common factor."""
  rows = lambda path, p: (0,) if np.ndim(p) == 2 else ()
  opt = adam_mini(1e-2, block_axes=rows)
  params = jax.tree.map(jnp.asarray, PARAMS)
  state = opt.init(params)
  for g in SEQUENCE[:3]:
    updates, state = opt.update(jax.tree.map(jnp.asarray, g), state, params)
  m_hat = np.asarray(state.mu["w"]) / (1 - 0.9**3)
  factor = np.asarray(updates["w"]) / m_hat
  np.testing.assert_allclose(factor, np.broadcast_to(factor[:, :1], factor.shape), rtol=1e-13)
  assert len(np.unique(np.round(factor[:, 0], 12))) == 3


def test_adam_mini_with_one_block_per_coordinate_is_adamw():
  every_axis = lambda path, p: tuple(range(np.ndim(p)))
  mini = run_adamx(adam_mini(1e-2, weight_decay=0.1, block_axes=every_axis), SEQUENCE, PARAMS)
  adamw = run_adamx(adamx.adamw(1e-2, weight_decay=0.1), SEQUENCE, PARAMS)
  np.testing.assert_array_equal(mini, adamw)


def test_block_axes_are_checked_against_each_leaf():
  with pytest.raises(InvalidHyperparameter, match=r"block_axes \(0,\) for leaf \['s'\]"):
    adam_mini(1e-3, block_axes=(0,)).init(PARAMS)
  with pytest.raises(InvalidHyperparameter, match="repeats an axis"):
    block_mean_ema(0.9, block_axes=(0, -2)).init(jnp.zeros((2, 3)))
  with pytest.raises(InvalidHyperparameter, match="a tuple of ints or a callable"):
    block_mean_ema(0.9, block_axes=0)
  t = block_mean_ema(0.9, block_axes=(0,))
  with pytest.raises(ValueError, match="its blocks need a state of shape"):
    t.update(jnp.ones((3, 2)), t.init(jnp.ones((2, 3))))


def test_block_mean_ema_keeps_the_moment_dtype_and_emits_wide():
  t = block_mean_ema(0.999, dtype=jnp.bfloat16)
  u = jnp.full((2, 3), 1e-3, jnp.bfloat16)
  out, state = t.update(u, t.init(u))
  assert state[0].dtype == jnp.bfloat16 and out.dtype == jnp.float32
  # (1 - b) u in float32, from b rounded to float32 once (not to bfloat16, where 0.999 is 1.0).
  expected = (np.float32(1) - np.float32(0.999)) * np.float32(jnp.bfloat16(1e-3))
  np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-7)


# --- LaProp ----------------------------------------------------------------------------

def spike_then_small(steps=200):
  """One large gradient, then small ones: momentum outlives the second moment when mu^2 > nu."""
  return [{k: np.full(s, 1e3 if t == 0 else 1e-3) for k, s in SHAPES.items()} for t in range(steps)]


def test_laprop_steps_are_bounded_by_lr_over_sqrt_one_minus_nu_for_any_mu():
  """Ziyin et al. (2020): |m_t / c_m| <= 1/sqrt(1 - nu) whatever mu; Adam needs mu^2 < nu."""
  lr, mu, nu = 1e-3, 0.99, 0.9
  sequence = spike_then_small()
  bound = lr / np.sqrt(1 - nu)
  laprop_moves, _ = steps_and_gradients(laprop(lr, mu, nu, 0.0), sequence)
  adam_moves, _ = steps_and_gradients(adamx.adam(lr, mu, nu, 0.0), sequence)
  assert np.abs(laprop_moves).max() <= bound * (1 + 1e-12)
  assert np.abs(adam_moves).max() > 10 * bound


def test_laprop_state_names():
  assert laprop(1e-3).init(PARAMS)._fields == ("count", "nu", "mu", "learning_rate")


def test_empty_leaves_keep_finite_state():
  params = {"e": jnp.zeros((0, 2)), "w": jnp.ones((2, 2))}
  for opt in (adam_mini(1e-2), then_descend(cautious(adamx.scale_by_adam(), eps=0.0), 1e-2),
              mars(1e-2)):
    state = opt.init(params)
    for _ in range(2):
      updates, state = opt.update(jax.tree.map(lambda p: p + 0.5, params), state, params)
    assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves((updates, state)))


def test_mars_hyperparameters_as_float32_arrays_give_the_same_float32_numbers():
  """The correction's factor gamma b1/(1-b1) is formed per leaf, in the compute dtype."""
  params = jax.tree.map(lambda p: jnp.asarray(p, jnp.float32), PARAMS)
  sequence = [jax.tree.map(lambda g: np.float32(g), g) for g in SEQUENCE[:20]]
  as_float = run_adamx(mars(1e-2, 0.9, gamma=0.3), sequence, params)
  f32 = jnp.float32
  as_array = run_adamx(mars(f32(1e-2), f32(0.9), gamma=f32(0.3)), sequence, params)
  np.testing.assert_array_equal(as_array, as_float)


def test_gradient_correction_extrapolates_along_the_last_change():
  for first_step_current, first in ((False, 1.5), (True, 1.0)):
    t = gradient_correction(0.5, 0.5, first_step_current=first_step_current)  # factor 0.5
    state = t.init(jnp.zeros(()))
    outs = []
    for u in (1.0, 3.0, 2.0):
      out, state = t.update(jnp.asarray(u), state)
      outs.append(float(out))
    assert outs == [first, 3.0 + 0.5 * 2.0, 2.0 - 0.5 * 1.0]
    assert float(state.last_grad) == 2.0
