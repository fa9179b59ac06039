"""The bandwidth reference every variant is compared with, timed in the same run.

On CPU: a C loop (built with the fused kernel, same compiler flags and thread
count) that reads four float32 arrays and writes three of them back in place
with almost no arithmetic: Adam's exact access pattern, 28 bytes per element,
as fast as this machine moves it. numpy or torch in-place operators would make
one pass per operator and understate the limit. On a GPU: the same pattern as
one jitted, donated XLA fusion (one kernel).
"""

from __future__ import annotations

import ctypes
import os

import jax
import jax.numpy as jnp
import numpy as np

from adamx._fast import build
from benchmarks.variants import Runner


def setup(n: int) -> Runner:
  if jax.default_backend() != "cpu":
    return _xla_reference(n)
  lib = build.library()
  threads = int(os.environ.get("ADAMX_NUM_THREADS", os.cpu_count() or 1))
  rng = np.random.default_rng(0)
  p, g, m, v = (rng.standard_normal(n, dtype=np.float32) * 1e-3 for _ in range(4))
  ptr = [a.ctypes.data_as(ctypes.c_void_p) for a in (p, g, m, v)]

  def run():
    lib.adamx_bandwidth_reference(*ptr, n, threads)

  return Runner(run, None, 0, 28)


def _xla_reference(n: int) -> Runner:
  def step(p, g, m, v):
    m = 0.9 * m + g
    v = 0.9 * v + g
    return p + m * v, m, v

  key = jax.random.key(0)
  p, g, m, v = (jax.random.normal(jax.random.fold_in(key, i), (n,), jnp.float32) * 1e-3
                for i in range(4))
  compiled = jax.jit(step, donate_argnums=(0, 2, 3)).lower(p, g, m, v).compile()
  box = [p, m, v]

  def run():
    box[0], box[1], box[2] = compiled(box[0], g, box[1], box[2])
    jax.block_until_ready(box[0])

  return Runner(run, None, 0, 28)
