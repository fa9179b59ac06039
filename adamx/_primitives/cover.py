"""SM3's cover accumulator (Anil et al., 2019): a running sum kept as one
maximum per slice of each axis, each entry reading the least of its slices."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from adamx._core.declare import primitive
from adamx._core.lift import lift_unshaped, moments_like, reduced_zeros, statistic_dtype
from adamx._core.records import record
from adamx._core.transform import Transform, transform


@primitive
def cover_accumulate(*, dtype: Any = None, name: str = "mu") -> Transform:
  """SM3's accumulator over the cover of each array's axis slices (Anil et al., 2019, SM3-II).

  The cover of an array of :math:`k \\ge 2` dimensions is its axis slices:
  one set :math:`S_{a,n}` per index :math:`n` of each axis :math:`a`, each
  with a running maximum :math:`\\mu_a[n]`. For a non-negative input
  :math:`u` (a squared gradient):

  .. math::
     \\nu_t(i) = u_t(i) + \\min_{a}\\, \\mu_{a,t-1}[i_a], \\qquad
     \\mu_{a,t}[n] = \\max_{i:\\, i_a = n}\\, \\nu_t(i)

  emitting :math:`\\nu_t` (in float32 or wider: a denominator statistic).
  A vector or scalar is its own cover (singletons): :math:`\\nu_t = \\nu_{t-1} + u_t`,
  AdaGrad's sum. Memory is the sum of the dimensions, not their product.

  State: under ``name`` (``mu``, as Optax), per leaf a list of one vector
  per axis (shape ``(n_a,)``); for a vector or scalar, a one-element list
  holding the full sum. Real, in the parameters' real dtype unless ``dtype``.
  """
  state_type = record("CoverAccumulateState", (name,))

  def expected(shape):
    return [(n,) for n in shape] if len(shape) >= 2 else [shape]

  def init_leaf(p):
    d = statistic_dtype(p, dtype)
    ndim = len(jnp.shape(p))
    if ndim < 2:
      return [moments_like(p, 0.0, d)]
    axes = range(ndim)
    return [reduced_zeros(p, tuple(b for b in axes if b != a), d) for a in axes]

  def accumulate(u, mu):
    if u.ndim < 2:
      new = u + mu[0]
      return new, [new]
    expanded = [jnp.reshape(m, [n if b == a else 1 for b, n in enumerate(u.shape)])
                for a, m in enumerate(mu)]
    new = u + functools.reduce(jnp.minimum, expanded)
    axes = range(u.ndim)
    # initial=0 (a lower bound of the non-negative nu): a zero-size axis has maxima of 0
    return new, [jnp.max(new, axis=tuple(b for b in axes if b != a), initial=0) for a in axes]

  def update(updates, state, params=None):
    del params
    out, (mu,) = lift_unshaped("cover_accumulate", accumulate, updates, state[0],
                               expected=expected, wide=True)
    return out, state_type(mu)

  return transform(lambda params: state_type(jax.tree.map(init_leaf, params)), update,
                   record=state_type)
