"""Linear-combination methods: OGD, optimistic Adam, Adan, AdEMAMix, Simplified AdEMAMix.

Against Optax (core and contrib, float64 and complex128, 200 steps of the
hard gradient sequence), against the papers' loops (tests/reference_combinations.py),
state by name, and the two schedule primitives.
"""

import inspect
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from optax.tree_utils import tree_get, tree_get_all_with_path

from adamx._core import hyperparams as hp
import adamx as C
from adamx._primitives.schedules import scale_by_schedule, scale_by_scheduled_ema
from adamx._primitives.moments import scale_by_ema
from tests import reference_combinations as paper
from tests.test_optax_rule import complex_difference, complex_problem, run_complex
from tests.trajectories import (
    final_state,
    SHAPES, TOLERANCE, flatten_path, gradient_sequence, initial_params, relative_difference,
    run_adamx, run_optax,
)

# The SPECS rows these methods need (adamx/_core/hyperparams.py is shared; the
# rows are reported for it). "alpha" is a decay in [0, 1) there today, which
# refuses Optax's defaults alpha=1.0 (OGD) and 5.0 (AdEMAMix) and schedules.
# Remove this table and fixture once SPECS has the rows.
NEEDED_SPECS = {
    "alpha": hp.Spec(0.0, schedule=True),
    "beta": hp.Spec(0.0, schedule=True),
    "optimism": hp.Spec(0.0, schedule=True),
    "b3": hp.Spec(0.0, 1.0, high_open=True, schedule=True),
    "step_size_fn": hp.Spec(schedule=True),
    "decay_fn": hp.Spec(0.0, 1.0, high_open=True, schedule=True),
}


@pytest.fixture(autouse=True)
def _specs(monkeypatch):
  for name, spec in NEEDED_SPECS.items():
    if hp.SPECS.get(name) != spec:
      monkeypatch.setitem(hp.SPECS, name, spec)


def peer(name):
  """The Optax factory of the same name (core, else contrib)."""
  return getattr(optax, name) if hasattr(optax, name) else getattr(optax.contrib, name)


def ramp(c):
  """A schedule, 0 -> 5 over 100 steps."""
  return jnp.minimum(c, 100) * 0.05


def warm_decay(c):
  """A decay schedule, 0.9 -> 0.999 over 198 steps."""
  return jnp.minimum(0.9 + c * 0.0005, 0.999)


# (name, kwargs): at least two settings per method, non-default values included.
CASES = [
    ("optimistic_gradient_descent", dict(learning_rate=1e-2)),
    ("optimistic_gradient_descent", dict(learning_rate=3e-3, alpha=0.5, beta=2.0)),
    ("optimistic_gradient_descent", dict(learning_rate=optax.cosine_decay_schedule(1e-2, 200),
                                         alpha=0.0, beta=0.3)),
    ("optimistic_adam", dict(learning_rate=1e-2)),
    ("optimistic_adam", dict(learning_rate=1e-2, optimism=0.5, b1=0.8, b2=0.99, eps=1e-6,
                             nesterov=False)),
    ("optimistic_adam_v2", dict(learning_rate=1e-2)),
    ("optimistic_adam_v2", dict(learning_rate=optax.exponential_decay(1e-2, 50, 0.5), alpha=0.3,
                                beta=0.7, b2=0.99, eps_root=1e-10, nesterov=False)),
    ("adan", dict(learning_rate=1e-2)),
    ("adan", dict(learning_rate=3e-3, b1=0.9, b2=0.8, b3=0.95, eps=1e-6, eps_root=0.0,
                  weight_decay=0.1, mask={"w": True, "b": False, "s": True})),
    ("ademamix", dict(learning_rate=1e-2)),
    ("ademamix", dict(learning_rate=1e-2, b1=0.8, b2=0.99, b3=0.999, alpha=2.0, eps=1e-6,
                      weight_decay=0.1)),
    ("ademamix", dict(learning_rate=1e-2, b3=warm_decay, alpha=ramp, eps_root=1e-10)),
    ("simplified_ademamix", dict(learning_rate=1e-3)),
    ("simplified_ademamix", dict(learning_rate=1e-3, b1=0.9, b2=0.99, alpha=2.0, eps=1e-6,
                                 weight_decay=0.1, mask={"w": True, "b": False, "s": False})),
    ("simplified_ademamix", dict(learning_rate=1e-3, alpha=ramp)),
    # Optax's own names for the directions, and the schedule primitive.
    ("scale_by_optimistic_gradient", dict(alpha=0.3, beta=0.6)),
    ("scale_by_adan", dict()),
    ("scale_by_adan", dict(b1=0.7, b2=0.6, b3=0.9, eps_root=1e-8)),
    ("scale_by_ademamix", dict()),
    ("scale_by_ademamix", dict(b3=warm_decay, alpha=ramp)),
    ("scale_by_simplified_ademamix", dict(b1=0.9, alpha=1.5)),
]
PRIMITIVES = {"scale_by_schedule": scale_by_schedule}
NAMES = sorted({n for n, _ in CASES} | set(PRIMITIVES))


def build(library, name, kwargs):
  if library == "optax":
    factory = peer(name)
  else:
    factory = PRIMITIVES.get(name) or getattr(C, name)
  return factory(**kwargs)


def with_rate(name, t):
  """A direction (``scale_by_*``) gets a small rate, for a parameter trajectory."""
  return optax.chain(t, optax.scale(-1e-3)) if name.startswith("scale_by") else t


@pytest.mark.parametrize(("name", "kwargs"), CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_optax(name, kwargs):
  grads, params = gradient_sequence(0), initial_params(0)
  mine = run_adamx(with_rate(name, build("adamx", name, kwargs)), grads, params)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # optax.optimistic_adam
    theirs = run_optax(with_rate(name, build("optax", name, kwargs)), grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["peer"]


def test_scale_by_schedule_matches_optax():
  grads, params = gradient_sequence(1), initial_params(1)
  schedule = optax.piecewise_constant_schedule(-1e-3, {40: 0.5, 90: 3.0})
  mine = run_adamx(scale_by_schedule(schedule), grads, params)
  theirs = run_optax(optax.scale_by_schedule(schedule), grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["peer"]


@pytest.mark.parametrize("name", NAMES)
def test_signature_is_optax_s(name):
  mine = inspect.signature(PRIMITIVES.get(name) or getattr(C, name)).parameters
  theirs = inspect.signature(peer(name)).parameters
  for position, (arg, want) in enumerate(theirs.items()):
    assert arg in mine, f"{name} lacks Optax's argument {arg!r}"
    got = mine[arg]
    if want.kind is want.POSITIONAL_OR_KEYWORD:
      assert list(mine).index(arg) == position, f"{arg!r} is not at Optax's position"
    assert got.kind == want.kind, f"{arg!r}: {got.kind} vs Optax's {want.kind}"
    if want.default is not want.empty:
      assert got.default == want.default, f"{arg!r}: default {got.default} vs {want.default}"
  extra = [p for arg, p in mine.items() if arg not in theirs]
  assert all(p.kind is p.KEYWORD_ONLY for p in extra), f"extra positional arguments: {extra}"


# --- complex parameters --------------------------------------------------------------

COMPLEX = [
    ("optimistic_gradient_descent", dict(learning_rate=1e-2, alpha=0.5, beta=1.5)),
    ("optimistic_adam_v2", dict(learning_rate=1e-2)),
    ("optimistic_adam", dict(learning_rate=1e-2, nesterov=False)),
    ("adan", dict(learning_rate=1e-2, weight_decay=0.1)),
    ("ademamix", dict(learning_rate=1e-2, b3=0.999, alpha=ramp)),
]


@pytest.mark.parametrize(("name", "kwargs"), COMPLEX, ids=[n for n, _ in COMPLEX])
def test_complex128_matches_optax(name, kwargs):
  grads, params = complex_problem()
  mine = run_complex(getattr(C, name)(**kwargs), grads, params)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    theirs = run_complex(peer(name)(**kwargs), grads, params, standard=True)
  assert mine.dtype == np.complex128
  assert complex_difference(mine, theirs) <= TOLERANCE["peer"]


def test_complex_simplified_ademamix_keeps_a_real_second_moment_where_optax_does_not():
  """adamx averages |g|^2; Optax averages g^2, complex (a deliberate difference)."""
  grads, params = complex_problem(steps=5)

  def final_n(opt):
    p = jax.tree.map(jnp.asarray, params)
    state = opt.init(p)
    for g in grads:
      _, state = opt.update(jax.tree.map(jnp.asarray, g), state, p)
    return np.asarray(tree_get(state, "n")["z"])

  b2 = 0.95
  want = np.zeros((3, 4))
  for g in grads:
    want = b2 * want + (1 - b2) * np.abs(g["z"]) ** 2
  mine = final_n(C.simplified_ademamix(1e-2, b2=b2))
  np.testing.assert_allclose(mine.imag, 0.0, atol=0)
  np.testing.assert_allclose(mine.real, want, rtol=1e-12)
  with jax.numpy_dtype_promotion("standard"):
    theirs = final_n(optax.contrib.simplified_ademamix(1e-2, b2=b2))
  assert np.abs(theirs.imag).max() > 1e-3 * np.abs(theirs).max()


# --- the papers -----------------------------------------------------------------------


def paper_path(loop, sequence, params):
  """The reference loop applied to each leaf, flattened as the runners flatten."""
  path = {k: loop(np.stack([g[k] for g in sequence]), np.asarray(params[k])) for k in SHAPES}
  return flatten_path(path)


def increments(path, params):
  start = np.concatenate([np.asarray(params[k]).reshape(-1) for k in SHAPES])
  return np.diff(np.concatenate([start[None], path]), axis=0)


@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 1.0), (0.3, 1.7), (1e-2, 1e-2)])
def test_ogd_is_mokhtari_generalized_ogda(alpha, beta):
  grads, params = gradient_sequence(2), initial_params(2)
  mine = run_adamx(C.optimistic_gradient_descent(1.0, alpha, beta), grads, params)
  theirs = paper_path(lambda g, x: paper.ogda(g, x, alpha, beta), grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["reference"]


def test_ogd_with_a_rate_is_ogda_with_eta():
  grads, params = gradient_sequence(3), initial_params(3)
  mine = run_adamx(C.optimistic_gradient_descent(0.02), grads, params)
  theirs = paper_path(lambda g, x: paper.ogda(g, x, 0.02, 0.02), grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["reference"]


@pytest.mark.parametrize("interface", ["v1", "v2"])
def test_optimistic_adam_is_daskalakis_from_the_second_step(interface):
  """Algorithm 1's first step is -2 eta r_1 (its previous term is 0); Optax's,
  and adamx's, is -eta r_1 (r_0 := r_1). Every later step is the paper's."""
  lr, b1, b2, eps = 1e-2, 0.8, 0.99, 1e-7
  grads, params = gradient_sequence(4), initial_params(4)
  if interface == "v1":
    opt = C.optimistic_adam(lr, b1=b1, b2=b2, eps=eps, nesterov=False)
  else:
    opt = C.optimistic_adam_v2(1.0, alpha=lr, beta=lr, b1=b1, b2=b2, eps=eps, nesterov=False)
  mine = increments(run_adamx(opt, grads, params), params)
  theirs = increments(paper_path(lambda g, x: paper.optimistic_adam(g, x, lr, b1, b2, eps),
                                 grads, params), params)
  assert relative_difference(mine[1:], theirs[1:]) <= TOLERANCE["reference"]
  assert relative_difference(2 * mine[:1], theirs[:1]) <= TOLERANCE["reference"]
  assert relative_difference(mine[:1], theirs[:1]) > 0.4


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_adan_with_paper_weight_is_the_authors_implementation(weight_decay):
  b1, b2, b3, eps, lr = 0.98, 0.92, 0.99, 1e-8, 1e-2
  grads, params = gradient_sequence(5), initial_params(5)
  mine = run_adamx(C.adan(lr, b1, b2, b3, eps, eps_root=0.0, weight_decay=weight_decay,
                          paper_weight=True), grads, params)
  theirs = paper_path(lambda g, x: paper.adan_authors(g, x, lr, b1, b2, b3, eps, weight_decay),
                      grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["reference"]


def test_adan_with_paper_weight_is_algorithm_1_once_the_start_is_forgotten():
  """Algorithm 1 (paper's beta = 1 - b) starts from m_0 = g_0, n_0 = g_0^2 without
  bias correction: its first step equals adamx's, and with fast decays (b = 0.3)
  the steps agree again once the start has decayed (0.3^60 ~ 1e-31).
  With Optax's weight 1 - b2 they do not."""
  b, eps, lr = 0.3, 1e-8, 1e-2
  grads, params = gradient_sequence(6), initial_params(6)
  theirs = increments(paper_path(lambda g, x: paper.adan(g, x, lr, 1 - b, 1 - b, 1 - b, eps),
                                 grads, params), params)

  def steps(paper_weight):
    opt = C.adan(lr, b, b, b, eps, eps_root=0.0, paper_weight=paper_weight)
    return increments(run_adamx(opt, grads, params), params)

  mine = steps(True)
  assert relative_difference(mine[:1], theirs[:1]) <= TOLERANCE["reference"]
  assert relative_difference(mine[60:], theirs[60:]) <= TOLERANCE["reference"]
  assert relative_difference(steps(False)[60:], theirs[60:]) > 1e-2


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_ademamix_is_algorithm_1(weight_decay):
  lr, b1, b2, b3, alpha, eps = 1e-2, 0.9, 0.999, 0.99, 4.0, 1e-8
  grads, params = gradient_sequence(7), initial_params(7)
  mine = run_adamx(C.ademamix(lr, b1, b2, b3, alpha, eps, weight_decay=weight_decay),
                   grads, params)
  theirs = paper_path(lambda g, x: paper.ademamix(g, x, lr, b1, b2, b3, alpha, eps, weight_decay),
                      grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["reference"]


def test_ademamix_with_the_papers_schedulers():
  """The paper's schedulers alpha(t), beta3(t) index steps from t = 1; adamx (as
  Optax) evaluates a schedule at count = t - 1, so it is given f(count + 1)."""
  lr, b1, b2, b3, alpha, eps, horizon = 1e-2, 0.9, 0.999, 0.9999, 5.0, 1e-8, 120

  def alpha_jax(c):
    return jnp.minimum(jnp.asarray(c + 1, jnp.float64) * alpha / horizon, alpha)

  def b3_jax(c):
    t = jnp.asarray(c + 1, jnp.float64) / horizon
    s, e = np.log(b1), np.log(b3)
    return jnp.minimum(jnp.exp(s * e / ((1 - t) * e + t * s)), b3)

  grads, params = gradient_sequence(8), initial_params(8)
  mine = run_adamx(C.ademamix(lr, b1, b2, b3_jax, alpha_jax, eps), grads, params)
  theirs = paper_path(
      lambda g, x: paper.ademamix(
          g, x, lr, b1, b2, b3, alpha, eps,
          b3_at=lambda t: paper.ademamix_beta3(t, b3, b1, horizon),
          alpha_at=lambda t: paper.ademamix_alpha(t, alpha, horizon)),
      grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["reference"]


@pytest.mark.parametrize(("b1", "b2", "alpha", "weight_decay"),
                         [(0.99, 0.95, 0.0, 0.0), (0.9, 0.999, 3.0, 0.1)])
def test_simplified_ademamix_is_morwani_et_al(b1, b2, alpha, weight_decay):
  lr, eps = 1e-3, 1e-8
  grads, params = gradient_sequence(9), initial_params(9)
  mine = run_adamx(C.simplified_ademamix(lr, b1, b2, alpha, eps, weight_decay=weight_decay),
                   grads, params)
  theirs = paper_path(
      lambda g, x: paper.simplified_ademamix(g, x, lr, b1, b2, alpha, eps, weight_decay),
      grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["reference"]


# --- state, by name -------------------------------------------------------------------

STATE_CASES = [
    ("optimistic_gradient_descent", dict(learning_rate=0.1), ["previous_gradient"]),
    ("optimistic_adam", dict(learning_rate=0.01), ["mu", "nu", "previous_gradient"]),
    ("optimistic_adam_v2", dict(learning_rate=0.01), ["mu", "nu", "previous_gradient"]),
    ("adan", dict(learning_rate=0.01), ["m", "v", "n", "g"]),
    ("ademamix", dict(learning_rate=0.01, b3=warm_decay), ["m1", "m2", "nu", "count"]),
    ("simplified_ademamix", dict(learning_rate=0.01), ["m", "n"]),
]



@pytest.mark.parametrize(("name", "kwargs", "fields"), STATE_CASES,
                         ids=[n for n, _, _ in STATE_CASES])
def test_tree_get_reads_what_optax_keeps_under_the_same_name(name, kwargs, fields):
  mine = final_state(getattr(C, name)(**kwargs))
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    with jax.numpy_dtype_promotion("standard"):
      theirs = final_state(peer(name)(**kwargs))
  for field in fields:
    assert len(tree_get_all_with_path(theirs, field)) == 1, f"optax has no single {field}"
    got = tree_get(mine, field)
    assert got is not None, f"{name} state has no {field!r}: {mine._fields}"
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300),
                 got, tree_get(theirs, field))
  assert len(tree_get_all_with_path(mine, "count")) == 1
  assert type(mine).__name__ == "".join(w.title() for w in name.split("_")) + "State"


def test_adan_keeps_the_previous_gradient_once_per_branch():
  state = final_state(C.adan(0.01), steps=3)
  last = jax.tree.map(jnp.asarray, gradient_sequence(0, 3)[-1])
  for field in ("g", "g_1"):
    jax.tree.map(lambda a, b: np.testing.assert_array_equal(a, b), getattr(state, field), last)


# --- the schedule primitives ------------------------------------------------------------


def test_scheduled_ema_with_a_constant_decay_is_scale_by_ema():
  grads, params = gradient_sequence(10), initial_params(10)
  mine = run_adamx(optax.chain(scale_by_scheduled_ema(0.9), optax.scale(-1e-2)), grads, params)
  plain = run_adamx(optax.chain(scale_by_ema(0.9), optax.scale(-1e-2)), grads, params)
  assert relative_difference(mine, plain) == 0.0


def test_scheduled_ema_follows_its_schedule_from_count_0():
  decays = [0.0, 0.5, 0.9, 0.99]
  opt = scale_by_scheduled_ema(lambda c: jnp.asarray(decays, jnp.float64)[c], name="slow")
  g = [np.array([1.0, -2.0]), np.array([3.0, 0.5]), np.array([-1.0, 4.0]), np.array([2.0, 2.0])]
  state, m = opt.init(jnp.zeros(2)), np.zeros(2)
  for b, gt in zip(decays, g):
    out, state = opt.update(jnp.asarray(gt), state)
    m = b * m + (1 - b) * gt
    np.testing.assert_allclose(out, m, rtol=1e-15)
  assert state._fields == ("count", "slow") and int(state.count) == 4


def test_scheduled_hyperparameters_are_refused_outside_their_range_at_count_0():
  with pytest.raises(hp.InvalidHyperparameter, match="b3"):
    C.ademamix(1e-2, b3=lambda c: 1.0 + 0 * c)
  with pytest.raises(hp.InvalidHyperparameter, match="alpha"):
    C.ademamix(1e-2, alpha=-1.0)
  with pytest.raises(hp.InvalidHyperparameter, match="decay_fn"):
    scale_by_scheduled_ema(lambda c: -0.5 + 0 * c)


def test_adan_refuses_a_b3_schedule_with_a_clear_error():
  """Adan bias-corrects n by 1 - b3^t, which needs a constant b3."""
  with pytest.raises(hp.InvalidHyperparameter, match="takes no schedule"):
    C.adan(1e-2, b3=warm_decay)


def test_ademamix_recipe_prints_its_parts():
  text = repr(C.ademamix(1e-2, b3=warm_decay, alpha=ramp))
  assert text.startswith("ademamix(learning_rate=0.01")
  for part in ("scale_by_ema(decay=0.9, name='m1')", "scale_by_scheduled_ema(decay_fn=warm_decay",
               "scale_by_schedule(step_size_fn=ramp)", "scale_by_ema(decay=0.999, name='nu')"):
    assert part in text
