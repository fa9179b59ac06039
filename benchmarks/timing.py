"""Interleaved timing: every round runs every variant once, in rotating order.

Machine drift (another process, thermal or frequency changes) then hits all
variants alike, so ratios between them are fair even when absolute times are
noisy. Each sample averages enough back-to-back steps to last ``min_sample_s``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np


def calibrate(step: Callable[[], None], min_sample_s: float) -> int:
  """Steps per sample: enough to last ``min_sample_s`` (after two warm-ups)."""
  step()
  start = time.perf_counter()
  step()
  once = max(time.perf_counter() - start, 1e-7)
  return max(1, math.ceil(min_sample_s / once))


def interleaved(steps: dict[str, Callable[[], None]], rounds: int,
                min_sample_s: float) -> dict[str, np.ndarray]:
  """Seconds per step, one sample per variant per round."""
  reps = {name: calibrate(fn, min_sample_s) for name, fn in steps.items()}
  names = list(steps)
  samples: dict[str, list[float]] = {name: [] for name in names}
  for r in range(rounds):
    for name in names[r % len(names):] + names[:r % len(names)]:
      fn, k = steps[name], reps[name]
      start = time.perf_counter()
      for _ in range(k):
        fn()
      samples[name].append((time.perf_counter() - start) / k)
  return {name: np.asarray(s) for name, s in samples.items()}


def summary(seconds: np.ndarray) -> dict[str, float]:
  q1, median, q3 = np.percentile(seconds, [25, 50, 75])
  return {"median_s": float(median), "iqr_s": float(q3 - q1),
          "min_s": float(seconds.min()), "samples": int(seconds.size)}
