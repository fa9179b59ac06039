"""One optimizer step per variant, set up for timing.

A variant's ``setup(shapes, grads)`` allocates its parameters and state,
compiles its step (timed) and returns a :class:`Runner` whose ``step()`` runs
one update and waits for it. JAX variants jit the update *and* its application
with the parameters and state donated; torch variants call ``optimizer.step()``
on parameters whose ``.grad`` is set once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

import adamx
from adamx._fast.adam import fused_adam

LR = 1e-3


@dataclasses.dataclass
class Runner:
  step: Callable[[], None]
  compile_s: float | None
  state_bytes: int
  bytes_per_param: int  # minimum memory traffic of one step, per parameter


@dataclasses.dataclass
class Variant:
  name: str
  family: str  # "jax" or "torch"
  setup: Callable[..., Runner]
  slow_compile: bool = False  # skipped by --skip-slow on many-leaf trees


def _nbytes(tree: Any) -> int:
  return sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(tree) if hasattr(x, "dtype"))


def _traffic(moment_dtype: Any) -> int:
  """Bytes moved per float32 parameter: read p, g, m, v; write p, m, v."""
  return 4 * 3 + 2 * 2 * jnp.dtype(moment_dtype).itemsize


def _jax_params(shapes, seed=0):
  key = jax.random.key(seed)
  return [jax.random.normal(jax.random.fold_in(key, i), s, jnp.float32) * 0.02
          for i, s in enumerate(shapes)]


def _compile(fn, *args):
  start = time.perf_counter()
  compiled = fn.lower(*args).compile()
  return compiled, time.perf_counter() - start


def _tree_runner(make_opt, moment_dtype=jnp.float32):
  """optax-style: ``update`` then ``optax.apply_updates``, in one jit."""

  def setup(shapes, grads):
    opt = make_opt()
    params = _jax_params(shapes)
    state = opt.init(params)

    def step(params, grads, state):
      updates, state = opt.update(grads, state, params)
      return optax.apply_updates(params, updates), state

    return _donating_runner(step, params, grads, state, moment_dtype)

  return setup


def _donating_runner(step, params, grads, state, moment_dtype) -> "Runner":
  """Compiles ``step(params, grads, state)`` with params and state donated."""
  compiled, seconds = _compile(jax.jit(step, donate_argnums=(0, 2)), params, grads, state)
  box = [params, state]

  def run():
    box[0], box[1] = compiled(box[0], grads, box[1])
    jax.block_until_ready(box[0])

  return Runner(run, seconds, _nbytes(state), _traffic(moment_dtype))


def _fused_runner(moment_dtype=jnp.float32, flat=False):
  """``fused_adam(...).step``: one kernel, parameters updated in place."""

  def setup(shapes, grads):
    opt = fused_adam(LR, mu_dtype=moment_dtype, nu_dtype=moment_dtype)
    params = _jax_params(shapes)
    if flat:  # one buffer for all parameters, as a loop using ravel_pytree keeps them
      params, _ = ravel_pytree(params)
      grads = ravel_pytree(grads)[0]
    return _donating_runner(opt.step, params, grads, opt.init(params), moment_dtype)

  return setup


def _torch_runner(**options):
  def setup(shapes, grads):
    import torch
    device = "cuda" if torch.cuda.is_available() else "cpu"
    params = [torch.nn.Parameter(torch.from_numpy(np.array(p)).to(device))
              for p in _jax_params(shapes)]
    for p, g in zip(params, grads):
      p.grad = g
    opt = torch.optim.Adam(params, lr=LR, **options)
    opt.step()  # creates the state
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def run():
      opt.step()
      sync()

    state = sum(t.numel() * t.element_size() for s in opt.state.values()
                for t in s.values() if torch.is_tensor(t) and t.dim() > 0)
    return Runner(run, None, state, 28)

  return setup


def jax_available_fused() -> bool:
  return jax.default_backend() == "cpu"


def all_variants() -> list[Variant]:
  """Every variant, in table order."""
  bf16 = jnp.bfloat16
  out = [
      Variant("optax.adam", "jax", _tree_runner(lambda: optax.adam(LR)), slow_compile=True),
      Variant("adamx.adam", "jax", _tree_runner(lambda: adamx.adam(LR)), slow_compile=True),
      Variant("adamx.adam bf16", "jax",
              _tree_runner(lambda: adamx.adam(LR, mu_dtype=bf16, nu_dtype=bf16), bf16),
              slow_compile=True),
  ]
  if jax_available_fused():
    out += [
        Variant("fused_adam", "jax", _fused_runner()),
        Variant("fused_adam flat", "jax", _fused_runner(flat=True)),
        Variant("fused_adam bf16", "jax", _fused_runner(bf16)),
    ]
  out += [
      Variant("torch fused", "torch", _torch_runner(fused=True)),
      Variant("torch foreach", "torch", _torch_runner(foreach=True)),
      Variant("torch for-loop", "torch", _torch_runner(foreach=False)),
  ]
  return out
