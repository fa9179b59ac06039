"""Tables (screen and markdown) and the machine description."""

from __future__ import annotations

import os
import platform


def machine() -> dict[str, str]:
  import jax
  import optax
  import torch
  cpu = platform.processor()
  try:
    for line in open("/proc/cpuinfo"):
      if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
  except OSError:
    pass
  return {"cpu": cpu, "cores": str(os.cpu_count()), "jax_backend": jax.default_backend(),
          "devices": str(jax.devices()), "jax": jax.__version__, "optax": optax.__version__,
          "torch": torch.__version__, "python": platform.python_version(),
          "torch_cuda": str(torch.cuda.is_available())}


def _fmt(x, spec, none="–"):
  return none if x is None else format(x, spec)


UPDATE_HEADER = ("| case | variant | median ms | IQR ms | GB/s | % of bw ref | vs optax | "
                 "vs torch fused | compile s | state B/param |")


def update_rows(case: str, rows: list[dict]) -> list[str]:
  out = []
  for r in rows:
    if "error" in r:
      out.append(f"| {case} | {r['variant']} | {r['error']} | | | | | | | |")
      continue
    out.append(
        f"| {case} | {r['variant']} | {r['median_s'] * 1e3:.2f} | {r['iqr_s'] * 1e3:.2f} | "
        f"{r['gbps']:.1f} | {_fmt(r.get('fraction_of_bw'), '.0%')} | "
        f"{_fmt(r.get('vs_optax'), '.2f')}× | {_fmt(r.get('vs_torch_fused'), '.2f')}× | "
        f"{_fmt(r.get('compile_s'), '.2f')} | {r['state_bytes_per_param']:.1f} |")
  return out


TRAIN_HEADER = "| training step | median ms | IQR ms | vs optax | compile s | compile vs optax |"


def train_rows(rows: list[dict]) -> list[str]:
  out = []
  for r in rows:
    out.append(f"| {r['variant']} | {r['median_s'] * 1e3:.2f} | {r['iqr_s'] * 1e3:.2f} | "
               f"{_fmt(r.get('vs_optax'), '.2f')}× | {r['compile_s']:.2f} | "
               f"{_fmt(r.get('compile_vs_optax'), '.3f')}× |")
  return out


def markdown(results: dict) -> str:
  m = results["machine"]
  lines = [
      f"Machine: {m['cpu']}, {m['cores']} cores, JAX backend {m['jax_backend']}; "
      f"jax {m['jax']}, optax {m['optax']}, torch {m['torch']}, Python {m['python']}. "
      f"Command: `{results['command']}`; {results['rounds']} interleaved rounds.",
      "",
      "Optimizer update alone (Adam, float32 parameters; GB/s at the method's minimum "
      "traffic: 28 B/param, 20 with bfloat16 moments):",
      "",
      UPDATE_HEADER,
      "|" + "---|" * (UPDATE_HEADER.count("|") - 1),
  ]
  for case, entry in results["update"].items():
    lines += [f"| {case} | bandwidth reference | {entry['bandwidth_ref_s'] * 1e3:.2f} | "
              f"{entry['bandwidth_ref_iqr_s'] * 1e3:.2f} | {entry['bandwidth_ref_gbps']:.1f} | 100% "
              f"| | | | |"] if entry.get("bandwidth_ref_s") else []
    lines += update_rows(case, entry["rows"])
  if results.get("train"):
    t = results["train"]
    lines += ["", f"Whole training step (forward, backward, Adam update): {t['description']}", "",
              TRAIN_HEADER, "|" + "---|" * (TRAIN_HEADER.count("|") - 1)]
    lines += train_rows(t["rows"])
  return "\n".join(lines) + "\n"
