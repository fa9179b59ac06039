"""The one table of methods every contract test runs over.

A method, compat class or fast path is entered here once, with arguments
under which it converges on the two contract problems, and is then covered
by tests/test_contract.py, test_tree_properties.py, test_dtypes.py,
test_hyperparams_as_data.py, test_checkpoint.py and sharding_checks.py.
"""

import jax.numpy as jnp

import adamx
from adamx.compat import keras as K
from adamx.compat import torch as T

ALL_DTYPES = (jnp.float32, jnp.bfloat16, jnp.float64)

# name -> (factory, arguments on the parabola, arguments on Rosenbrock[, options]).
# Options: "dtypes" (default all three), "elementwise" (default True: its update of a
# sharded parameter needs no communication).
# RAdam's warm-up steps are lr * m_hat, unnormalised, so Rosenbrock (|g| ~ 200)
# needs a small lr.
METHODS = {
    "sgd": (adamx.sgd, dict(learning_rate=0.04), dict(learning_rate=1e-3)),
    "sgd momentum": (adamx.sgd, dict(learning_rate=0.01, momentum=0.9),
                     dict(learning_rate=2e-4, momentum=0.9)),
    "sgd nesterov": (adamx.sgd, dict(learning_rate=0.01, momentum=0.9, nesterov=True),
                     dict(learning_rate=2e-4, momentum=0.9, nesterov=True)),
    "adagrad": (adamx.adagrad, dict(learning_rate=0.5), dict(learning_rate=0.3)),
    "rmsprop": (adamx.rmsprop, dict(learning_rate=0.02), dict(learning_rate=5e-3)),
    "rmsprop centered momentum": (adamx.rmsprop,
                                  dict(learning_rate=5e-3, centered=True, momentum=0.9),
                                  dict(learning_rate=5e-4, centered=True, momentum=0.9)),
    "adadelta": (adamx.adadelta, dict(learning_rate=1.0, eps=1e-2),
                 dict(learning_rate=0.3, eps=1e-3)),
    "adam": (adamx.adam, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "adamax": (adamx.adamax, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "nadam": (adamx.nadam, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "amsgrad": (adamx.amsgrad, dict(learning_rate=0.05), dict(learning_rate=0.1)),
    "adamw": (adamx.adamw, dict(learning_rate=0.05, weight_decay=1e-4),
              dict(learning_rate=0.02, weight_decay=1e-4)),
    "nadamw": (adamx.nadamw, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "radam": (adamx.radam, dict(learning_rate=0.05), dict(learning_rate=5e-3)),
    "fused_adam": (adamx.fused_adam, dict(learning_rate=0.05), dict(learning_rate=0.02),
                   dict(dtypes=(jnp.float32, jnp.float64), sharded=False)),
    "torch SGD": (T.SGD, dict(lr=0.01, momentum=0.9, weight_decay=1e-4),
                  dict(lr=2e-4, momentum=0.9)),
    "torch Adagrad": (T.Adagrad, dict(lr=0.5), dict(lr=0.3)),
    "torch RMSprop": (T.RMSprop, dict(lr=0.02), dict(lr=5e-3)),
    "torch Adadelta": (T.Adadelta, dict(lr=1.0, eps=1e-2), dict(lr=0.3, eps=1e-3)),
    "torch Adam": (T.Adam, dict(lr=0.05, amsgrad=True), dict(lr=0.02)),
    "torch AdamW": (T.AdamW, dict(lr=0.05), dict(lr=0.02)),
    "torch Adamax": (T.Adamax, dict(lr=0.05), dict(lr=0.02)),
    "torch NAdam": (T.NAdam, dict(lr=0.05), dict(lr=0.02)),
    "torch RAdam": (T.RAdam, dict(lr=0.05), dict(lr=5e-3)),
    "keras SGD": (K.SGD, dict(learning_rate=0.01, momentum=0.9, weight_decay=1e-4),
                  dict(learning_rate=2e-4, momentum=0.9)),
    "keras RMSprop": (K.RMSprop, dict(learning_rate=0.02), dict(learning_rate=5e-3)),
    "keras Adagrad": (K.Adagrad, dict(learning_rate=0.5), dict(learning_rate=0.3)),
    "keras Adadelta": (K.Adadelta, dict(learning_rate=1.0, epsilon=1e-2),
                       dict(learning_rate=0.3, epsilon=1e-3)),
    "keras Adam": (K.Adam, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "keras AdamW": (K.AdamW, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "keras Adamax": (K.Adamax, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "keras Nadam": (K.Nadam, dict(learning_rate=0.05), dict(learning_rate=0.02)),
}
NAMES = list(METHODS)


def build(name, problem="parabola", **overrides):
  """The method ``name`` with its arguments for ``problem``, and ``overrides``."""
  factory, parabola_args, rosenbrock_args, *_ = METHODS[name]
  args = parabola_args if problem == "parabola" else rosenbrock_args
  return factory(**{**args, **overrides})


def option(name, key, default):
  entry = METHODS[name]
  return entry[3].get(key, default) if len(entry) > 3 else default


def dtypes_for(name):
  return option(name, "dtypes", ALL_DTYPES)


def elementwise(name):
  """Its update of a sharded parameter needs no communication."""
  return option(name, "elementwise", True)


def shardable(name):
  """It accepts parameters sharded over several devices (the fused kernel does not)."""
  return option(name, "sharded", True)
