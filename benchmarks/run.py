"""Benchmarks adamx against optax.adam and torch.optim.Adam: ``python -m benchmarks.run``.

Measures, per parameter tree and interleaved across variants, the step time
(median and IQR), the bandwidth it achieves at Adam's minimum traffic, that as
a fraction of a bandwidth reference timed in the same run, compile time and
state bytes per parameter; then a whole training step of a 500-leaf MLP.
Writes a table to the screen, ``benchmarks/results/latest.json`` and
``benchmarks/RESULTS.md``. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import pathlib
import sys
import time

import jax
import numpy as np

from benchmarks import bandwidth, report, shapes, timing, train, variants

HERE = pathlib.Path(__file__).parent
MANY_LEAVES = 1000  # --skip-slow drops slow-compiling variants from this many leaves
# Cases where the methods other than Adam run too (each adds three compiles).
OTHER_METHOD_CASES = ("1000x10k", "resnet50")


def baselines(method: str) -> tuple[str, str]:
  """The Optax and torch variants a row of ``method`` is compared with."""
  return f"optax.{method}", "torch fused" if method == "adam" else f"torch fused {method}"


def parse(argv):
  parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
  parser.add_argument("--cases", nargs="*", help="cases to run (default: all): "
                      + ", ".join(shapes.cases(False)))
  parser.add_argument("--variants", nargs="*", help="variants to run (default: all): "
                      + ", ".join(v.name for v in variants.all_variants()))
  parser.add_argument("--quick", action="store_true", help="tiny sizes, 3 rounds, 3 cases: a smoke test")
  parser.add_argument("--rounds", type=int, help="interleaved rounds (default 15, quick 3)")
  parser.add_argument("--min-sample", type=float, help="seconds per sample (default 0.05)")
  parser.add_argument("--skip-slow", action="store_true",
                      help=f"skip tree-jit variants (60+ s compiles) on trees of {MANY_LEAVES}+ leaves")
  parser.add_argument("--no-train", action="store_true", help="skip the training-step benchmark")
  parser.add_argument("--train-depth", type=int, help="MLP layers (2 leaves each; default 250)")
  parser.add_argument("--output", type=pathlib.Path, default=HERE / "results" / "latest.json")
  parser.add_argument("--markdown", type=pathlib.Path,
                      help="markdown table (default benchmarks/RESULTS.md; quick runs: results/quick.md)")
  args = parser.parse_args(argv)
  # A smoke run must not overwrite the committed table of the latest full run.
  args.markdown = args.markdown or (HERE / "results" / "quick.md" if args.quick else HERE / "RESULTS.md")
  return args


def _grads(case_shapes, family):
  key = jax.random.key(42)
  leaves = [jax.random.normal(jax.random.fold_in(key, i), s, jax.numpy.float32) * 1e-2
            for i, s in enumerate(case_shapes)]
  if family == "torch":
    import torch
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return [torch.from_numpy(np.array(g)).to(device) for g in leaves]
  return leaves


def run_case(name, case_shapes, chosen, args, rounds, min_sample):
  n = shapes.count(case_shapes)
  print(f"\n== {name}: {len(case_shapes)} leaves, {n:,} parameters", flush=True)
  grads = {}
  runners, rows = {}, []
  chosen = [v for v in chosen if v.method == "adam" or name in OTHER_METHOD_CASES or args.quick]
  for v in chosen:
    if args.skip_slow and v.slow_compile and len(case_shapes) >= MANY_LEAVES:
      rows.append({"variant": v.name, "error": "skipped (--skip-slow)"})
      continue
    if v.family not in grads:
      grads[v.family] = _grads(case_shapes, v.family)
    try:
      runners[v.name] = v.setup(case_shapes, grads[v.family])
    except Exception as error:  # report it, keep benchmarking the others
      rows.append({"variant": v.name, "error": f"failed: {type(error).__name__}: {error}"[:200]})
      continue
    compile_s = runners[v.name].compile_s
    print(f"   set up {v.name}" + (f" (compile {compile_s:.2f} s)" if compile_s else ""), flush=True)
  ref = bandwidth.setup(n)
  steps = {name: r.step for name, r in runners.items()}
  steps["bandwidth reference"] = ref.step
  times = timing.interleaved(steps, rounds, min_sample)
  ref_stats = timing.summary(times.pop("bandwidth reference"))
  medians = {k: timing.summary(t)["median_s"] for k, t in times.items()}
  for v in chosen:
    if v.name not in runners:
      continue
    r, stats = runners[v.name], timing.summary(times[v.name])
    optax_name, torch_name = baselines(v.method)
    gbps = r.bytes_per_param * n / stats["median_s"] / 1e9
    row = {"variant": v.name, **stats, "gbps": gbps,
           "fraction_of_bw": stats["median_s"] and ref_stats["median_s"] / stats["median_s"]
           * r.bytes_per_param / 28,
           "compile_s": r.compile_s, "state_bytes_per_param": r.state_bytes / n,
           "bytes_per_param": r.bytes_per_param,
           "vs_optax": stats["median_s"] / medians[optax_name] if optax_name in medians else None,
           "vs_torch_fused": (stats["median_s"] / medians[torch_name]
                              if torch_name in medians else None),
           "compile_vs_optax": (r.compile_s / runners[optax_name].compile_s
                                if r.compile_s and optax_name in runners else None)}
    rows.append(row)
  order = [v.name for v in chosen]
  rows.sort(key=lambda r: order.index(r["variant"]))
  entry = {"leaves": len(case_shapes), "params": n, "rows": rows,
           "bandwidth_ref_s": ref_stats["median_s"], "bandwidth_ref_iqr_s": ref_stats["iqr_s"],
           "bandwidth_ref_gbps": 28 * n / ref_stats["median_s"] / 1e9}
  print("\n".join(report.update_rows(name, rows)), flush=True)
  print(f"   bandwidth reference: {ref_stats['median_s'] * 1e3:.2f} ms, "
        f"{entry['bandwidth_ref_gbps']:.1f} GB/s", flush=True)
  del runners, grads, steps
  gc.collect()
  return entry


def run_train(args, rounds, min_sample):
  depth = args.train_depth or (10 if args.quick else 250)
  width, batch = (16, 8) if args.quick else (64, 32)
  desc = (f"residual tanh MLP, {depth} layers of width {width} ({2 * depth} leaves, "
          f"{depth * (width * width + width):,} parameters), batch {batch}")
  print(f"\n== training step: {desc}", flush=True)
  runners = {}
  for name, setup in train.variants(depth, width, batch).items():
    runners[name] = setup()
    print(f"   set up {name} (compile {runners[name].compile_s:.2f} s)", flush=True)
  times = timing.interleaved({k: r.step for k, r in runners.items()}, rounds, min_sample)
  rows = []
  for name, r in runners.items():
    stats = timing.summary(times[name])
    part = name.rsplit(" ", 1)[-1]
    base = f"optax.adam {part}" if part in ("step", "update") else None
    rows.append({"variant": name, **stats, "compile_s": r.compile_s,
                 "vs_optax": stats["median_s"] / timing.summary(times[base])["median_s"]
                 if base else None,
                 "compile_vs_optax": r.compile_s / runners[base].compile_s if base else None})
  print("\n".join(report.train_rows(rows)), flush=True)
  return {"description": desc, "leaves": 2 * depth, "rows": rows}


def main(argv=None):
  args = parse(argv)
  rounds = args.rounds or (3 if args.quick else 15)
  min_sample = args.min_sample or (0.005 if args.quick else 0.05)
  all_cases = shapes.cases(args.quick)
  unknown = set(args.cases or ()) - set(all_cases)
  if unknown:
    sys.exit(f"unknown case(s) {sorted(unknown)}; choose from {list(all_cases)}")
  chosen = [v for v in variants.all_variants() if args.variants is None or v.name in args.variants]
  results = {"machine": report.machine(), "command": " ".join(["python -m benchmarks.run", *(argv or sys.argv[1:])]),
             "rounds": rounds, "quick": args.quick, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
             "update": {}, "train": None}
  print(results["machine"], flush=True)
  default = ("1x10M", "1000x10k", "gpt2-small") if args.quick else tuple(all_cases)
  for name in args.cases or default:
    results["update"][name] = run_case(name, all_cases[name], chosen, args, rounds, min_sample)
  if not args.no_train:
    results["train"] = run_train(args, rounds, min_sample)
  args.output.parent.mkdir(parents=True, exist_ok=True)
  args.output.write_text(json.dumps(results, indent=1))
  table = report.markdown(results)
  args.markdown.write_text("# Latest benchmark results\n\nWritten by `python -m benchmarks.run`;"
                           " see README.md for what each column means.\n\n" + table)
  print("\n" + table)
  print(f"wrote {args.output} and {args.markdown}")


if __name__ == "__main__":
  main()
