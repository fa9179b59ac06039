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
                 "vs torch fused | compile s | compile vs optax | state B/param |")


def update_rows(case: str, rows: list[dict]) -> list[str]:
  out = []
  for r in rows:
    if "error" in r:
      out.append(f"| {case} | {r['variant']} | {r['error']} | | | | | | | | |")
      continue
    out.append(
        f"| {case} | {r['variant']} | {r['median_s'] * 1e3:.2f} | {r['iqr_s'] * 1e3:.2f} | "
        f"{r['gbps']:.1f} | {_fmt(r.get('fraction_of_bw'), '.0%')} | "
        f"{_fmt(r.get('vs_optax'), '.2f')}× | {_fmt(r.get('vs_torch_fused'), '.2f')}× | "
        f"{_fmt(r.get('compile_s'), '.2f')} | {_fmt(r.get('compile_vs_optax'), '.2f')}× | "
        f"{r['state_bytes_per_param']:.1f} |")
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
      "Optimizer update alone, on the parameter tree unchanged (float32 parameters; GB/s at "
      "the method's minimum traffic: 28 B/param for Adam and AdamW, 20 with bfloat16 "
      "moments or one moment; ratios against the same method's Optax and torch fused rows):",
      "",
      UPDATE_HEADER,
      "|" + "---|" * (UPDATE_HEADER.count("|") - 1),
  ]
  for case, entry in results["update"].items():
    lines += [f"| {case} | bandwidth reference | {entry['bandwidth_ref_s'] * 1e3:.2f} | "
              f"{entry['bandwidth_ref_iqr_s'] * 1e3:.2f} | {entry['bandwidth_ref_gbps']:.1f} | 100% "
              f"| | | | | |"] if entry.get("bandwidth_ref_s") else []
    lines += update_rows(case, entry["rows"])
  if results.get("train"):
    t = results["train"]
    lines += ["", f"Training step and its parts (Adam): {t['description']}", "",
              TRAIN_HEADER, "|" + "---|" * (TRAIN_HEADER.count("|") - 1)]
    lines += train_rows(t["rows"])
  lines += ["", "Targets of issue 11 (measured in this run):", "", TARGET_HEADER,
            "|" + "---|" * (TARGET_HEADER.count("|") - 1)]
  lines += target_rows(results)
  return "\n".join(lines) + "\n"


TARGET_HEADER = "| target | measured | met |"


def _row(results, case, variant):
  for r in results["update"].get(case, {}).get("rows", ()):
    if r["variant"] == variant and "error" not in r:
      return r
  return None


def target_rows(results: dict) -> list[str]:
  """Each target with its figure from this run (cases or variants not run are skipped)."""
  checks = []
  composed = [(c, _row(results, c, "adamx.adam")) for c in results["update"]]
  composed = [(c, r) for c, r in composed if r and r.get("vs_optax") and r.get("compile_vs_optax")]
  if composed:
    step = max(composed, key=lambda cr: cr[1]["vs_optax"])
    comp = max(composed, key=lambda cr: cr[1]["compile_vs_optax"])
    checks += [(f"adamx.adam step ≤ 1.0× optax.adam, every case (worst: {step[0]})",
                step[1]["vs_optax"], 1.0),
               (f"adamx.adam compile ≤ 1.0× optax.adam, every case (worst: {comp[0]})",
                comp[1]["compile_vs_optax"], 1.0)]
  for case, key, limit, text in (
      ("1000x10k", "vs_optax", 0.6, "fused adam ≤ 0.6× optax.adam at 1,000 leaves"),
      ("1000x10k", "vs_torch_fused", 1.15, "fused adam ≤ 1.15× torch fused at 1,000 leaves"),
      ("5000x2k", "vs_torch_fused", 1.0, "fused adam faster than torch fused at 5,000 leaves"),
      ("resnet50", "vs_torch_fused", 1.1, "fused adam ≤ 1.1× torch fused on ResNet-50"),
      ("gpt2-small", "vs_torch_fused", 1.1, "fused adam ≤ 1.1× torch fused on GPT-2 small")):
    r = _row(results, case, "fused adam")
    if r and r.get(key) is not None:
      checks.append((text, r[key], limit))
  r = _row(results, "resnet50", "fused adam")
  if r and r.get("fraction_of_bw"):
    checks.append(("fused adam ≥ 80% of the bandwidth reference on ResNet-50",
                   r["fraction_of_bw"], -0.8))
  for row in (results.get("train") or {}).get("rows", ()):
    if row["variant"] == "fused adam step":
      checks += [("fused adam training step faster than optax.adam's", row["vs_optax"], 1.0),
                 ("fused adam training step compiles no slower", row["compile_vs_optax"], 1.0)]
  out = []
  for text, value, limit in checks:
    met = value >= -limit if limit < 0 else value <= limit
    shown = f"{value:.0%}" if limit < 0 else f"{value:.2f}×"
    out.append(f"| {text} | {shown} | {'yes' if met else 'no'} |")
  return out
