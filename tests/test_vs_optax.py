"""adamx.<name>(args) reproduces optax.<name>(args), float64, 200 steps."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamx
from tests.trajectories import (
    TOLERANCE, gradient_sequence, initial_params, relative_difference, run_adamx, run_optax,
)

# (name, kwargs): at least two settings per method, non-default values included.
CASES = [
    ("sgd", dict(learning_rate=1e-3)),
    ("sgd", dict(learning_rate=2e-3, momentum=0.9)),
    ("sgd", dict(learning_rate=2e-3, momentum=0.7, nesterov=True)),
    ("adagrad", dict(learning_rate=0.1)),
    ("adagrad", dict(learning_rate=0.05, initial_accumulator_value=0.0, eps=1e-4)),
    ("rmsprop", dict(learning_rate=1e-2)),
    ("rmsprop", dict(learning_rate=1e-2, decay=0.8, eps=1e-5, eps_in_sqrt=False, momentum=0.9)),
    ("rmsprop", dict(learning_rate=1e-2, centered=True, momentum=0.5, nesterov=True,
                     initial_scale=0.1)),
    ("rmsprop", dict(learning_rate=1e-2, centered=True, bias_correction=True, eps=1e-6,
                     initial_scale=0.1)),
    ("rmsprop", dict(learning_rate=optax.exponential_decay(1e-2, 50, 0.5), momentum=0.9)),
    ("adadelta", dict(learning_rate=1.0)),
    ("adadelta", dict(learning_rate=0.5, rho=0.95, eps=1e-5, weight_decay=0.01)),
    ("adam", dict(learning_rate=1e-2)),
    ("adam", dict(learning_rate=3e-3, b1=0.8, b2=0.99, eps=1e-6, eps_root=1e-10)),
    ("adam", dict(learning_rate=optax.cosine_decay_schedule(1e-2, 200), nesterov=True)),
    ("adamax", dict(learning_rate=2e-3)),
    ("adamax", dict(learning_rate=1e-2, b1=0.5, b2=0.9, eps=1e-4)),
    ("nadam", dict(learning_rate=1e-2)),
    ("nadam", dict(learning_rate=1e-3, b1=0.95, b2=0.98, eps=1e-7)),
    ("amsgrad", dict(learning_rate=1e-2)),
    ("amsgrad", dict(learning_rate=1e-2, b1=0.7, b2=0.95, eps=1e-6)),
    ("amsgrad", dict(learning_rate=1e-2, bias_correction_mu=False, bias_correction_nu=False)),
    ("adamw", dict(learning_rate=1e-2)),
    ("adamw", dict(learning_rate=1e-2, b1=0.85, b2=0.99, weight_decay=0.1, eps=1e-5)),
    ("adamw", dict(learning_rate=1e-2, weight_decay=0.05, mask={"w": True, "b": False, "s": True})),
    ("nadamw", dict(learning_rate=1e-2)),
    ("nadamw", dict(learning_rate=5e-3, b2=0.99, weight_decay=0.2)),
    ("radam", dict(learning_rate=1e-2)),
    ("radam", dict(learning_rate=1e-2, b1=0.8, b2=0.99, threshold=6.0, nesterov=True)),
]


def optax_difference(name: str, kwargs: dict, seed: int = 0) -> float:
  grads = gradient_sequence(seed)
  params = initial_params(seed)
  mine = run_adamx(getattr(adamx, name)(**kwargs), grads, params)
  theirs = run_optax(getattr(optax, name)(**kwargs), grads, params)
  return relative_difference(mine, theirs)


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_optax(name, kwargs):
  assert optax_difference(name, kwargs) <= TOLERANCE["peer"]


def test_centered_rmsprop_first_step_is_rounding_noise_in_both():
  """Centered + bias-corrected, initial_scale=0: the step-1 variance g^2 - g^2 is
  exactly 0, so both libraries divide by sqrt(rounding noise + eps). They agree
  to the noise (1e-5 here), not to 1e-10; the well-conditioned case is in CASES."""
  kwargs = dict(learning_rate=1e-2, centered=True, bias_correction=True, eps=1e-6)
  assert optax_difference("rmsprop", kwargs) <= 1e-5


def test_every_optax_alias_of_the_same_name_is_covered():
  names = {name for name, _ in CASES}
  assert names == {"sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamax", "nadam",
                   "amsgrad", "adamw", "nadamw", "radam"}
  assert all(hasattr(optax, name) for name in names)


def test_adadelta_without_learning_rate_descends_where_optax_ascends():
  """optax.adadelta(learning_rate=None) returns +Delta; adamx descends (Zeiler's sign)."""
  params = {"x": jnp.array(3.0)}

  def descend(opt, steps=50):
    p, state = params, opt.init(params)
    for _ in range(steps):
      updates, state = opt.update({"x": 2 * p["x"]}, state, p)  # f = x^2
      p = optax.apply_updates(p, updates)
    return float(p["x"])

  assert abs(descend(adamx.adadelta())) < 3.0
  with jax.numpy_dtype_promotion("standard"):
    assert abs(descend(optax.adadelta())) > 3.0


def test_float32_agreement_with_optax_adam_and_its_cause():
  """README: in float32 (JAX's default, x64 off) the updates agree to ~7e-6,
  not to rounding. Optax forms 1 - b2 from the Python float but 1 - b2**t from
  float32(b2); adamx uses the float32 b2 for both, so its first step is
  lr * sign(g) to one rounding."""

  def first_step(opt):
    g = jnp.asarray([3.0, 1e-3, -50.0], jnp.float32)
    return np.asarray(opt.update(g, opt.init(g))[0], np.float64)

  with jax.enable_x64(False):
    mine = first_step(adamx.adam(1.0))
    with jax.numpy_dtype_promotion("standard"):
      theirs = first_step(optax.adam(1.0))
  np.testing.assert_allclose(np.abs(mine[[0, 2]]), 1.0, rtol=2 * np.finfo(np.float32).eps)
  gap = np.sqrt((1 - np.float32(0.999)) / np.float32(1 - 0.999))  # the cause, computed
  np.testing.assert_allclose(np.abs(theirs[[0, 2]]), gap, rtol=1e-6)
  assert 5e-6 < relative_difference(mine[None], theirs[None]) < 1e-5
