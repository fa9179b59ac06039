"""Turning a second moment into a denominator, and RMS-based scalings."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from adamx._combinators.chain import chain
from adamx._combinators.fanout import difference, ratio
from adamx._core import hyperparams as hp
from adamx._core.checks import check_updates
from adamx._core.kernels import full_like, leaf_dtype, unzip
from adamx._core.transform import EmptyState, Transform, transform
from adamx._primitives.bias import bias_correct
from adamx._primitives.moments import scale_by_ema, square
from adamx._primitives.scale import identity


def root(eps: hp.Scalar = 0.0) -> Transform:
  """:math:`u \\mapsto \\sqrt{\\max(u + \\epsilon, 0)}` (eps inside the root).

  A negative input can only come from rounding in a centered variance; the
  root is then 0 instead of NaN (where eps covers the rounding, the result
  is the plain :math:`\\sqrt{u + \\epsilon}`, as Optax's).
  """
  hp.validate("root", eps=eps)

  def update(updates, state, params=None):
    del params

    def leaf(u):
      d = leaf_dtype(u)
      return jnp.sqrt(jnp.maximum(u.astype(d) + hp.cast(eps, d), 0))

    return jax.tree.map(leaf, updates), state

  return transform("root", lambda params: EmptyState(), update, eps=eps)


def add_eps(eps: hp.Scalar) -> Transform:
  """:math:`u \\mapsto u + \\epsilon`, in float32 or wider (eps outside the root)."""
  hp.validate("add_eps", eps=eps)

  def update(updates, state, params=None):
    del params
    out = jax.tree.map(lambda u: u.astype(leaf_dtype(u)) + hp.cast(eps, leaf_dtype(u)), updates)
    return out, state

  return transform("add_eps", lambda params: EmptyState(), update, eps=eps)


def rms(
    decay: hp.Scalar,
    eps: hp.Scalar = 0.0,
    *,
    eps_in_sqrt: bool = False,
    bias_correction: bool = False,
    initial_scale: hp.Scalar = 0.0,
    centered: bool = False,
    dtype: Any = None,
) -> Transform:
  """Denominator: root of an EMA of squared updates, plus eps.

  .. math::
     v_t = \\beta v_{t-1} + (1-\\beta) u_t^2,\\quad
     D_t = \\sqrt{\\hat v_t} + \\epsilon \\;\\text{ or }\\;
     \\sqrt{\\hat v_t + \\epsilon}\\;(\\text{eps\\_in\\_sqrt})

  where :math:`\\hat v_t = v_t/(1-\\beta^t)` with ``bias_correction``. With
  ``centered`` the squared mean is subtracted first (Graves, 2013):
  ``difference(E[u^2], E[u]^2)``, each EMA corrected alike.
  """
  correct = [bias_correct(decay)] if bias_correction else []
  second = [square(), scale_by_ema(decay, initial_value=initial_scale, dtype=dtype), *correct]
  if centered:
    second = [difference(chain(*second), chain(scale_by_ema(decay, dtype=dtype), *correct, square()))]
  return chain(*second, root(eps if eps_in_sqrt else 0.0), add_eps(0.0 if eps_in_sqrt else eps))


def scale_by_rms(
    decay: hp.Scalar = 0.9,
    eps: hp.Scalar = 1e-8,
    *,
    eps_in_sqrt: bool = False,
    bias_correction: bool = False,
    initial_scale: hp.Scalar = 0.0,
    numerator: Any = None,
    nu_dtype: Any = None,
) -> Transform:
  """Divides by the root mean square of the *raw* updates (Hinton, 2012).

  .. math::  u \\mapsto N(u_t) / D_t

  with :math:`D_t` from :func:`rms` and :math:`N` = ``numerator`` (identity
  by default). The RMS is always taken of the raw updates, so with
  ``numerator=chain(scale_by_ema(b1), bias_correct(b1))`` and
  ``bias_correction=True`` this is Adam, not RMSProp followed by momentum.
  """
  return ratio(
      numerator if numerator is not None else identity(),
      rms(decay, eps, eps_in_sqrt=eps_in_sqrt, bias_correction=bias_correction,
          initial_scale=initial_scale, dtype=nu_dtype),
  )


class ScaleByUpdateRmsState(NamedTuple):
  nu: Any  # EMA of the squared *outputs* (Adadelta's E[dx^2])


def scale_by_update_rms(decay: hp.Scalar, eps: hp.Scalar = 1e-6, *, dtype: Any = None) -> Transform:
  """Multiplies by the RMS of this transform's own past outputs (Zeiler, 2012).

  .. math::
     \\Delta_t = \\sqrt{E[\\Delta^2]_{t-1} + \\epsilon}\\; u_t,\\qquad
     E[\\Delta^2]_t = \\rho E[\\Delta^2]_{t-1} + (1-\\rho) \\Delta_t^2

  After ``ratio(identity(), rms(rho, eps, eps_in_sqrt=True))`` this is
  Adadelta's unit-correcting step.
  """
  hp.validate("scale_by_update_rms", decay=decay, eps=eps)

  def init(params):
    return ScaleByUpdateRmsState(nu=full_like(params, 0.0, dtype))

  def update(updates, state, params=None):
    del params
    check_updates("scale_by_update_rms", updates, state.nu)

    def leaf(u, n):
      d = leaf_dtype(u, n)
      rho = hp.cast(decay, d)
      delta = jnp.sqrt(n.astype(d) + hp.cast(eps, d)) * u.astype(d)
      new = rho * n.astype(d) + (1 - rho) * jnp.square(delta)
      return delta.astype(jnp.result_type(u)), new.astype(n.dtype)

    out, nu = unzip(jax.tree.map(leaf, updates, state.nu), updates)
    return out, ScaleByUpdateRmsState(nu=nu)

  return transform("scale_by_update_rms", init, update, decay=decay, eps=eps)
