"""Each method against its paper's algorithm, written as a float64 NumPy loop."""

import numpy as np
import optax
import pytest
import jax
import jax.numpy as jnp

import adamx
from tests import reference
from tests.trajectories import TOLERANCE, relative_difference


def sequence(seed: int, *, dense: bool, steps: int = 200) -> np.ndarray:
  rng = np.random.default_rng(seed)
  g = rng.normal(size=(steps, 6)) * 10.0 ** rng.uniform(-3, 3, size=(steps, 6))
  if not dense:
    g[rng.uniform(size=g.shape) < 0.15] = 0.0
    g[::37] = 0.0
  return g


def run(opt, grads: np.ndarray, x0: np.ndarray) -> np.ndarray:
  def step(carry, g):
    x, state = carry
    updates, state = opt.update(g, state, x)
    x = optax.apply_updates(x, updates)
    return (x, state), x

  x0 = jnp.asarray(x0)
  return np.asarray(jax.jit(lambda x: jax.lax.scan(step, (x, opt.init(x)), grads)[1])(x0))


X0 = np.linspace(-2.0, 3.0, 6)

# (adamx transformation, reference loop, dense gradients needed)
CASES = {
    "adam (Kingma & Ba, Alg. 1)": (
        adamx.adam(1e-2, 0.9, 0.999, 1e-8),
        lambda g: reference.adam(g, X0, 1e-2, 0.9, 0.999, 1e-8), False),
    "adam, non-default betas": (
        adamx.adam(3e-3, 0.8, 0.95, 1e-6),
        lambda g: reference.adam(g, X0, 3e-3, 0.8, 0.95, 1e-6), False),
    "adam eps_hat (Kingma & Ba, end of §2)": (
        adamx.adam(1e-2, 0.9, 0.999, 1e-8, eps_hat=True),
        lambda g: reference.adam(g, X0, 1e-2, 0.9, 0.999, 1e-8, eps_hat=True), False),
    "adamax (Kingma & Ba, §7.1)": (
        adamx.adamax(2e-3, 0.9, 0.999, eps=0.0),
        lambda g: reference.adamax(g, X0, 2e-3, 0.9, 0.999), True),
    "amsgrad (Reddi et al., Alg. 2)": (
        adamx.amsgrad(1e-2, 0.9, 0.99, eps=0.0, bias_correction_mu=False, bias_correction_nu=False),
        lambda g: reference.amsgrad(g, X0, 1e-2, 0.9, 0.99), True),
    "nadam, constant mu (Dozat, Alg. 2)": (
        adamx.nadam(2e-3, 0.9, 0.999, 1e-8),
        lambda g: reference.nadam(g, X0, 2e-3, 0.9, 0.999, 1e-8), False),
    "nadam, mu schedule (Dozat, §3)": (
        adamx.nadam(2e-3, 0.9, 0.999, 1e-8, momentum_decay=4e-3),
        lambda g: reference.nadam(g, X0, 2e-3, 0.9, 0.999, 1e-8, momentum_decay=4e-3), False),
    "adadelta (Zeiler, Alg. 1)": (
        adamx.adadelta(rho=0.95, eps=1e-6),
        lambda g: reference.adadelta(g, X0, 0.95, 1e-6), False),
    "adagrad (Duchi et al., diagonal)": (
        adamx.adagrad(0.1, initial_accumulator_value=0.0, eps=1e-8, eps_in_sqrt=False),
        lambda g: reference.adagrad(g, X0, 0.1, 1e-8), False),
    "rmsprop (Hinton, lecture 6e)": (
        adamx.rmsprop(1e-3, 0.9, 1e-8, eps_in_sqrt=False),
        lambda g: reference.rmsprop(g, X0, 1e-3, 0.9, 1e-8), False),
    "rmsprop centered + momentum (Graves, eqs. 38-41)": (
        adamx.rmsprop(1e-3, 0.95, 1e-4, centered=True, momentum=0.9),
        lambda g: reference.rmsprop_graves(g, X0, 1e-3, 0.95, 0.9, 1e-4), False),
    "radam (Liu et al., Alg. 2)": (
        adamx.radam(1e-2, 0.9, 0.999, 1e-8),
        lambda g: reference.radam(g, X0, 1e-2, 0.9, 0.999, 1e-8), False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_paper(case):
  opt, loop, dense = CASES[case]
  grads = sequence(7, dense=dense)
  assert relative_difference(run(opt, grads, X0), loop(grads)) <= TOLERANCE["reference"]
