"""adamx.compat.torch.X(**kwargs) reproduces torch.optim.X(params, **kwargs), float64."""

import jax.numpy as jnp
import numpy as np
import pytest
import torch

import adamx
from adamx.compat import torch as adamx_torch
from tests.trajectories import (
    TOLERANCE, gradient_sequence, initial_params, relative_difference, run_adamx, run_torch,
)

# (class name, kwargs): at least two settings each, non-default values included.
CASES = [
    ("SGD", dict(lr=1e-3)),
    ("SGD", dict(lr=2e-3, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=2e-3, momentum=0.8, nesterov=True, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1,
                     eps=1e-6)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=1e-3, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=1e-3, centered=True, momentum=0.5, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.01)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=3e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
    ("Adam", dict(lr=1e-2, amsgrad=True, betas=(0.7, 0.95))),
    ("Adam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("AdamW", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, betas=(0.85, 0.99), weight_decay=0.1, amsgrad=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=1e-2, betas=(0.5, 0.9), eps=1e-4, weight_decay=0.01)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=1e-2, betas=(0.95, 0.98), momentum_decay=1e-2, weight_decay=0.01)),
    ("NAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=1e-2, betas=(0.8, 0.99), weight_decay=0.01)),
    ("RAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
]


def torch_difference(name: str, kwargs: dict, seed: int = 0) -> float:
  grads = gradient_sequence(seed)
  params = initial_params(seed)
  mine = run_adamx(getattr(adamx_torch, name)(**kwargs), grads, params)
  theirs = run_torch(lambda ps: getattr(torch.optim, name)(ps, **kwargs), grads, params)
  return relative_difference(mine, theirs)


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch(name, kwargs):
  assert torch_difference(name, kwargs) <= TOLERANCE["peer"]


def test_torch_kernel_switches_are_accepted_and_ignored():
  opt = adamx_torch.Adam(lr=1e-3, foreach=True, fused=False, capturable=True, differentiable=False)
  assert opt.init({"w": np.zeros(2)}) is not None


def schedule(count):
  return 1e-2 * 0.5 ** (jnp.asarray(count, jnp.float64) / 50)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_rmsprop_with_schedule_applies_the_rate_after_the_buffer(momentum):
  """torch's RMSprop scales the buffer by the current lr; Optax's keeps lr inside it."""
  grads, params = gradient_sequence(1), initial_params(1)
  theirs = run_torch(lambda ps: torch.optim.RMSprop(ps, lr=schedule(0), momentum=momentum),
                     grads, params, lr_at=lambda count: float(schedule(count)))
  mine = run_adamx(adamx_torch.RMSprop(lr=schedule, momentum=momentum), grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["peer"]
  optax_style = run_adamx(
      adamx.rmsprop(schedule, 0.99, 1e-8, eps_in_sqrt=False, momentum=momentum), grads, params)
  if momentum:  # the two placements differ only when there is a buffer
    assert relative_difference(optax_style, theirs) > 1e-3


@pytest.mark.parametrize(("method", "kwargs", "torch_kwargs"), [
    ("adam", dict(learning_rate=1e-2, b1=0.8, b2=0.99, eps=1e-6), dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6)),
    ("amsgrad", dict(learning_rate=1e-2, max_before_correction=True), dict(lr=1e-2, amsgrad=True)),
    ("adamw", dict(learning_rate=1e-2, weight_decay=0.1), dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
])
def test_named_methods_reproduce_torch_adam(method, kwargs, torch_kwargs):
  grads, params = gradient_sequence(2), initial_params(2)
  mine = run_adamx(getattr(adamx, method)(**kwargs), grads, params)
  theirs = run_torch(lambda ps: torch.optim.Adam(ps, **torch_kwargs), grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["peer"]


def test_named_methods_reproduce_torch_nadam_radam_rmsprop():
  grads, params = gradient_sequence(3), initial_params(3)
  pairs = [
      (adamx.nadam(2e-3, momentum_decay=4e-3), lambda ps: torch.optim.NAdam(ps)),
      (adamx.radam(1e-3, eps_hat=True), lambda ps: torch.optim.RAdam(ps)),
      (adamx.rmsprop(1e-2, 0.99, 1e-8, eps_in_sqrt=False, momentum=0.9, lr_in_momentum=False),
       lambda ps: torch.optim.RMSprop(ps, momentum=0.9)),
      (adamx.adagrad(1e-2, 0.0, 1e-10, eps_in_sqrt=False), lambda ps: torch.optim.Adagrad(ps)),
  ]
  for opt, make in pairs:
    assert relative_difference(run_adamx(opt, grads, params), run_torch(make, grads, params)) <= TOLERANCE["peer"]
