"""A whole jitted training step on a deep MLP, and where its time goes.

The update alone can hide where the time goes: the backward pass also costs
per leaf. ``depth`` residual tanh layers of ``width`` units, each with a
weight and a bias: ``2 * depth`` leaves (500 at the default depth of 250).
Each optimizer is timed three ways, compile and run: the whole step
(forward, backward, update, apply), the optimizer alone (the update and its
application on a fixed gradient) and, once for all, the forward and backward
pass alone (``jax.grad``).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import optax

import adamx
from benchmarks.variants import LR, Runner, _nbytes


def init_mlp(depth: int, width: int) -> list[dict[str, jax.Array]]:
  key = jax.random.key(0)
  return [{"w": jax.random.normal(jax.random.fold_in(key, i), (width, width), jnp.float32)
               / jnp.sqrt(jnp.float32(width)) * 0.5,
           "b": jnp.zeros((width,), jnp.float32)} for i in range(depth)]


def loss(params, x, y):
  h = x
  for layer in params:
    h = h + jnp.tanh(h @ layer["w"] + layer["b"])
  return jnp.mean((h - y) ** 2)


def _data(width: int, batch: int):
  key = jax.random.key(1)
  return (jax.random.normal(jax.random.fold_in(key, 0), (batch, width), jnp.float32),
          jax.random.normal(jax.random.fold_in(key, 1), (batch, width), jnp.float32))


def _runner(fn, args, donate, state_bytes=0):
  """Compiles ``fn(*args)`` (timed); ``step()`` feeds its outputs back as the donated args."""
  start = time.perf_counter()
  compiled = jax.jit(fn, donate_argnums=donate).lower(*args).compile()
  seconds = time.perf_counter() - start
  box = list(args)

  def run():
    out = compiled(*box)
    for i, x in zip(donate, out if isinstance(out, tuple) else (out,)):
      box[i] = x
    jax.block_until_ready(out)

  return Runner(run, seconds, state_bytes, 28)


def variants(depth: int, width: int, batch: int) -> dict[str, callable]:
  """Name -> setup; names are ``<optimizer> <part>`` (part: step, update) or the grad pass."""
  x, y = _data(width, batch)
  grad = jax.grad(loss)

  def optimizer(name):
    if name == "optax.adam":
      return optax.adam(LR), lambda opt, p, g, s: _apply(opt, p, g, s)
    if name == "adamx.adam":
      return adamx.adam(LR), lambda opt, p, g, s: _apply(opt, p, g, s)
    opt = adamx.fused(adamx.adam(LR))
    return opt, lambda opt, p, g, s: opt.step(p, g, s)

  def whole_step(name):
    def setup():
      opt, apply = optimizer(name)
      params = init_mlp(depth, width)
      state = opt.init(params)
      return _runner(lambda p, s: apply(opt, p, grad(p, x, y), s), (params, state), (0, 1),
                     _nbytes(state))
    return setup

  def update_only(name):
    def setup():
      opt, apply = optimizer(name)
      params = init_mlp(depth, width)
      grads = grad(params, x, y)
      state = opt.init(params)
      return _runner(lambda p, g, s: apply(opt, p, g, s), (params, grads, state), (0, 2),
                     _nbytes(state))
    return setup

  def grad_only():
    params = init_mlp(depth, width)
    return _runner(lambda p: grad(p, x, y), (params,), ())

  out = {"forward+backward": grad_only}
  for name in ("optax.adam", "adamx.adam", "fused adam"):
    out[f"{name} step"] = whole_step(name)
    out[f"{name} update"] = update_only(name)
  return out


def _apply(opt, params, grads, state):
  updates, state = opt.update(grads, state, params)
  return optax.apply_updates(params, updates), state
