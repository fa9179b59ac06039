"""The parameter trees benchmarked: synthetic leaf counts and two real models.

The real models' shapes are written out (no downloads): torchvision's
ResNet-50 (161 leaves, 25,557,032 parameters, batch-norm running statistics
excluded as they are not optimised) and Hugging Face's GPT-2 small with a tied
embedding (148 leaves, 124,439,808 parameters).
"""

from __future__ import annotations

import math

Shapes = list[tuple[int, ...]]


def uniform(leaves: int, size: int) -> Shapes:
  return [(size,)] * leaves


def resnet50() -> Shapes:
  shapes: Shapes = [(64, 3, 7, 7), (64,), (64,)]
  in_ch = 64
  for width, blocks in ((64, 3), (128, 4), (256, 6), (512, 3)):
    out_ch = width * 4
    for block in range(blocks):
      shapes += [(width, in_ch, 1, 1), (width,), (width,)]
      shapes += [(width, width, 3, 3), (width,), (width,)]
      shapes += [(out_ch, width, 1, 1), (out_ch,), (out_ch,)]
      if block == 0:
        shapes += [(out_ch, in_ch, 1, 1), (out_ch,), (out_ch,)]
      in_ch = out_ch
  shapes += [(1000, 2048), (1000,)]
  return shapes


def gpt2_small(layers: int = 12, d: int = 768, vocab: int = 50257, context: int = 1024) -> Shapes:
  shapes: Shapes = [(vocab, d), (context, d)]
  for _ in range(layers):
    shapes += [(d,), (d,)]                 # ln_1
    shapes += [(d, 3 * d), (3 * d,)]       # attn.c_attn
    shapes += [(d, d), (d,)]               # attn.c_proj
    shapes += [(d,), (d,)]                 # ln_2
    shapes += [(d, 4 * d), (4 * d,)]       # mlp.c_fc
    shapes += [(4 * d, d), (d,)]           # mlp.c_proj
  shapes += [(d,), (d,)]                   # ln_f (lm_head is tied to wte)
  return shapes


def cases(quick: bool) -> dict[str, Shapes]:
  """Benchmark cases by name; ``quick`` shrinks every one to a smoke test."""
  if quick:
    return {
        "1x10M": uniform(1, 100_000), "10x1M": uniform(10, 10_000),
        "100x100k": uniform(100, 1_000), "1000x10k": uniform(200, 100),
        "5000x2k": uniform(300, 20), "resnet50": resnet50()[:20],
        "gpt2-small": gpt2_small(layers=1, d=64, vocab=500, context=64), "1x50M": uniform(1, 200_000),
    }
  return {
      "1x10M": uniform(1, 10_000_000), "10x1M": uniform(10, 1_000_000),
      "100x100k": uniform(100, 100_000), "1000x10k": uniform(1000, 10_000),
      "5000x2k": uniform(5000, 2_000), "resnet50": resnet50(),
      "gpt2-small": gpt2_small(), "1x50M": uniform(1, 50_000_000),
  }


def count(shapes: Shapes) -> int:
  return sum(math.prod(s) for s in shapes)
