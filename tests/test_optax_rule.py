"""One rule: a public name that Optax also has takes Optax's arguments, with
Optax's names and defaults, and gives Optax's numbers (float64 and complex128).

Extra adamx arguments are keyword-only. The deliberate differences are the
rows of DELIBERATE (tests/peers.py), which README's table and the docs repeat.
"""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adamx
from tests.peers import DELIBERATE
from tests.trajectories import (
    TOLERANCE, gradient_sequence, initial_params, relative_difference, run_adamx, run_optax,
)

SHARED = sorted(n for n in dir(adamx) if not n.startswith("_") and hasattr(optax, n))

# adamx-only arguments that select the Optax variant where adamx's default differs.
OPTAX_VARIANT = {"rprop": dict(one_step_late=True)}
# Names whose numbers are compared elsewhere, because Optax's fails on this problem.
ELSEWHERE = {"sm3": "Optax's sm3 fails on 0-d parameters: tests/test_factored.py compares "
                    "it on the matrix and vector"}
NO_COMPLEX_PEER = {"sm3", "rprop"}  # Optax's refuse complex parameters

# name -> arguments for the numbers check (methods with many settings are in
# tests/test_vs_optax.py; this row is one more setting, with complex too).
ARGS = {
    "adabelief": dict(learning_rate=1e-2, b1=0.8),
    "adafactor": dict(learning_rate=1e-2, min_dim_size_to_factor=2),
    "adadelta": dict(learning_rate=0.5, rho=0.95, weight_decay=0.01),
    "adagrad": dict(learning_rate=0.1),
    "adam": dict(learning_rate=1e-2, b1=0.8),
    "adamax": dict(learning_rate=1e-2),
    "adamaxw": dict(learning_rate=1e-2, weight_decay=0.1),
    "adamw": dict(learning_rate=1e-2, weight_decay=0.1, mask=lambda p: {k: k != "b" for k in p}),
    "adan": dict(learning_rate=1e-2),
    "add_decayed_weights": dict(weight_decay=0.1, mask={"w": True, "b": False, "s": True}),
    "amsgrad": dict(learning_rate=1e-2),
    "chain": (),
    "clip": dict(max_delta=0.5),
    "fromage": dict(learning_rate=0.1),
    "identity": dict(),
    "lamb": dict(learning_rate=1e-2, weight_decay=0.1),
    "lars": dict(learning_rate=0.5, weight_decay=0.01, nesterov=True),
    "lion": dict(learning_rate=1e-3, weight_decay=0.1),
    "nadam": dict(learning_rate=1e-2),
    "nadamw": dict(learning_rate=1e-2),
    "novograd": dict(learning_rate=1e-2, weight_decay=0.01),
    "optimistic_adam": dict(learning_rate=1e-2),
    "optimistic_adam_v2": dict(learning_rate=1e-2),
    "optimistic_gradient_descent": dict(learning_rate=1e-2, alpha=0.5, beta=1.5),
    "radam": dict(learning_rate=1e-2),
    "rmsprop": dict(learning_rate=1e-2, centered=True, momentum=0.9),
    "rprop": dict(learning_rate=1e-2),
    "scale": dict(step_size=-0.3),
    "scale_by_adam": dict(b2=0.99),
    "scale_by_adan": dict(),
    "scale_by_learning_rate": dict(learning_rate=0.05),
    "scale_by_optimistic_gradient": dict(alpha=0.3, beta=0.6),
    "scale_by_param_block_rms": dict(),
    "scale_by_rms": dict(decay=0.95),
    "scale_by_schedule": dict(step_size_fn=lambda count: 1e-2 / (1 + count)),
    "scale_by_sign": dict(),
    "scale_by_trust_ratio": dict(min_norm=1e-3, trust_coefficient=0.5, eps=1e-6),
    "sgd": dict(learning_rate=1e-3, momentum=0.9, nesterov=True),
    "sign_sgd": dict(learning_rate=1e-2),
    "sm3": dict(learning_rate=0.1),
    "signum": dict(learning_rate=1e-2, beta=0.8),
    "yogi": dict(learning_rate=1e-2),
}


def build(library, name):
  if name == "chain":
    return library.chain(library.scale(2.0), library.scale_by_learning_rate(0.01))
  if name == "scale_by_param_block_rms":  # alone it grows the parameters without bound
    return library.chain(optax.clip_by_global_norm(1.0), library.scale_by_param_block_rms(),
                         library.scale(1e-3))
  extra = OPTAX_VARIANT.get(name, {}) if library is adamx else {}
  return getattr(library, name)(**ARGS[name], **extra)


def test_every_shared_name_is_checked():
  assert SHARED == sorted(ARGS)
  assert set(ELSEWHERE) <= set(SHARED)


@pytest.mark.parametrize("name", SHARED)
def test_signature_is_optax_s(name):
  mine = inspect.signature(getattr(adamx, name)).parameters
  theirs = inspect.signature(getattr(optax, name)).parameters
  for position, (arg, want) in enumerate(theirs.items()):
    assert arg in mine, f"adamx.{name} lacks Optax's argument {arg!r}"
    got = mine[arg]
    if want.kind is want.POSITIONAL_OR_KEYWORD:
      assert list(mine).index(arg) == position, f"{arg!r} is not at Optax's position"
    assert got.kind == want.kind, f"{arg!r}: {got.kind} vs Optax's {want.kind}"
    if name in DELIBERATE and got.default != want.default:
      continue
    assert got.default == want.default, f"{arg!r}: default {got.default} vs {want.default}"
  extra = [p for arg, p in mine.items() if arg not in theirs]
  assert all(p.kind is p.KEYWORD_ONLY for p in extra), f"extra positional arguments: {extra}"


@pytest.mark.parametrize("name", [n for n in SHARED if n not in ELSEWHERE])
def test_numbers_are_optax_s(name):
  grads, params = gradient_sequence(3), initial_params(3)
  mine = run_adamx(build(adamx, name), grads, params)
  theirs = run_optax(build(optax, name), grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["peer"]


def complex_problem(seed=5, steps=120):
  rng = np.random.default_rng(seed)
  shape = (3, 4)
  draw = lambda: rng.normal(size=shape) * 10.0 ** rng.uniform(-3, 3, size=shape)  # noqa: E731
  grads = []
  for step in range(steps):
    g = draw() + 1j * draw()
    g = np.where(rng.uniform(size=shape) < 0.15, 0, g)
    grads.append({"z": g * (step % 37 != 5)})
  return grads, {"z": rng.normal(size=shape) + 1j * rng.normal(size=shape)}


def run_complex(opt, grads, params, standard=False):
  def scan(p):
    def step(carry, g):
      p, s = carry
      u, s = opt.update(g, s, p)
      p = optax.apply_updates(p, u)
      return (p, s), p["z"]
    stacked = {"z": jnp.asarray(np.stack([g["z"] for g in grads]))}
    return jax.lax.scan(step, (p, opt.init(p)), stacked)[1]

  p0 = jax.tree.map(jnp.asarray, params)
  if standard:
    with jax.numpy_dtype_promotion("standard"):
      return np.asarray(jax.jit(scan)(p0))
  return np.asarray(jax.jit(scan)(p0))


def complex_difference(a, b):
  a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
  return float((np.abs(a - b).max(axis=1) / np.abs(b).max(axis=1)).max())


@pytest.mark.parametrize("name", [n for n in SHARED if n not in (
    "adadelta", "add_decayed_weights", "adamw", "chain", "clip", *NO_COMPLEX_PEER)])
def test_complex128_numbers_are_optax_s(name):
  grads, params = complex_problem()
  mine = run_complex(build(adamx, name), grads, params)
  theirs = run_complex(build(optax, name), grads, params, standard=True)
  assert mine.dtype == np.complex128
  assert complex_difference(mine, theirs) <= TOLERANCE["peer"]


@pytest.mark.parametrize("name", ["adamw", "nadamw"])
def test_complex128_weight_decay_is_optax_s(name):
  grads, params = complex_problem()
  args = dict(learning_rate=1e-2, weight_decay=0.1)
  mine = run_complex(getattr(adamx, name)(**args), grads, params)
  theirs = run_complex(getattr(optax, name)(**args), grads, params, standard=True)
  assert complex_difference(mine, theirs) <= TOLERANCE["peer"]


def test_complex_adadelta_converges_where_optax_stalls():
  """Optax's adadelta averages g^2 of complex updates (complex, not |g|^2)."""
  target = jnp.asarray([1 + 2j, -3 + 0.5j, 0.2 - 1j])
  loss = lambda z: jnp.sum(jnp.abs(z - target) ** 2)  # noqa: E731

  def final_loss(opt):
    z = jnp.zeros(3, jnp.complex128)
    state = opt.init(z)
    for _ in range(1000):
      updates, state = opt.update(jnp.conj(jax.grad(loss)(z)), state, z)
      z = optax.apply_updates(z, updates)
    return float(loss(z))

  assert final_loss(adamx.adadelta(1.0)) < 1e-12
  with jax.numpy_dtype_promotion("standard"):
    assert final_loss(optax.adadelta(1.0)) > 1.0


def test_scale_by_rms_puts_eps_inside_the_root_as_optax():
  """The first update for a gradient of 1e-3: 3.015 with eps inside (Optax's default)."""
  g = jnp.asarray([1e-3])
  for opt, want in ((adamx.scale_by_rms(), 3.015), (adamx.scale_by_rms(eps_in_sqrt=False), 3.162)):
    assert float(opt.update(g, opt.init(g))[0][0]) == pytest.approx(want, abs=1e-3)


def test_clip_refuses_complex_updates_with_a_clear_error():
  opt = adamx.clip(1.0)
  z = jnp.ones(2, jnp.complex64)
  with pytest.raises(TypeError, match="clip: complex updates have no order"):
    opt.update(z, opt.init(z))
