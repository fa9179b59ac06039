"""Sign and layer-wise methods: signSGD, Signum, Lion, LARS, LAMB, Fromage, NovoGrad.

Each takes Optax's signature and gives Optax's numbers (float64 and
complex128, 200 steps of the hard gradient sequence), matches its paper's
loop (tests/reference_signs_layerwise.py), and keeps its statistics under
Optax's names. Their new primitives are checked one by one.
"""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from optax.tree_utils import tree_get, tree_get_all_with_path

from adamx._combinators.chain import chain
from adamx._methods.layerwise import fromage, lamb, lars, novograd
from adamx._methods.signs import lion, sign_sgd, signum
from adamx._primitives.layerwise import scale_by_trust_ratio
from adamx._primitives.moments import scale_by_ema
from adamx._primitives.norms import layer_second_moment, retract
from adamx._primitives.scale import scale_by_learning_rate
from adamx._primitives.signs import interpolated_ema
from tests import reference_signs_layerwise as paper
from tests.test_optax_rule import complex_difference, complex_problem, run_complex
from tests.trajectories import (
    final_state,
    SHAPES, TOLERANCE, gradient_sequence, initial_params, relative_difference, run_adamx,
    run_optax,
)

METHODS = {f.__name__: f for f in (sign_sgd, signum, lion, lars, lamb, fromage, novograd)}
MASK = {"w": True, "b": False, "s": True}

# (name, arguments): at least two settings per method, non-default values included.
CASES = [
    ("sign_sgd", dict(learning_rate=1e-2)),
    ("sign_sgd", dict(learning_rate=optax.exponential_decay(1e-2, 50, 0.5))),
    ("signum", dict(learning_rate=1e-2)),
    ("signum", dict(learning_rate=3e-3, beta=0.5, accumulator_dtype=jnp.float32)),
    ("lion", dict(learning_rate=1e-3)),
    ("lion", dict(learning_rate=3e-3, b1=0.8, b2=0.95, weight_decay=0.1, mask=MASK)),
    ("lion", dict(learning_rate=3e-3, mu_dtype=jnp.float32, weight_decay=0.0)),
    ("lion", dict(learning_rate=optax.cosine_decay_schedule(3e-3, 200),
                  weight_decay=optax.linear_schedule(0.1, 0.0, 200),
                  mask=lambda p: {k: k != "b" for k in p})),
    ("lars", dict(learning_rate=1.0)),
    ("lars", dict(learning_rate=0.5, weight_decay=1e-2, trust_coefficient=0.01, eps=1e-6,
                  momentum=0.8, nesterov=True)),
    ("lars", dict(learning_rate=0.5, weight_decay=1e-2, weight_decay_mask=False,
                  trust_ratio_mask=False, momentum=0.0)),
    ("lamb", dict(learning_rate=1e-2)),
    ("lamb", dict(learning_rate=1e-2, b1=0.8, b2=0.99, eps=1e-8, eps_root=1e-10,
                  weight_decay=0.1, mask=MASK)),
    ("fromage", dict(learning_rate=1e-2)),
    ("fromage", dict(learning_rate=0.3, min_norm=1e-3)),
    ("fromage", dict(learning_rate=optax.cosine_decay_schedule(0.2, 200))),
    ("novograd", dict(learning_rate=1e-2)),
    ("novograd", dict(learning_rate=1e-2, b1=0.8, b2=0.5, eps=1e-8, eps_root=1e-6,
                      weight_decay=0.01)),
]


def optax_difference(name, kwargs, seed=0):
  grads, params = gradient_sequence(seed), initial_params(seed)
  mine = run_adamx(METHODS[name](**kwargs), grads, params)
  theirs = run_optax(getattr(optax, name)(**kwargs), grads, params)
  return relative_difference(mine, theirs)


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_optax(name, kwargs):
  assert optax_difference(name, kwargs) <= TOLERANCE["peer"]


def test_every_method_has_two_optax_settings():
  counts = {name: sum(n == name for n, _ in CASES) for name in METHODS}
  assert min(counts.values()) >= 2, counts


@pytest.mark.parametrize("name", list(METHODS))
def test_signature_is_optax_s(name):
  mine = inspect.signature(METHODS[name]).parameters
  theirs = inspect.signature(getattr(optax, name)).parameters
  assert list(mine) == list(theirs)
  for arg, want in theirs.items():
    assert mine[arg].kind == want.kind and mine[arg].default == want.default, arg


COMPLEX_CASES = [
    ("lars", dict(learning_rate=0.5, weight_decay=0.01, nesterov=True)),
    ("lamb", dict(learning_rate=1e-2, weight_decay=0.1)),
    ("novograd", dict(learning_rate=1e-2, weight_decay=0.01)),
    ("fromage", dict(learning_rate=0.1)),
    # scale_by_sign takes g/|g| of a complex g, as Optax computes (Optax lists
    # these three as not supporting complex parameters).
    ("sign_sgd", dict(learning_rate=1e-2)),
    ("signum", dict(learning_rate=1e-2, beta=0.8)),
    ("lion", dict(learning_rate=1e-2, weight_decay=0.1)),
]


@pytest.mark.parametrize(("name", "kwargs"), COMPLEX_CASES, ids=[n for n, _ in COMPLEX_CASES])
def test_complex128_matches_optax(name, kwargs):
  grads, params = complex_problem()
  mine = run_complex(METHODS[name](**kwargs), grads, params)
  theirs = run_complex(getattr(optax, name)(**kwargs), grads, params, standard=True)
  assert mine.dtype == np.complex128
  assert complex_difference(mine, theirs) <= TOLERANCE["peer"]


@pytest.mark.parametrize(("name", "dtype_arg"), [("lion", "mu_dtype"), ("signum", "accumulator_dtype")])
def test_low_precision_moment_is_stored_as_asked(name, dtype_arg):
  """The moment is kept in bfloat16 and computed in the parameters' precision.
  (Optax multiplies the bfloat16 moment by the Python-float decay in bfloat16,
  so its float64 trajectory with a bfloat16 moment differs by that rounding.)"""
  opt = METHODS[name](1e-2, **{dtype_arg: jnp.bfloat16})
  state = final_state(opt)
  field = "mu" if name == "lion" else "ema"
  assert {leaf.dtype for leaf in jax.tree.leaves(tree_get(state, field))} == {jnp.dtype(jnp.bfloat16)}
  grads, params = gradient_sequence(0, 20), initial_params(0)
  wide = run_adamx(METHODS[name](1e-2), grads, params)
  assert relative_difference(run_adamx(opt, grads, params), wide) < 0.1


def test_lars_takes_mask_trees_as_optax():
  masks = dict(weight_decay_mask=MASK, trust_ratio_mask=lambda p: {k: k != "s" for k in p})
  assert optax_difference("lars", dict(learning_rate=0.5, weight_decay=1e-2, **masks)) <= TOLERANCE["peer"]


# (method, arguments, the statistics Optax keeps under these names)
STATE_CASES = [
    ("signum", dict(learning_rate=0.1, beta=0.8), ["ema"]),
    ("lion", dict(learning_rate=0.01), ["mu", "count"]),
    ("lars", dict(learning_rate=0.5), ["trace"]),
    ("lamb", dict(learning_rate=0.01), ["mu", "nu", "count"]),
    ("novograd", dict(learning_rate=0.01), ["mu", "nu", "count"]),
]



@pytest.mark.parametrize(("name", "kwargs", "fields"), STATE_CASES, ids=[n for n, _, _ in STATE_CASES])
def test_tree_get_reads_what_optax_keeps_under_the_same_name(name, kwargs, fields):
  mine = final_state(METHODS[name](**kwargs))
  with jax.numpy_dtype_promotion("standard"):
    theirs = final_state(getattr(optax, name)(**kwargs))
  for field in fields:
    assert len(tree_get_all_with_path(theirs, field)) == 1
    assert len(tree_get_all_with_path(mine, field)) == 1
    want, got = tree_get(theirs, field), tree_get(mine, field)
    assert jax.tree.structure(got) == jax.tree.structure(want), field
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
      assert jnp.shape(a) == jnp.shape(b), field  # novograd's nu: one 0-d array per leaf
      np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", list(METHODS))
def test_one_state_record_with_one_count(name):
  state = METHODS[name](0.1).init({"w": jnp.zeros(3)})
  assert type(state).__name__ == "".join(w.title() for w in name.split("_")) + "State"
  assert len(tree_get_all_with_path(state, "count")) == 1


# ---------------------------------------------------------------------------
# The papers' loops, one leaf at a time.

def paper_path(loop, grads, params):
  columns = []
  for k in SHAPES:
    path = loop(np.stack([g[k] for g in grads]), np.asarray(params[k], np.float64))
    columns.append(path.reshape(len(grads), -1))
  return np.concatenate(columns, axis=1)


# name: (adamx transformation, paper loop for one leaf, dense gradients needed)
PAPER = {
    "signSGD (Alg. 1)": (sign_sgd(1e-2), lambda g, x: paper.sign_sgd(g, x, 1e-2), False),
    "Signum (Alg. 2)": (signum(3e-3, 0.8), lambda g, x: paper.signum(g, x, 3e-3, 0.8), False),
    "Lion (Alg. 2)": (lion(1e-3), lambda g, x: paper.lion(g, x, 1e-3, 0.9, 0.99, 1e-3), False),
    "Lion, non-default": (lion(3e-3, 0.8, 0.95, weight_decay=0.1),
                          lambda g, x: paper.lion(g, x, 3e-3, 0.8, 0.95, 0.1), False),
    "LARS (Alg. 1)": (lars(1.0), lambda g, x: paper.lars(g, x, 1.0, 0.9, 0.0, 0.001), True),
    "LARS, non-default": (lars(0.5, trust_coefficient=0.02, momentum=0.7),
                          lambda g, x: paper.lars(g, x, 0.5, 0.7, 0.0, 0.02), True),
    "LAMB (Alg. 2)": (lamb(1e-2), lambda g, x: paper.lamb(g, x, 1e-2, 0.9, 0.999, 1e-6, 0.0), True),
    "LAMB, weight decay": (lamb(1e-2, 0.8, 0.99, 1e-8, weight_decay=0.1),
                           lambda g, x: paper.lamb(g, x, 1e-2, 0.8, 0.99, 1e-8, 0.1), True),
    "Fromage (Alg. 1)": (fromage(1e-2), lambda g, x: paper.fromage(g, x, 1e-2), True),
    "Fromage, large rate": (fromage(0.3, min_norm=0.0), lambda g, x: paper.fromage(g, x, 0.3), True),
    "NovoGrad (Alg. 1)": (novograd(1e-2, eps=0.0),
                          lambda g, x: paper.novograd(g, x, 1e-2, 0.9, 0.25, 0.0), True),
    "NovoGrad, eps inside the root": (
        novograd(1e-2, 0.8, 0.5, eps=0.0, eps_root=1e-6, weight_decay=0.01),
        lambda g, x: paper.novograd(g, x, 1e-2, 0.8, 0.5, 0.01, eps=1e-6), True),
}


@pytest.mark.parametrize("case", list(PAPER))
def test_matches_the_paper(case):
  opt, loop, dense = PAPER[case]
  grads, params = gradient_sequence(7, dense=dense), initial_params(7)
  mine = run_adamx(opt, grads, params)
  assert relative_difference(mine, paper_path(loop, grads, params)) <= TOLERANCE["reference"]


def test_optax_fromage_matches_the_paper_too():
  """Without the floor on the norms (min_norm=0); the scalar leaf shrinks below
  Optax's default floor of 1e-6 within 200 steps, where the floored step differs."""
  grads, params = gradient_sequence(7, dense=True), initial_params(7)
  theirs = run_optax(optax.fromage(0.3, min_norm=0.0), grads, params)
  want = paper_path(lambda g, x: paper.fromage(g, x, 0.3), grads, params)
  assert relative_difference(theirs, want) <= TOLERANCE["reference"]


def test_lars_with_weight_decay_departs_from_the_paper_as_documented():
  """Optax (and adamx) divide by ||g + beta w||, the paper by ||g|| + beta ||w||."""
  grads, params = gradient_sequence(7, dense=True), initial_params(7)
  mine = run_adamx(lars(1.0, weight_decay=0.1), grads, params)
  theirs = run_optax(optax.lars(1.0, weight_decay=0.1), grads, params)
  want = paper_path(lambda g, x: paper.lars(g, x, 1.0, 0.9, 0.1, 0.001), grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["peer"]
  assert relative_difference(mine, want) > 1e-6


# ---------------------------------------------------------------------------
# The new primitives.

def steps(opt, updates, params=None):
  state = opt.init(updates[0] if params is None else params)
  outs = []
  for u in updates:
    out, state = opt.update(u, state, params)
    outs.append(out)
  return outs, state


def test_interpolated_ema_emits_from_the_previous_average():
  u = [jnp.asarray([2.0, -4.0]), jnp.asarray([1.0, 0.0])]
  outs, state = steps(interpolated_ema(0.75, 0.5), u)
  np.testing.assert_allclose(outs[0], 0.5 * u[0])  # w * m_0 + (1 - w) u_1, m_0 = 0
  m1 = 0.25 * u[0]
  np.testing.assert_allclose(outs[1], 0.5 * m1 + 0.5 * u[1])
  np.testing.assert_allclose(state.mu, 0.75 * m1 + 0.25 * u[1])


def test_interpolated_ema_with_equal_weights_is_scale_by_ema():
  grads = [jnp.asarray(g["w"]) for g in gradient_sequence(3, 20)]
  mine, state = steps(interpolated_ema(0.9, 0.9, name="nu"), grads)
  plain, plain_state = steps(scale_by_ema(0.9, name="nu"), grads)
  np.testing.assert_array_equal(np.stack(mine), np.stack(plain))
  np.testing.assert_array_equal(state.nu, plain_state.nu)


def test_layer_second_moment_starts_at_the_first_squared_norm():
  u1 = {"w": jnp.asarray([[3.0, 4.0]]), "b": jnp.asarray(0.5)}
  u2 = {"w": jnp.asarray([[1.0, 0.0]]), "b": jnp.asarray(0.0)}
  (out1, out2), state = steps(layer_second_moment(0.25), [u1, u2])
  assert out1["w"].shape == (1, 2) and out1["b"].shape == ()
  np.testing.assert_allclose(out1["w"], [[25.0, 25.0]])
  np.testing.assert_allclose(out1["b"], 0.25)
  np.testing.assert_allclose(out2["w"], 0.25 * 25.0 + 0.75 * 1.0)
  assert state.nu["w"].shape == () and int(state.count) == 2


def test_layer_second_moment_of_low_precision_and_complex_leaves():
  g = jnp.full(4, 300.0, jnp.bfloat16)  # |g|^2 summed is 360000
  out, state = layer_second_moment(0.5).update(g, layer_second_moment(0.5).init(g))
  assert out.dtype == jnp.float32 and float(out[0]) == 360000.0  # a denominator: wide
  assert state.nu.dtype == jnp.bfloat16 and state.nu.shape == ()
  z = jnp.asarray([3 + 4j, 1j], jnp.complex64)
  out, state = layer_second_moment(0.5).update(z, layer_second_moment(0.5).init(z))
  assert out.dtype == jnp.float32 and float(out[0]) == 26.0
  assert state.nu.dtype == jnp.complex64 and complex(state.nu) == 26.0


def test_retract_keeps_the_norm_through_an_orthogonal_step():
  w = jnp.asarray([3.0, 0.0, 4.0])
  eta = 0.7
  step = jnp.asarray([0.0, -eta * 5.0, 0.0])  # orthogonal, ||step|| = eta ||w||
  out, _ = retract(eta).update(step, retract(eta).init(w), w)
  new = w + out
  np.testing.assert_allclose(float(jnp.linalg.norm(new)), 5.0, rtol=1e-14)
  np.testing.assert_allclose(new, (w + step) / np.sqrt(1 + eta**2), rtol=1e-14)


def test_retract_reads_a_schedule_at_the_learning_rate_s_counts():
  schedule = lambda count: 0.1 * (count + 1)  # noqa: E731
  w = jnp.asarray([1.0, -2.0])
  opt = chain(scale_by_learning_rate(schedule), retract(schedule))
  state = opt.init(w)
  for t in range(3):
    g = jnp.asarray([0.5, 0.25]) * (t + 1)
    out, state = opt.update(g, state, w)
    eta = 0.1 * (t + 1)
    np.testing.assert_allclose(w + out, (w - eta * g) / np.sqrt(1 + eta**2), rtol=1e-14)
    w = w + out


def test_fromage_is_the_trust_ratio_the_rate_and_retract():
  recipe = repr(fromage(0.1))
  assert "scale_by_trust_ratio(min_norm=1e-06" in recipe and "retract(learning_rate=0.1)" in recipe
  parts = [part.name for _, part in fromage(0.1).parts[0][1].parts]
  assert parts == ["scale_by_trust_ratio", "scale_by_learning_rate", "retract"]
  ratio = scale_by_trust_ratio(1e-6)
  assert ratio.hyperparams == {"min_norm": 1e-6, "trust_coefficient": 1.0}
