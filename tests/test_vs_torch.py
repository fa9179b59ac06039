"""adamx.compat.torch.X(**kwargs) reproduces torch.optim.X(params, **kwargs), float64."""

import jax.numpy as jnp
import numpy as np
import pytest
import torch

import adamx
from adamx.compat import torch as adamx_torch
from tests.peers import TORCH_CASES, TORCH_EQUIVALENTS
from tests.trajectories import (
    TOLERANCE, gradient_sequence, initial_params, relative_difference, run_adamx, run_torch,
)



def torch_difference(name: str, kwargs: dict, seed: int = 0) -> float:
  grads = gradient_sequence(seed)
  params = initial_params(seed)
  mine = run_adamx(getattr(adamx_torch, name)(**kwargs), grads, params)
  theirs = run_torch(lambda ps: getattr(torch.optim, name)(ps, **kwargs), grads, params)
  return relative_difference(mine, theirs)


@pytest.mark.parametrize(("name", "kwargs"), TORCH_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(TORCH_CASES)])
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


@pytest.mark.parametrize(("method", "kwargs", "torch_class", "torch_kwargs"), TORCH_EQUIVALENTS)
def test_named_methods_reproduce_torch(method, kwargs, torch_class, torch_kwargs):
  grads, params = gradient_sequence(2), initial_params(2)
  mine = run_adamx(getattr(adamx, method)(**kwargs), grads, params)
  theirs = run_torch(lambda ps: getattr(torch.optim, torch_class)(ps, **torch_kwargs), grads, params)
  assert relative_difference(mine, theirs) <= TOLERANCE["peer"]


@pytest.mark.parametrize("name", adamx_torch.__all__)
def test_torch_calling_form_takes_the_parameters_and_ignores_them(name):
  """``X(model.parameters(), lr=...)`` as a torch user writes it: the same optimizer."""
  grads, params = gradient_sequence(4, steps=30), initial_params(4)
  tensors = [torch.zeros(2, requires_grad=True)]
  plain = run_adamx(getattr(adamx_torch, name)(lr=1e-2), grads, params)
  for calling_form in (getattr(adamx_torch, name)(tensors, lr=1e-2),
                       getattr(adamx_torch, name)(params=iter(tensors), lr=1e-2),
                       getattr(adamx_torch, name)([{"params": tensors}], lr=1e-2)):
    np.testing.assert_array_equal(run_adamx(calling_form, grads, params), plain)


@pytest.mark.parametrize(("args", "says"), [
    ((1e-3,), "Pass the learning rate by name: adamx.compat.torch.AdamW(lr=...)"),
    ((jnp.asarray(1e-3),), "first positional argument is torch's `params`"),
    (("1e-3",), "first positional argument is torch's `params`"),
    ((lambda count: 1e-3,), "first positional argument is torch's `params`"),
    (([{"params": [], "lr": 1e-2, "weight_decay": 0.0}],),
     "group 0 has options (lr, weight_decay) but its 'params' is not a path pattern"),
])
def test_torch_calling_form_refuses_what_it_would_silently_ignore(args, says):
  with pytest.raises(TypeError) as error:
    adamx_torch.AdamW(*args)
  assert "torch.optim.AdamW" in str(error.value) and says in str(error.value)
