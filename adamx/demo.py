"""The main job: adamx methods side by side on a small real training problem.

``python -m adamx.demo`` (or ``make demo``) trains the same two-hidden-layer
MLP on scikit-learn's bundled handwritten digits (1,797 8x8 images, shipped
offline) with nine adamx methods, shows each method's progress while it
trains (an updating line on a terminal, one line per method in a log),
prints a table (final training loss, test accuracy, seconds) and writes
``loss_curves.png``: one panel per method, its loss curve in colour over the
other methods' curves in grey, on shared log-scale axes. Needs the ``demo``
extra (scikit-learn, matplotlib); without it, ``main`` stops before training
with a message that names the extra. ``python -m adamx.demo --help`` lists the
options.
"""

from __future__ import annotations

import argparse
import math
import pathlib
import sys
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

import adamx

__all__ = ["METHODS", "main"]

METHODS = {
    "adam": lambda: adamx.adam(1e-3),
    "adamw": lambda: adamx.adamw(1e-3, weight_decay=1e-2),
    "nadam": lambda: adamx.nadam(1e-3),
    "amsgrad": lambda: adamx.amsgrad(1e-3),
    "radam": lambda: adamx.radam(1e-3),
    "rmsprop": lambda: adamx.rmsprop(1e-3),
    "sgd-nesterov": lambda: adamx.sgd(0.05, momentum=0.9, nesterov=True),
    "adagrad": lambda: adamx.adagrad(0.05),
    "adadelta": lambda: adamx.adadelta(1.0),
}

MISSING_EXTRA = ("adamx.demo needs scikit-learn and matplotlib: "
                 "pip install 'adamx[demo]' (or run make demo)")


def require_demo_extra() -> None:
  """Stop with an install hint, before any training, if the demo extra is missing."""
  try:
    import matplotlib  # noqa: F401
    import sklearn  # noqa: F401
  except ImportError as error:
    raise SystemExit(MISSING_EXTRA) from error


def load_digits(seed: int) -> tuple[np.ndarray, ...]:
  from sklearn.datasets import load_digits as sklearn_digits
  from sklearn.model_selection import train_test_split

  x, y = sklearn_digits(return_X_y=True)
  x = (x / 16.0).astype(np.float32)
  return train_test_split(x, y.astype(np.int32), test_size=0.25, random_state=seed, stratify=y)


def init_mlp(key: jax.Array, sizes: tuple[int, ...]) -> list[dict]:
  layers = []
  for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
    key, sub = jax.random.split(key)
    scale = np.float32(np.sqrt(2.0 / fan_in))
    layers.append({"w": jax.random.normal(sub, (fan_in, fan_out), jnp.float32) * scale,
                   "b": jnp.zeros(fan_out, jnp.float32)})
  return layers


def logits(params: list[dict], x: jax.Array) -> jax.Array:
  for layer in params[:-1]:
    x = jax.nn.relu(x @ layer["w"] + layer["b"])
  return x @ params[-1]["w"] + params[-1]["b"]


def loss(params: list[dict], x: jax.Array, y: jax.Array) -> jax.Array:
  return optax.softmax_cross_entropy_with_integer_labels(logits(params, x), y).mean()


def make_epoch(opt: optax.GradientTransformation, batch_size: int):
  """One jitted epoch: shuffle, then a scan over minibatches."""

  @jax.jit
  def epoch(params, state, key, x, y):
    order = jax.random.permutation(key, len(x))
    batches = len(x) // batch_size
    idx = order[: batches * batch_size].reshape(batches, batch_size)

    def step(carry, batch):
      params, state = carry
      value, grads = jax.value_and_grad(loss)(params, x[batch], y[batch])
      updates, state = opt.update(grads, state, params)
      return (optax.apply_updates(params, updates), state), value

    (params, state), values = jax.lax.scan(step, (params, state), idx)
    return params, state, values.mean()

  return epoch


def train(name: str, epochs: int, data: tuple, seed: int,
          report: Callable[[int, float], None], batch_size: int = 64) -> dict:
  """Trains with method ``name``; calls ``report(epoch, training_loss)`` after each epoch."""
  x_train, x_test, y_train, y_test = (jnp.asarray(a) for a in data)
  opt = METHODS[name]()
  params = init_mlp(jax.random.PRNGKey(seed), (64, 128, 128, 10))
  state = opt.init(params)
  epoch = make_epoch(opt, batch_size)
  key = jax.random.PRNGKey(seed + 1)
  curve = []
  start = time.perf_counter()
  for done in range(1, epochs + 1):
    key, sub = jax.random.split(key)
    params, state, _ = epoch(params, state, sub, x_train, y_train)
    curve.append(float(loss(params, x_train, y_train)))
    report(done, curve[-1])
  seconds = time.perf_counter() - start
  accuracy = float((logits(params, x_test).argmax(-1).astype(y_test.dtype) == y_test).mean())
  return {"curve": curve, "accuracy": accuracy, "seconds": seconds}


def plot(results: dict, path: pathlib.Path) -> None:
  """Small multiples: one panel per method, the others faint grey behind it."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  from matplotlib.ticker import MaxNLocator

  cols = min(3, len(results))
  rows = math.ceil(len(results) / cols)
  fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.5 * rows + 0.9),
                           sharex=True, sharey=True, squeeze=False)
  for ax, (name, result) in zip(axes.flat, results.items()):
    for other, background in results.items():
      if other != name:
        ax.semilogy(range(1, len(background["curve"]) + 1), background["curve"],
                    color="0.8", linewidth=0.9)
    ax.semilogy(range(1, len(result["curve"]) + 1), result["curve"], color="C0", linewidth=2.2)
    ax.set_title(name, fontsize=10.5, fontweight="bold", pad=15)
    ax.text(0.5, 1.02,
            f"final loss {result['curve'][-1]:.4f} · test accuracy {result['accuracy']:.3f}",
            transform=ax.transAxes, ha="center", va="bottom", fontsize=8.5, color="0.25")
    ax.grid(True, which="major", color="0.93", linewidth=0.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
  for index, ax in enumerate(axes.flat):
    if index >= len(results):
      ax.set_visible(False)
    elif index + cols >= len(results):  # lowest panel of its column: show the epochs
      ax.tick_params(labelbottom=True)
  title = "Training loss per epoch: MLP 64-128-128-10 on scikit-learn digits"
  fig.suptitle(title + (" (grey: the other methods)" if len(results) > 1 else ""),
               fontsize=11, wrap=True)
  fig.supxlabel("epoch", fontsize=10)
  fig.supylabel("training loss (cross-entropy, log scale)", fontsize=10)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def make_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
      prog="python -m adamx.demo",
      formatter_class=argparse.ArgumentDefaultsHelpFormatter,
      description="Train the same MLP (64-128-128-10) on scikit-learn's bundled handwritten "
      "digits (1,797 8x8 images, no download) with several adamx optimizers, one after "
      "another, and compare them: final training loss, test accuracy and seconds per method.",
      epilog="Prints progress while each method trains and a Markdown table at the end, and "
      "writes DIR/loss_curves.png (one panel per method). The default run takes 15 to 25 "
      "seconds on a 2-core CPU. Needs the demo extra: "
      "pip install 'adamx[demo]' (make demo installs it).")
  parser.add_argument("--epochs", type=int, default=30, metavar="N",
                      help="training epochs (passes over the 1,347 training images) per method")
  parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS),
                      metavar="METHOD",
                      help="methods to train, space separated, in this order; any of the default")
  parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("demo_output"),
                      metavar="DIR", help="folder for loss_curves.png, created if missing")
  parser.add_argument("--seed", type=int, default=0,
                      help="seed for the train/test split, the initial weights and the shuffling")
  return parser


def main(argv: list[str] | None = None) -> dict:
  parser = make_parser()
  args = parser.parse_args(argv)
  if args.epochs < 1:
    parser.error("--epochs must be at least 1")
  require_demo_extra()

  data = load_digits(args.seed)
  print(f"digits: {len(data[0])} training and {len(data[1])} test images; "
        f"{args.epochs} epochs per method on {jax.default_backend()}", flush=True)
  live = sys.stdout.isatty()  # a terminal: one line per method, rewritten after each epoch
  line_start = "\r" if live else ""
  results = {}
  for name in args.methods:

    def report(epoch: int, value: float, name: str = name) -> None:
      if live:
        print(f"\r  {name:<13} epoch {epoch}/{args.epochs}  loss {value:.4f}", end="", flush=True)

    results[name] = result = train(name, args.epochs, data, args.seed, report)
    print(f"{line_start}  {name:<13} loss {result['curve'][0]:.4f} -> "
          f"{result['curve'][-1]:.4f}  test accuracy {result['accuracy']:.3f}  "
          f"({result['seconds']:.1f} s)", flush=True)

  print("\n| method | final training loss | test accuracy | seconds |\n|---|---|---|---|")
  for name, r in sorted(results.items(), key=lambda item: item[1]["curve"][-1]):
    print(f"| {name} | {r['curve'][-1]:.4f} | {r['accuracy']:.3f} | {r['seconds']:.1f} |")
  args.out.mkdir(parents=True, exist_ok=True)
  plot(results, args.out / "loss_curves.png")
  print(f"\nloss curves written to {args.out / 'loss_curves.png'}")
  return results


if __name__ == "__main__":
  main()
