"""The one table of methods every contract test runs over.

A method, compat class or fast path is entered here once, with arguments
under which it converges on the two contract problems, and is then covered
by tests/test_contract.py, test_tree_properties.py, test_dtypes.py,
test_hyperparams_as_data.py, test_checkpoint.py and sharding_checks.py.
"""

import functools

import jax.numpy as jnp
import optax

import adamx
from adamx.compat import keras as K
from adamx.compat import torch as T


def cautious_adamw(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4):
  """C-AdamW (Liang et al. 2024): the mask acts on Adam's direction, not on the decay."""
  return adamx.chain(adamx.cautious(adamx.scale_by_adam(b1, b2, eps)),
                     adamx.add_decayed_weights(weight_decay),
                     adamx.scale_by_learning_rate(learning_rate))


def cautious_sgd(learning_rate, momentum=0.9):
  """C-SGD with heavy-ball momentum."""
  return adamx.chain(adamx.cautious(adamx.momentum(momentum)),
                     adamx.scale_by_learning_rate(learning_rate))


def mars_lion(learning_rate, b1=0.9, gamma=0.025, weight_decay=0.0):
  """MARS with Lion's direction (its b2 and eps do not act there)."""
  return adamx.mars(learning_rate, b1=b1, gamma=gamma, weight_decay=weight_decay, variant="lion")


def fused_version(method):
  """``adamx.fused(method(...))``, with the method's own signature."""

  @functools.wraps(method)
  def build(*args, **kwargs):
    return adamx.fused(method(*args, **kwargs))

  return build


FUSED = dict(dtypes=(jnp.float32, jnp.float64), sharded=False, complex=False)
# Quantized moments on every leaf with an axis (min_size=1: the test problems are small).
INT8 = dict(mu_dtype=adamx.quantized(8, min_size=1), nu_dtype=adamx.quantized(8, min_size=1))
INT4 = dict(mu_dtype=adamx.quantized(4, min_size=1), nu_dtype=adamx.quantized(4, min_size=1))
QUANTIZED = dict(elementwise=False)  # block maxima along a sharded last axis communicate
ALL_DTYPES = (jnp.float32, jnp.bfloat16, jnp.float64)

# name -> (factory, arguments on the parabola, arguments on Rosenbrock[, options]).
# Options: "dtypes" (default all three), "elementwise" (default True: its update of a
# sharded parameter needs no communication), "complex" (default True: it takes complex
# parameters; False: it refuses them with a TypeError), "sharded" (default True).
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
    "sign_sgd": (adamx.sign_sgd, dict(learning_rate=0.02),
                 dict(learning_rate=optax.exponential_decay(0.01, 1000, 0.1))),
    "signum": (adamx.signum, dict(learning_rate=0.02),
               dict(learning_rate=optax.exponential_decay(0.01, 500, 0.1))),
    "lion": (adamx.lion, dict(learning_rate=0.02, b2=0.9),
             dict(learning_rate=optax.exponential_decay(0.01, 500, 0.1))),
    "lars": (adamx.lars, dict(learning_rate=10.0), dict(learning_rate=1.0), dict(elementwise=False)),
    "lamb": (adamx.lamb, dict(learning_rate=0.05), dict(learning_rate=0.02), dict(elementwise=False)),
    "fromage": (adamx.fromage, dict(learning_rate=0.05, min_norm=0.0), dict(learning_rate=0.01),
                dict(elementwise=False)),
    "novograd": (adamx.novograd, dict(learning_rate=0.05), dict(learning_rate=0.01),
                 dict(elementwise=False)),
    "adabelief": (adamx.adabelief, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "yogi": (adamx.yogi, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "adamaxw": (adamx.adamaxw, dict(learning_rate=0.05), dict(learning_rate=0.05)),
    "acprop": (adamx.acprop, dict(learning_rate=0.02), dict(learning_rate=1e-2)),
    "adopt": (adamx.adopt, dict(learning_rate=0.05), dict(learning_rate=0.1), dict(complex=False)),
    "madgrad": (adamx.madgrad, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "sophia": (adamx.sophia, dict(learning_rate=0.05, hessian_diagonal_fn=adamx.square()),
               dict(learning_rate=0.02, hessian_diagonal_fn=adamx.square()), dict(complex=False)),
    "optimistic_gradient_descent": (adamx.optimistic_gradient_descent, dict(learning_rate=0.02),
                                    dict(learning_rate=1e-3)),
    "optimistic_adam": (adamx.optimistic_adam, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "optimistic_adam_v2": (adamx.optimistic_adam_v2, dict(learning_rate=0.05),
                           dict(learning_rate=0.02)),
    "adan": (adamx.adan, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "ademamix": (adamx.ademamix, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "simplified_ademamix": (adamx.simplified_ademamix, dict(learning_rate=0.01, b1=0.9),
                            dict(learning_rate=1e-3)),
    "mars": (adamx.mars, dict(learning_rate=0.05), dict(learning_rate=0.02), dict(elementwise=False)),
    "mars lion": (mars_lion, dict(learning_rate=0.02), dict(learning_rate=0.01),
                  dict(elementwise=False)),
    "adam_mini": (adamx.adam_mini, dict(learning_rate=0.05), dict(learning_rate=0.02),
                  dict(elementwise=False)),
    "laprop": (adamx.laprop, dict(learning_rate=0.05), dict(learning_rate=0.02)),
    "cautious adamw": (cautious_adamw, dict(learning_rate=0.05), dict(learning_rate=0.02),
                       dict(elementwise=False, complex=False)),
    "cautious sgd momentum": (cautious_sgd, dict(learning_rate=0.01), dict(learning_rate=2e-4),
                              dict(elementwise=False, complex=False)),
    "adafactor": (adamx.adafactor, dict(learning_rate=0.1), dict(learning_rate=0.05),
                  dict(elementwise=False)),
    "adafactor momentum": (adamx.adafactor,
                           dict(learning_rate=0.05, momentum=0.9, dtype_momentum=None,
                                min_dim_size_to_factor=1),
                           dict(learning_rate=0.02, momentum=0.9, dtype_momentum=None),
                           dict(elementwise=False)),
    "sm3": (adamx.sm3, dict(learning_rate=0.5), dict(learning_rate=0.2), dict(elementwise=False)),
    "rprop": (adamx.rprop, dict(learning_rate=0.01), dict(learning_rate=1e-3)),
    "torch Adafactor": (T.Adafactor, dict(lr=0.1), dict(lr=0.05), dict(elementwise=False)),
    "torch Rprop": (T.Rprop, dict(lr=0.01), dict(lr=1e-3)),
    "torch ASGD": (T.ASGD, dict(lr=0.04), dict(lr=1e-3)),
    "fused adam": (fused_version(adamx.adam), dict(learning_rate=0.05), dict(learning_rate=0.02),
                   FUSED),
    "fused adamw": (fused_version(adamx.adamw), dict(learning_rate=0.05, weight_decay=1e-3),
                    dict(learning_rate=0.02), FUSED),
    "fused sgd momentum": (fused_version(adamx.sgd), dict(learning_rate=0.01, momentum=0.9),
                           dict(learning_rate=2e-4, momentum=0.9, nesterov=True), FUSED),
    "fused lion": (fused_version(adamx.lion), dict(learning_rate=0.01), dict(learning_rate=1e-3),
                   FUSED),
    "fused adagrad": (fused_version(adamx.adagrad), dict(learning_rate=0.5),
                      dict(learning_rate=0.3), FUSED),
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
    "adam int8": (adamx.adam, dict(learning_rate=0.05, **INT8), dict(learning_rate=0.02, **INT8),
                  QUANTIZED),
    "adam int4": (adamx.adam, dict(learning_rate=0.05, **INT4), dict(learning_rate=0.02, **INT4),
                  QUANTIZED),
    "lion int8": (adamx.lion, dict(learning_rate=0.03, mu_dtype=INT8["mu_dtype"]),
                  dict(learning_rate=3e-3, mu_dtype=INT8["mu_dtype"]),
                  # bfloat16 parameters: a step of 3e-3 is below half an ulp of 1.0, so
                  # Lion (quantized or not) stalls on Rosenbrock; stochastic_rounding is for that.
                  dict(QUANTIZED, dtypes=(jnp.float32, jnp.float64))),
    "sgd momentum int8": (adamx.sgd, dict(learning_rate=0.01, momentum=0.9,
                                          accumulator_dtype=INT8["mu_dtype"]),
                          dict(learning_rate=2e-4, momentum=0.9,
                               accumulator_dtype=INT8["mu_dtype"]), QUANTIZED),
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


def takes_complex(name):
  """It takes complex parameters (else it refuses them with a TypeError)."""
  return option(name, "complex", True)


def shardable(name):
  """It accepts parameters sharded over several devices (the fused kernel does not)."""
  return option(name, "sharded", True)
