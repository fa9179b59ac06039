"""Composition is free: ``adamx.adam`` against ``optax.adam``, op for op and second for second.

``python -m benchmarks.compile_parity [--leaves 100 500 1000] [--size 10000]``

For a list of N float32 leaves and a jitted ``update + optax.apply_updates``
step with the parameters and the state donated, it reports per leaf:

* ``jaxpr``: equations of ``jax.make_jaxpr(step)`` (nested ones included);
* ``stablehlo``: operations of the lowered module;
* ``hlo`` and ``fusions``: instructions of the optimized HLO
  (``compiled.as_text()``, fused computations included) and fusion calls in it;

then the time to lower (trace) and to compile, each the minimum of
``--repeats`` runs with optax and adamx interleaved (the machine may be
shared), and the median step time over ``--steps`` steps, interleaved too.
Each run jits a fresh function, so no trace or compile cache is reused.
"""

from __future__ import annotations

import argparse
import re
import time

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import optax

import adamx

LIBRARIES = {"optax": lambda: optax.adam(1e-3), "adamx": lambda: adamx.adam(1e-3)}
_HLO_INSTRUCTION = re.compile(r"^\s*(ROOT )?%\S+ = ", re.M)
_HLO_FUSION = re.compile(r" fusion\(")
_STABLEHLO_OP = re.compile(r"^\s*(%\S+ = )?\"?(stablehlo|chlo|func\.call|call)\b", re.M)


def tree(leaves: int, size: int, value: float) -> list[jax.Array]:
  return [jnp.full((size,), value + k * 1e-3, jnp.float32) for k in range(leaves)]


def stepper(opt: optax.GradientTransformation):
  """A fresh ``step`` function (so ``jax.jit`` caches nothing across runs)."""

  def step(params, grads, state):
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  return step


def jaxpr_size(jaxpr: jax.extend.core.Jaxpr) -> int:
  total = 0
  for eqn in jaxpr.eqns:
    total += 1
    for sub in jax.extend.core.jaxprs_in_params(eqn.params):
      total += jaxpr_size(sub)
  return total


def op_counts(name: str, leaves: int, size: int) -> dict[str, float]:
  """Ops per leaf at each stage, for ``leaves`` leaves of ``size`` elements."""
  opt = LIBRARIES[name]()
  params, grads = tree(leaves, size, 1.0), tree(leaves, size, 0.1)
  state = opt.init(params)
  step = stepper(opt)
  jaxpr = jax.make_jaxpr(step)(params, grads, state).jaxpr
  lowered = jax.jit(step, donate_argnums=(0, 2)).lower(params, grads, state)
  hlo = lowered.compile().as_text()
  stablehlo = lowered.as_text()
  counts = {"jaxpr": jaxpr_size(jaxpr), "stablehlo": len(_STABLEHLO_OP.findall(stablehlo)),
            "hlo": len(_HLO_INSTRUCTION.findall(hlo)), "fusions": len(_HLO_FUSION.findall(hlo))}
  return {k: v / leaves for k, v in counts.items()}


def compile_times(name: str, leaves: int, size: int):
  """(lower s, compile s, the compiled step, its arguments)."""
  opt = LIBRARIES[name]()
  params, grads = tree(leaves, size, 1.0), tree(leaves, size, 0.1)
  state = opt.init(params)
  jitted = jax.jit(stepper(opt), donate_argnums=(0, 2))
  start = time.perf_counter()
  lowered = jitted.lower(params, grads, state)
  lowered_at = time.perf_counter()
  compiled = lowered.compile()
  done = time.perf_counter()
  return lowered_at - start, done - lowered_at, compiled, (params, grads, state)


def step_times(runs: dict[str, tuple], steps: int) -> dict[str, float]:
  """Median seconds per step, the libraries interleaved step by step (the
  parameters and state of ``runs`` are donated: they are used up)."""
  carried = {name: (compiled, list(args)) for name, (compiled, args) in runs.items()}
  samples: dict[str, list[float]] = {name: [] for name in runs}
  for k in range(steps + 2):  # two warm-up steps
    for name, (compiled, args) in carried.items():
      start = time.perf_counter()
      params, state = compiled(*args)
      jax.block_until_ready((params, state))
      if k >= 2:
        samples[name].append(time.perf_counter() - start)
      args[0], args[2] = params, state
  return {name: float(np.median(s)) for name, s in samples.items()}


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(prog="python -m benchmarks.compile_parity",
                                   description=__doc__.split("\n")[0])
  parser.add_argument("--leaves", type=int, nargs="+", default=[100, 500, 1000],
                      help="leaf counts to time (default 100 500 1000)")
  parser.add_argument("--size", type=int, default=10_000, help="elements per leaf (default 10000)")
  parser.add_argument("--count-leaves", type=int, default=10,
                      help="leaves of --count-size elements for the op counts (default 10; 0 skips)")
  parser.add_argument("--count-size", type=int, default=1_000)
  parser.add_argument("--repeats", type=int, default=3, help="compile runs per library (min taken)")
  parser.add_argument("--steps", type=int, default=20, help="timed steps per library (median taken)")
  args = parser.parse_args(argv)
  print(f"jax {jax.__version__}, optax {optax.__version__}, {jax.devices()[0].device_kind}")

  # Warm JAX's own caches (jnp helpers, the backend) for both libraries alike.
  for name in LIBRARIES:
    compile_times(name, 2, 8)

  if args.count_leaves:
    print(f"\nops per leaf ({args.count_leaves} leaves of {args.count_size}):")
    print(f"{'':8}{'jaxpr':>8}{'stablehlo':>11}{'hlo':>8}{'fusions':>9}")
    for name in LIBRARIES:
      c = op_counts(name, args.count_leaves, args.count_size)
      print(f"{name:8}{c['jaxpr']:8.1f}{c['stablehlo']:11.1f}{c['hlo']:8.1f}{c['fusions']:9.1f}")

  print(f"\nleaves of {args.size}: min of {args.repeats} lower/compile runs, "
        f"median of {args.steps} steps")
  print(f"{'leaves':>7} {'library':8}{'lower s':>9}{'compile s':>11}{'step ms':>9}"
        f"{'lower ×':>9}{'compile ×':>11}{'step ×':>8}")
  for leaves in args.leaves:
    best: dict[str, list[float]] = {name: [np.inf, np.inf] for name in LIBRARIES}
    runs = {}
    for r in range(args.repeats):
      for name in list(LIBRARIES)[::1 if r % 2 == 0 else -1]:
        lower_s, compile_s, compiled, call_args = compile_times(name, leaves, args.size)
        best[name] = [min(best[name][0], lower_s), min(best[name][1], compile_s)]
        runs[name] = (compiled, call_args)
    steps = step_times(runs, args.steps)
    del runs
    base = best["optax"] + [steps["optax"]]
    for name in LIBRARIES:
      row = best[name] + [steps[name]]
      ratios = "".join(f"{r / b:{w}.2f}" for r, b, w in zip(row, base, (9, 11, 8)))
      print(f"{leaves:7d} {name:8}{row[0]:9.2f}{row[1]:11.2f}{row[2] * 1e3:9.2f}{ratios}",
            flush=True)


if __name__ == "__main__":
  main()
