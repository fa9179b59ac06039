"""The peer tables the compatibility tests run, as plain data.

``tests/test_vs_torch.py``, ``test_compat_keras.py`` and ``test_optax_rule.py``
take their cases from here, and the documentation's "coming from torch.optim /
Keras / Optax" pages are written from the same rows (``docs/_ext/adamx_docs.py``),
so a page never lists a setting that is not tested. No heavy imports: the docs
build reads this module without torch or Keras.
"""

import jax.numpy as jnp

# (class name, kwargs): at least two settings each, non-default values included.
TORCH_CASES = [
    ("SGD", dict(lr=1e-3)),
    ("SGD", dict(lr=2e-3, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=2e-3, momentum=0.8, nesterov=True, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1,
                     eps=1e-6)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=1e-3, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=1e-3, centered=True, momentum=0.5, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.01)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=3e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
    ("Adam", dict(lr=1e-2, amsgrad=True, betas=(0.7, 0.95))),
    ("Adam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("AdamW", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, betas=(0.85, 0.99), weight_decay=0.1, amsgrad=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=1e-2, betas=(0.5, 0.9), eps=1e-4, weight_decay=0.01)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=1e-2, betas=(0.95, 0.98), momentum_decay=1e-2, weight_decay=0.01)),
    ("NAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=1e-2, betas=(0.8, 0.99), weight_decay=0.01)),
    ("RAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
]

def halving(lr, every):
  """A schedule in float64, for adamx; torch's group lr is set to its value."""
  return lambda count: lr * 0.5 ** (jnp.asarray(count, jnp.float64) / every)


# torch's Adafactor, Rprop and ASGD (tests/test_factored.py): (class, shape set, kwargs,
# lr schedule or None)
TORCH_FACTORED_CASES = [
    ("Adafactor", "standard", dict(), None),
    ("Adafactor", "tensors", dict(lr=0.05, beta2_decay=-0.6, eps=(1e-8, 1e-2), d=2.0,
                                  weight_decay=0.1), None),
    ("Adafactor", "tensors", dict(lr=3e-2, eps=(1e-3, 1e-3), maximize=True), None),
    ("Adafactor", "tensors", dict(lr=0.5, weight_decay=0.01), halving(0.5, 40)),
    ("Rprop", "standard", dict(), None),
    ("Rprop", "tensors", dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-3, 0.05)), None),
    # lr above the bound: torch clips it on the first step
    ("Rprop", "standard", dict(lr=80.0, step_sizes=(1e-4, 50.0), maximize=True), None),
    ("ASGD", "standard", dict(), None),
    ("ASGD", "tensors", dict(lr=0.05, lambd=0.1, alpha=0.6, t0=20, weight_decay=0.01), None),
    ("ASGD", "standard", dict(lr=0.02, lambd=1e-2, t0=0, maximize=True), None),
    ("ASGD", "standard", dict(lr=0.05, lambd=0.1, t0=10), halving(0.05, 50)),
]


# (adamx method, its arguments, torch.optim class, torch's arguments): adamx's own
# methods with the switches that give torch's numbers.
TORCH_EQUIVALENTS = [
    ("sgd", dict(learning_rate=1e-2, momentum=0.9, nesterov=True), "SGD",
     dict(lr=1e-2, momentum=0.9, nesterov=True)),
    ("adagrad", dict(learning_rate=1e-2, initial_accumulator_value=0.0, eps=1e-10,
                     eps_in_sqrt=False), "Adagrad", dict()),
    ("rmsprop", dict(learning_rate=1e-2, decay=0.99, eps=1e-8, eps_in_sqrt=False, momentum=0.9,
                     lr_in_momentum=False), "RMSprop", dict(momentum=0.9)),
    ("nadam", dict(learning_rate=2e-3, momentum_decay=4e-3), "NAdam", dict()),
    ("radam", dict(learning_rate=1e-3, eps_hat=True), "RAdam", dict()),
    ("adam", dict(learning_rate=1e-2, b1=0.8, b2=0.99, eps=1e-6), "Adam", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6)),
    ("amsgrad", dict(learning_rate=1e-2, max_before_correction=True), "Adam", dict(lr=1e-2, amsgrad=True)),
    ("adamw", dict(learning_rate=1e-2, weight_decay=0.1), "Adam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
]

KERAS_FLOAT64_CASES = [
    ("SGD", {"learning_rate": 0.01}),
    ("SGD", {"learning_rate": 0.01, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    ("RMSprop", {}),
    ("RMSprop", {"learning_rate": 0.01, "rho": 0.8, "centered": True}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.05}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.0, "epsilon": 1e-5,
                 "weight_decay": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adadelta", {"learning_rate": 0.5, "rho": 0.9, "weight_decay": 0.05}),
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True, "weight_decay": 0.05}),
    ("AdamW", {"learning_rate": 0.01}),
    ("AdamW", {"learning_rate": 0.01, "beta_2": 0.99, "epsilon": 1e-3, "amsgrad": True}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Adamax", {"learning_rate": 0.01, "beta_1": 0.8, "weight_decay": 0.1}),
    ("Nadam", {"learning_rate": 0.01}),
    ("Nadam", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "weight_decay": 0.05}),
]

KERAS_FLOAT32_CASES = [
    ("SGD", {"learning_rate": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.9, "centered": True}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    ("AdamW", {"learning_rate": 0.01}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Nadam", {"learning_rate": 0.01}),
]

# name -> why adamx differs from Optax on purpose (README, "Deliberate differences").
DELIBERATE = {
    "adadelta": "without a learning rate adamx descends (Optax returns +Delta and ascends); "
                "for complex parameters adamx averages |g|^2 (Optax g^2, which stalls)",
    "scale_by_learning_rate": "learning_rate is required (Optax's default None fails "
                              "when the transformation is built)",
    "rprop": "the update is the current step, as in the paper and torch.optim.Rprop; Optax's "
             "returns the previous step's (its first update is 0): one_step_late=True gives it",
}
