"""Gradient sequences, trajectory runners and the one tolerance table.

Peer comparisons feed the *same* fixed gradient sequence to adamx and to a
peer and compare the parameter trajectories step by step.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

# Relative trajectory difference allowed, by what is compared.
TOLERANCE = {
    "peer": 1e-10,  # adamx vs optax / torch.optim, float64
    "reference": 1e-10,  # adamx vs the papers' loops, float64
    "invariance": 1e-9,  # rescaled gradients, float64 (rounding only)
}

SHAPES = {"w": (3, 4), "b": (4,), "s": ()}
STEPS = 200


def gradient_sequence(seed: int, steps: int = STEPS, *, dense: bool = False) -> list[dict]:
  """Gradients mixing scales 1e-3..1e3, with sparse exact zeros and all-zero steps.

  ``dense=True`` gives nonzero gradients only (for the papers' loops, some
  of which divide by zero on a zero gradient).
  """
  rng = np.random.default_rng(seed)
  sequence = []
  for step in range(steps):
    grads = {}
    for name, shape in SHAPES.items():
      g = rng.normal(size=shape) * 10.0 ** rng.uniform(-3, 3, size=shape)
      if not dense:
        g = np.where(rng.uniform(size=shape) < 0.15, 0.0, g)
        if step % 37 == 5:  # a whole all-zero step
          g = np.zeros(shape)
      grads[name] = g
    sequence.append(grads)
  return sequence


def initial_params(seed: int = 0) -> dict:
  rng = np.random.default_rng(1000 + seed)
  return {name: rng.normal(size=shape) for name, shape in SHAPES.items()}


def stack(sequence: list[dict]) -> dict:
  return {name: np.stack([g[name] for g in sequence]) for name in SHAPES}


def run_adamx(opt: optax.GradientTransformation, sequence: list[dict], params: dict) -> np.ndarray:
  """Parameter trajectory (steps x all coordinates) under ``opt``, jitted scan."""
  return _run(opt, sequence, params)


def run_optax(opt: optax.GradientTransformation, sequence: list[dict], params: dict) -> np.ndarray:
  """As :func:`run_adamx`; Optax itself needs standard dtype promotion."""
  with jax.numpy_dtype_promotion("standard"):
    return _run(opt, sequence, params)


def scan_path(opt: optax.GradientTransformation, params: Any, grads: Any) -> Any:
  """Parameters after each step of ``opt`` over stacked ``grads`` (traceable)."""

  def step(carry, g):
    p, state = carry
    updates, state = opt.update(g, state, p)
    p = optax.apply_updates(p, updates)
    return (p, state), p

  return jax.lax.scan(step, (params, opt.init(params)), grads)[1]


def _run(opt, sequence, params):
  p0 = jax.tree.map(jnp.asarray, params)
  path = jax.jit(lambda p: scan_path(opt, p, stack(sequence)))(p0)
  return flatten_path(path)


def flatten_path(path: dict) -> np.ndarray:
  return np.concatenate([np.asarray(path[k]).reshape(len(path[k]), -1) for k in SHAPES], axis=1)


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
  """max over steps of ||a_t - b_t||_inf / ||b_t||_inf."""
  scale = np.maximum(np.abs(b).max(axis=1), np.finfo(np.float64).tiny)
  return float((np.abs(a - b).max(axis=1) / scale).max())


def run_torch(make_optimizer: Any, sequence: list[dict], params: dict, lr_at: Any = None) -> np.ndarray:
  """Trajectory under a torch.optim optimizer in float64.

  ``lr_at(count)`` (count = 0, 1, ...) sets the group's lr before each step,
  as a torch LR scheduler would; it mirrors an adamx schedule.
  """
  import torch

  # torch keeps scalars such as NAdam's mu_product in the default dtype.
  previous = torch.get_default_dtype()
  torch.set_default_dtype(torch.float64)
  try:
    return _torch_path(make_optimizer, sequence, params, lr_at)
  finally:
    torch.set_default_dtype(previous)


def _torch_path(make_optimizer, sequence, params, lr_at):
  import torch

  tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
  opt = make_optimizer([tensors[k] for k in SHAPES])
  path = []
  for count, grads in enumerate(sequence):
    if lr_at is not None:
      for group in opt.param_groups:
        group["lr"] = lr_at(count)
    for k in SHAPES:
      tensors[k].grad = torch.tensor(grads[k], dtype=torch.float64)
    opt.step()
    path.append(np.concatenate([tensors[k].detach().numpy().reshape(-1) for k in SHAPES]))
  return np.stack(path)


def final_state(opt: optax.GradientTransformation, steps: int = 7) -> Any:
  """The state of ``opt`` after ``steps`` steps of the hard sequence (seed 0), eagerly."""
  params = jax.tree.map(jnp.asarray, initial_params(0))
  state = opt.init(params)
  for g in gradient_sequence(0, steps):
    updates, state = opt.update(jax.tree.map(jnp.asarray, g), state, params)
    params = optax.apply_updates(params, updates)
  return state
