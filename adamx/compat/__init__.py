"""Drop-in constructors named and parameterised like other libraries' optimizers."""

from adamx.compat import torch as torch
from adamx.compat import keras as keras

__all__ = ["keras", "torch"]
