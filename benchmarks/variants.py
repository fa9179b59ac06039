"""One optimizer step per variant, set up for timing.

A variant's ``setup(shapes, grads)`` allocates its parameters and state,
compiles its step (timed) and returns a :class:`Runner` whose ``step()`` runs
one update and waits for it. JAX variants jit the update *and* its application
with the parameters and state donated, on the parameter tree unchanged (a
list of leaves); torch variants call ``optimizer.step()`` on parameters whose
``.grad`` is set once.

Every variant belongs to a method (Adam, AdamW, SGD with momentum, Lion): the
ratios of a row are against ``optax.<method>`` and torch's fused version of
the same method, timed in the same rounds.
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

import adamx

LR = 1e-3
WEIGHT_DECAY = 1e-2
MOMENTUM = 0.9
METHODS = ("adam", "adamw", "sgd", "lion", "adagrad")


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
  method: str  # one of METHODS
  setup: Callable[..., Runner]
  slow_compile: bool = False  # skipped by --skip-slow on many-leaf trees


def _nbytes(tree: Any) -> int:
  return sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(tree) if hasattr(x, "dtype"))


def traffic(method: str, moment_dtype: Any = jnp.float32) -> int:
  """Bytes moved per float32 parameter: read p, g and the state; write p and the state."""
  moments = 2 if method in ("adam", "adamw") else 1
  return 4 * 3 + 2 * moments * jnp.dtype(moment_dtype).itemsize


def _jax_params(shapes, seed=0):
  key = jax.random.key(seed)
  return [jax.random.normal(jax.random.fold_in(key, i), s, jnp.float32) * 0.02
          for i, s in enumerate(shapes)]


def _compile(fn, *args):
  start = time.perf_counter()
  compiled = fn.lower(*args).compile()
  return compiled, time.perf_counter() - start


def _donating_runner(step, params, grads, state, bytes_per_param) -> Runner:
  """Compiles ``step(params, grads, state)`` with params and state donated."""
  compiled, seconds = _compile(jax.jit(step, donate_argnums=(0, 2)), params, grads, state)
  box = [params, state]

  def run():
    box[0], box[1] = compiled(box[0], grads, box[1])
    jax.block_until_ready(box[0])

  return Runner(run, seconds, _nbytes(state), bytes_per_param)


def _tree_runner(make_opt, method, moment_dtype=jnp.float32):
  """optax-style: ``update`` then ``optax.apply_updates``, in one jit."""

  def setup(shapes, grads):
    opt = make_opt()
    params = _jax_params(shapes)

    def step(params, grads, state):
      updates, state = opt.update(grads, state, params)
      return optax.apply_updates(params, updates), state

    return _donating_runner(step, params, grads, opt.init(params), traffic(method, moment_dtype))

  return setup


def _fused_runner(make_method, method, moment_dtype=jnp.float32):
  """``adamx.fused(method).step`` on the unchanged tree: one pass, in place."""

  def setup(shapes, grads):
    opt = adamx.fused(make_method())
    params = _jax_params(shapes)
    return _donating_runner(opt.step, params, grads, opt.init(params), traffic(method, moment_dtype))

  return setup


def _floor_runner(shapes, grads):
  """The boundary floor: the fused Adam step's buffers in and out, ``p - lr * g`` inside.

  No Adam step on this tree can cost less than moving these buffers across
  ``jax.jit`` plus one pass over p and g.
  """
  opt = adamx.fused(adamx.adam(LR))
  params = _jax_params(shapes)

  def step(params, grads, state):
    return [p - LR * g for p, g in zip(params, grads)], state

  return _donating_runner(step, params, grads, opt.init(params), 12)


def _torch_runner(method, **options):
  def setup(shapes, grads):
    import torch
    device = "cuda" if torch.cuda.is_available() else "cpu"
    params = [torch.nn.Parameter(torch.from_numpy(np.array(p)).to(device))
              for p in _jax_params(shapes)]
    for p, g in zip(params, grads):
      p.grad = g
    make = {"adam": lambda: torch.optim.Adam(params, lr=LR, **options),
            "adamw": lambda: torch.optim.AdamW(params, lr=LR, weight_decay=WEIGHT_DECAY, **options),
            "sgd": lambda: torch.optim.SGD(params, lr=LR, momentum=MOMENTUM, **options),
            "adagrad": lambda: torch.optim.Adagrad(params, lr=LR, **options)}[method]
    opt = make()
    opt.step()  # creates the state
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def run():
      opt.step()
      sync()

    state = sum(t.numel() * t.element_size() for s in opt.state.values()
                for t in s.values() if torch.is_tensor(t) and t.dim() > 0)
    return Runner(run, None, state, traffic(method))

  return setup


def _composed(method: str) -> Callable[[], Any]:
  return {"adam": lambda: adamx.adam(LR), "adamw": lambda: adamx.adamw(LR, weight_decay=WEIGHT_DECAY),
          "sgd": lambda: adamx.sgd(LR, momentum=MOMENTUM),
          "lion": lambda: adamx.lion(LR, weight_decay=WEIGHT_DECAY),
          "adagrad": lambda: adamx.adagrad(LR)}[method]


def _optax(method: str) -> Callable[[], Any]:
  return {"adam": lambda: optax.adam(LR), "adamw": lambda: optax.adamw(LR, weight_decay=WEIGHT_DECAY),
          "sgd": lambda: optax.sgd(LR, momentum=MOMENTUM),
          "lion": lambda: optax.lion(LR, weight_decay=WEIGHT_DECAY),
          "adagrad": lambda: optax.adagrad(LR)}[method]


def all_variants() -> list[Variant]:
  """Every variant, in table order: Adam's in full, then the other fused methods."""
  bf16 = jnp.bfloat16
  fused_here = jax.default_backend() == "cpu"
  out = [
      Variant("optax.adam", "jax", "adam", _tree_runner(_optax("adam"), "adam"), slow_compile=True),
      Variant("adamx.adam", "jax", "adam", _tree_runner(_composed("adam"), "adam"),
              slow_compile=True),
      Variant("adamx.adam bf16", "jax", "adam",
              _tree_runner(lambda: adamx.adam(LR, mu_dtype=bf16, nu_dtype=bf16), "adam", bf16),
              slow_compile=True),
  ]
  if fused_here:
    out += [
        Variant("fused adam", "jax", "adam", _fused_runner(_composed("adam"), "adam")),
        Variant("fused adam bf16", "jax", "adam",
                _fused_runner(lambda: adamx.adam(LR, mu_dtype=bf16, nu_dtype=bf16), "adam", bf16)),
        Variant("boundary floor", "jax", "adam", _floor_runner),
    ]
  out += [
      Variant("torch fused", "torch", "adam", _torch_runner("adam", fused=True)),
      Variant("torch foreach", "torch", "adam", _torch_runner("adam", foreach=True)),
      Variant("torch for-loop", "torch", "adam", _torch_runner("adam", foreach=False)),
  ]
  for method in METHODS[1:]:
    out.append(Variant(f"optax.{method}", "jax", method, _tree_runner(_optax(method), method),
                       slow_compile=True))
    if fused_here:
      out.append(Variant(f"fused {method}", "jax", method, _fused_runner(_composed(method), method)))
    if method != "lion":  # torch.optim has no Lion
      out.append(Variant(f"torch fused {method}", "torch", method,
                         _torch_runner(method, fused=True)))
  return out
