"""The main job: adamx methods side by side on a small real training problem.

``python -m adamx.demo`` (or ``make demo``) trains the same two-hidden-layer
MLP on scikit-learn's bundled handwritten digits (1,797 8x8 images, shipped
offline) with several adamx methods, prints progress while it runs, prints a
table (final training loss, test accuracy, seconds) and writes a PNG of the
loss curves. Needs the ``demo`` extra (scikit-learn, matplotlib).
"""

from __future__ import annotations

import argparse
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import adamx

METHODS = {
    "adam": lambda: adamx.adam(1e-3),
    "adamw": lambda: adamx.adamw(1e-3, weight_decay=1e-2),
    "nadam": lambda: adamx.nadam(1e-3),
    "amsgrad": lambda: adamx.amsgrad(1e-3),
    "radam": lambda: adamx.radam(1e-3),
    "rmsprop": lambda: adamx.rmsprop(1e-3),
    "sgd nesterov": lambda: adamx.sgd(0.05, momentum=0.9, nesterov=True),
    "adagrad": lambda: adamx.adagrad(0.05),
    "adadelta": lambda: adamx.adadelta(1.0),
}


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


def train(name: str, epochs: int, data: tuple, seed: int, batch_size: int = 64) -> dict:
  x_train, x_test, y_train, y_test = (jnp.asarray(a) for a in data)
  opt = METHODS[name]()
  params = init_mlp(jax.random.PRNGKey(seed), (64, 128, 128, 10))
  state = opt.init(params)
  epoch = make_epoch(opt, batch_size)
  key = jax.random.PRNGKey(seed + 1)
  curve = []
  start = time.perf_counter()
  for _ in range(epochs):
    key, sub = jax.random.split(key)
    params, state, _ = epoch(params, state, sub, x_train, y_train)
    curve.append(float(loss(params, x_train, y_train)))
  seconds = time.perf_counter() - start
  accuracy = float((logits(params, x_test).argmax(-1).astype(y_test.dtype) == y_test).mean())
  return {"curve": curve, "accuracy": accuracy, "seconds": seconds}


def plot(results: dict, path: pathlib.Path) -> None:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(7, 4.5))
  for name, result in results.items():
    ax.semilogy(range(1, len(result["curve"]) + 1), result["curve"], label=name)
  ax.set(xlabel="epoch", ylabel="training loss (cross-entropy)",
         title="MLP 64-128-128-10 on scikit-learn digits")
  ax.legend(ncol=2, fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--epochs", type=int, default=30)
  parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
  parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("demo_output"))
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)

  data = load_digits(args.seed)
  print(f"digits: {len(data[0])} training and {len(data[1])} test images; "
        f"{args.epochs} epochs per method on {jax.default_backend()}")
  results = {}
  for name in args.methods:
    results[name] = result = train(name, args.epochs, data, args.seed)
    print(f"  {name:<13} loss {result['curve'][0]:.4f} -> {result['curve'][-1]:.4f}  "
          f"test accuracy {result['accuracy']:.3f}  ({result['seconds']:.1f} s)", flush=True)

  print("\n| method | final training loss | test accuracy | seconds |\n|---|---|---|---|")
  for name, r in sorted(results.items(), key=lambda item: item[1]["curve"][-1]):
    print(f"| {name} | {r['curve'][-1]:.4f} | {r['accuracy']:.3f} | {r['seconds']:.1f} |")
  args.out.mkdir(parents=True, exist_ok=True)
  plot(results, args.out / "loss_curves.png")
  print(f"\nloss curves written to {args.out / 'loss_curves.png'}")
  return results


if __name__ == "__main__":
  main()
