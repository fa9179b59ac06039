"""The methods the multi-tensor kernel computes, as data.

Each entry names a composed adamx method, the state fields the kernel keeps
flat, the arguments it cannot fuse (with the values it can), and the scalars
the kernel reads, computed here in JAX exactly as the composed method
computes them (so the kernel repeats only the per-element arithmetic; see
``kernel.cc``). Adding a method is one entry here and one branch there.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp

from adamx._core import hyperparams as hp
from adamx._methods.adagrad import adagrad
from adamx._methods.adam import adam, adamw
from adamx._methods.sgd import sgd
from adamx._methods.signs import lion

ADAM, MOMENTUM, LION, ADAGRAD = 0, 1, 2, 3  # kernel.cc's Method


@dataclasses.dataclass(frozen=True)
class Kernel:
  """How the kernel computes one composed method."""

  factory: Callable[..., Any]
  method: int
  slots: tuple[str, ...]
  # argument -> the only value the kernel supports (why, for the error).
  fixed: Mapping[str, tuple[Any, str]]
  # argument -> why the kernel needs it given (not None).
  needed: Mapping[str, str]
  # (arguments, dtype, count before the step, count after, learning rate) -> scalars.
  scalars: Callable[[Mapping[str, Any], Any, jax.Array, jax.Array, jax.Array], list[Any]]
  # kernel.cc's flag: weight decay (read the parameters), Nesterov or eps in the root.
  flag: Callable[[Mapping[str, Any]], bool] = lambda args: False
  reads_params: bool = False

  def arguments(self, hyperparams: Mapping[str, Any]) -> dict[str, Any]:
    """Every argument of the method: its acting ones over the defaults."""
    defaults = {name: p.default for name, p in inspect.signature(self.factory).parameters.items()
                if p.default is not inspect.Parameter.empty}
    return {**defaults, **hyperparams}


def _decay(args, d, count):
  return hp.cast(hp.evaluate(args["weight_decay"], count), d) if "weight_decay" in args else jnp.zeros((), d)


def _adam_scalars(args, d, count, new_count, rate):
  b1, b2 = hp.cast(args["b1"], d), hp.cast(args["b2"], d)
  # XLA divides an array by a scalar as a multiplication by its reciprocal; so does the kernel.
  return [b1, 1 - b1, b2, 1 - b2, 1 / (1 - b1 ** new_count.astype(d)),
          1 / (1 - b2 ** new_count.astype(d)),
          hp.cast(args["eps_root"], d), hp.cast(args["eps"], d), _decay(args, d, count),
          -1 * rate.astype(d)]


def _momentum_scalars(args, d, count, new_count, rate):
  del count, new_count
  return [hp.cast(args["momentum"], d), -1 * rate.astype(d)]


def _adagrad_scalars(args, d, count, new_count, rate):
  del count, new_count
  return [hp.cast(args["eps"], d), -1 * rate.astype(d)]


def _lion_scalars(args, d, count, new_count, rate):
  del new_count
  w, b = hp.cast(args["b1"], d), hp.cast(args["b2"], d)
  return [w, 1 - w, b, 1 - b, _decay(args, d, count), -1 * rate.astype(d)]


_NO_MASK = (None, "a mask selects leaves per call; the kernel decays every leaf")
_NO_NESTEROV = (False, "the kernel has no Nesterov variant of Adam")

KERNELS: dict[str, Kernel] = {
    "adam": Kernel(adam, ADAM, ("mu", "nu"), {"nesterov": _NO_NESTEROV}, {}, _adam_scalars),
    "adamw": Kernel(adamw, ADAM, ("mu", "nu"), {"nesterov": _NO_NESTEROV, "mask": _NO_MASK},
                    {}, _adam_scalars, flag=lambda args: True, reads_params=True),
    "sgd": Kernel(sgd, MOMENTUM, ("trace",),
                  {"dampening": (0.0, "torch's dampening is not in the kernel")},
                  {"momentum": "plain SGD keeps no state to fuse (adamx.sgd is one operation per leaf)"},
                  _momentum_scalars, flag=lambda args: bool(args["nesterov"])),
    "adagrad": Kernel(adagrad, ADAGRAD, ("sum_of_squares",), {}, {}, _adagrad_scalars,
                      flag=lambda args: bool(args["eps_in_sqrt"])),
    "lion": Kernel(lion, LION, ("mu",), {"mask": _NO_MASK}, {}, _lion_scalars,
                   flag=lambda args: True, reads_params=True),
}
