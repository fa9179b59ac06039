"""A whole jitted training step (forward, backward, update) on a deep MLP.

The update alone can hide where the time goes: the backward pass also costs
per leaf, and a flat-parameter layout changes what the backward produces.
``depth`` residual tanh layers of ``width`` units, each with a weight and a
bias: ``2 * depth`` leaves (500 at the default depth of 250).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

import adamx
from adamx._fast.adam import fused_adam
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


def _runner(fn, args, donate, state_of):
  start = time.perf_counter()
  compiled = jax.jit(fn, donate_argnums=donate).lower(*args).compile()
  seconds = time.perf_counter() - start
  box = list(args)

  def run():
    box[0], box[1] = compiled(*box)
    jax.block_until_ready(box[0])

  return Runner(run, seconds, _nbytes(state_of(args)), 28)


def variants(depth: int, width: int, batch: int) -> dict[str, callable]:
  x, y = _data(width, batch)

  def tree(opt):
    def setup():
      params = init_mlp(depth, width)

      def step(params, state):
        grads = jax.grad(loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

      return _runner(step, (params, opt.init(params)), (0, 1), lambda a: a[1])
    return setup

  def fused(flat):
    def setup():
      opt = fused_adam(LR)
      params = init_mlp(depth, width)
      if flat:
        params, unravel = ravel_pytree(params)

        def step(params, state):
          grads = jax.grad(lambda p: loss(unravel(p), x, y))(params)
          return opt.step(params, grads, state)
      else:
        def step(params, state):
          return opt.step(params, jax.grad(loss)(params, x, y), state)

      return _runner(step, (params, opt.init(params)), (0, 1), lambda a: a[1])
    return setup

  return {"optax.adam": tree(optax.adam(LR)), "adamx.adam": tree(adamx.adam(LR)),
          "fused_adam": fused(False), "fused_adam flat": fused(True)}
