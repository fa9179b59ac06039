"""Stochastic rounding: pure bfloat16/float16 parameters that still learn.

With parameters stored in bfloat16, ``optax.apply_updates(p, u)`` rounds
``p + u`` to nearest: an update below half a unit in the last place of
``p`` (bfloat16 keeps 8 significant bits: 0.2% to 0.4% of the weight) is
lost, every step, and training stalls. :func:`stochastic_rounding`, the last
part of a chain, rounds ``p + u`` up or down at random instead, so that the
stored parameter is ``p + u`` on average and small updates add up.
"""

from __future__ import annotations

import numbers
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from adamx._core import hyperparams as hp
from adamx._core.checks import check_params
from adamx._core.declare import primitive
from adamx._core.lift import dtype_of
from adamx._core.records import record
from adamx._core.transform import Transform, transform

StochasticRoundingState = record("StochasticRoundingState", ("key",))

_SIGN = np.uint32(0x80000000)
_FLOAT16_MAX = np.float32(65504.0)


def _check_seed(seed: Any) -> None:
  """An int, or an integer 0-d array (traced under ``jax.vmap``)."""
  if isinstance(seed, (np.ndarray, np.generic, jax.Array)):
    valid = np.ndim(seed) == 0 and np.issubdtype(seed.dtype, np.integer)
  else:
    valid = isinstance(seed, numbers.Integral) and not isinstance(seed, bool)
  if not valid:
    raise hp.InvalidHyperparameter(
        f"stochastic_rounding: seed={seed!r} is not an int; valid: an int, or an"
        " integer 0-d array.")


def _bits_of(x: jax.Array) -> jax.Array:
  return jax.lax.bitcast_convert_type(x, jnp.uint32)


def _float_of(pattern: jax.Array) -> jax.Array:
  return jax.lax.bitcast_convert_type(pattern, jnp.float32)


def round_to_bfloat16(x: jax.Array, bits: jax.Array) -> jax.Array:
  """``x`` (float32) rounded at random to bfloat16, as a float32 array.

  A bfloat16 number is a float32 whose 16 low bits are zero. Within a
  binade the low 16 bits of ``x`` count, in units of :math:`2^{-16}`, how far
  ``x`` lies from ``down`` (``x`` with them cleared) toward ``up`` (the next
  bfloat16, one step further from zero). Adding a uniform random 16-bit
  integer (the top 16 of ``bits``, uint32 shaped like ``x``) to the pattern
  carries into bit 16 with probability exactly ``(x - down) / (up - down)``;
  clearing the low bits then leaves ``up`` or ``down``. The carry crosses
  into the next binade at a power of two, runs through the subnormals
  alike, and past the largest finite value reaches ``inf`` (as if ``inf``
  were one spacing further). ``±0``, ``±inf`` and bfloat16 numbers have no
  low bits and are unchanged; NaN is kept. Integer operations only: nothing
  for a compiler to simplify (a float32 -> bfloat16 -> float32 round trip
  may be removed by XLA's excess-precision simplifications).
  """
  rounded = _float_of((_bits_of(x) + (bits >> 16)) & np.uint32(0xFFFF0000))
  return jnp.where(jnp.isnan(x), x, rounded)


def round_to_float16(x: jax.Array, bits: jax.Array) -> jax.Array:
  """``x`` (float32) rounded at random to float16, as a float32 array.

  The float16 spacing at ``|x|`` is :math:`s = 2^{\\max(e, -14) - 10}`,
  :math:`e` the binade of ``|x|``. In units of :math:`s`, :math:`a = |x|/s`
  has whole part :math:`\\lfloor a \\rfloor` (``down``) and fraction
  :math:`f = a - \\lfloor a \\rfloor`, and
  :math:`|q| = (\\lfloor a \\rfloor + [U < f])\\, s` with :math:`U` uniform on
  :math:`\\{k\\, 2^{-24}\\}` (the top 24 of ``bits``, uint32 shaped like
  ``x``). Each operation is exact in float32 (products by powers of two
  built from the exponent bits, a floor, a number minus its floor, an
  integer below :math:`2^{11}` times a power of two), so
  :math:`P(U < f) = f` wherever :math:`f` is a multiple of :math:`2^{-24}`:
  for every :math:`|x| \\ge 2^{-25}`; below it (half the smallest subnormal)
  the bias is under :math:`2^{-48}`. Past the largest finite value, 65504,
  ``q`` is 65504 or ``inf`` (as if ``inf`` were one spacing further, at
  65536). ``±0``, ``±inf``, NaN and float16 numbers are unchanged (``f`` is
  0 or NaN). No float32 -> float16 -> float32 round trip, as for
  :func:`round_to_bfloat16`.
  """
  pattern = _bits_of(x)
  binade = jnp.maximum((pattern >> 23) & np.uint32(0xFF), np.uint32(127 - 14))  # biased
  spacing = _float_of((binade - np.uint32(10)) << 23)
  units = jnp.abs(x) * _float_of((np.uint32(254 + 10) - binade) << 23)  # |x| / spacing
  whole = jnp.floor(units)
  uniform = (bits >> 8).astype(jnp.float32) * np.float32(2.0**-24)
  magnitude = (whole + (uniform < units - whole).astype(jnp.float32)) * spacing
  magnitude = jnp.where(magnitude > _FLOAT16_MAX, np.float32(np.inf), magnitude)
  return _float_of(_bits_of(magnitude) | (pattern & _SIGN))


_ROUND = {jnp.dtype(jnp.bfloat16): round_to_bfloat16, jnp.dtype(jnp.float16): round_to_float16}


def _to_rounded(u: Any, p: Any, key: jax.Array) -> Any:
  """The float32 update that moves ``p`` to ``p + u`` rounded at random to ``p``'s dtype
  (``u`` itself where that dtype is not bfloat16 or float16)."""
  round_to = _ROUND.get(dtype_of(p))
  if round_to is None:
    return u
  p32 = jnp.asarray(p).astype(jnp.float32)
  target = p32 + jnp.asarray(u).astype(jnp.float32)
  q = round_to(target, jax.random.bits(key, target.shape, jnp.uint32))
  # q == p: no move (an infinite parameter stays so: inf - inf would be NaN).
  return jnp.where(q == p32, np.float32(0.0), q - p32)


@primitive
def stochastic_rounding(seed: int = 0) -> Transform:
  """Rounds ``p + u`` at random to the dtype of bfloat16 and float16 parameters.

  The last part of a chain. For each parameter :math:`p` stored in
  bfloat16 or float16, with incoming update :math:`u`:

  .. math::
     x = \\mathrm{f32}(p) + \\mathrm{f32}(u),\\qquad
     q = \\begin{cases} \\text{up} & \\text{with probability }
         \\dfrac{x - \\text{down}}{\\text{up} - \\text{down}} \\\\
         \\text{down} & \\text{otherwise} \\end{cases},\\qquad
     u_{\\text{out}} = q - \\mathrm{f32}(p) \\ \\text{(float32)}

  where :math:`\\text{down} \\le x \\le \\text{up}` are the neighbours of
  :math:`x` in the parameter's dtype (:math:`q = x` when :math:`x` is one), so
  :math:`E[q] = x`: the stored parameter follows :math:`p + u` on average,
  however small :math:`u` is against the spacing of :math:`p`. Round to
  nearest, what ``optax.apply_updates`` does with updates of the parameters'
  dtype, drops every update below half the spacing (in bfloat16 up to 0.4%
  of the weight: 0.25 at 100), and training stalls there. The price is
  noise: a step moves :math:`p` by up to one spacing, at random.

  ``optax.apply_updates(p, u_out)`` computes ``(p + u_out).astype(p.dtype)``
  in float32 and lands exactly on :math:`q`. While :math:`|q| < 2^{16}|p|`
  (float16: :math:`2^{13}|p|`), :math:`p + u_{\\text{out}}` is :math:`q`
  already in float32, for :math:`q - p` is exact. Both have 8 (11)
  significant bits: when :math:`|q| \\ge |p|`, :math:`q - p` is a multiple of
  the spacing of :math:`p` below :math:`2^{e_q + 1}`, at most 24 bits; when
  :math:`|q|` is far below :math:`|p|`, :math:`x = p + u` cancelled, exactly
  (Sterbenz's lemma), so :math:`q` lies on the float32 grid of :math:`u`,
  whose spacing is at least half that of :math:`p`, and :math:`q - p` fits
  again. Beyond the bound, :math:`p + u_{\\text{out}}` is within one float32
  unit of :math:`q`, far inside the spacing of :math:`q`, and the cast rounds
  it to :math:`q`. The tests check both for every finite bfloat16 and
  float16 :math:`p` against updates from :math:`2^{-40}` to :math:`2^{40}`
  times it. Exceptions: the sign of a zero is not kept; a :math:`q - p`
  beyond float32's range (:math:`|p| + |q| > 3.4 \\cdot 10^{38}`, opposite
  signs) gives :math:`\\pm\\infty`.

  The rounding is exactly unbiased (float16 below :math:`2^{-25}`: a bias
  below :math:`2^{-48}`) and made of integer operations on bit patterns and
  exact float32 arithmetic, with no float32 -> 16-bit -> float32 round trip
  for XLA's excess-precision simplifications to remove. For bfloat16 (a
  float32 with 16 zero low bits) a uniform random 16-bit integer is added to
  the low 16 bits of the pattern of :math:`x`, which are then cleared: the
  carry happens with probability exactly
  :math:`(x - \\text{down}) / (\\text{up} - \\text{down})`. For float16,
  :math:`|q| = (\\lfloor a \\rfloor + [U < a - \\lfloor a \\rfloor])\\, s`, with
  :math:`a = |x| / s` in units of the float16 spacing :math:`s` at
  :math:`|x|` and :math:`U` uniform on 24 bits. Past the largest finite value
  :math:`q` is that value or :math:`\\pm\\infty`, as if :math:`\\infty` were one
  spacing further; NaN stays NaN, an infinite parameter stays infinite.
  Subnormals follow the platform: XLA on CPU flushes float32 subnormals in
  arithmetic, so an :math:`x` or an update below :math:`1.2 \\cdot 10^{-38}`
  in magnitude counts as 0 here, as in ``optax.apply_updates``.

  Parameters of other dtypes (float32, float64...) pass their updates
  through unchanged: ``chain(method, stochastic_rounding())`` is the method
  itself on them, bit for bit. Place it last in the chain, after the
  learning rate, and apply its updates with ``optax.apply_updates`` under
  JAX's standard dtype promotion (its default: a bfloat16 parameter plus a
  float32 update is float32). Needs the parameters.

  State: ``key``, a raw uint32 PRNG key (``jax.random.key_data`` of
  ``jax.random.key(seed)``: a plain array, saved by ``flax.serialization``
  and Orbax as it is), split every step; the leaves draw from one split
  each, in tree order. The same seed gives the same trajectory.

  Args:
    seed: the PRNG seed, an int (or an integer 0-d array, e.g. under
      ``jax.vmap``).

  Example:
    Near 100 the spacing of bfloat16 is 0.5; Adam's steps, about 0.02 at
    most, are far below half of it. Rounded to nearest the weights never
    leave their start, 2 from the optimum; rounded at random they reach it.

    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> target = jnp.arange(96.0, 104.0, dtype=jnp.float32)
    >>> def loss(w): return jnp.mean((w.astype(jnp.float32) - target) ** 2)
    >>> def train(opt, steps=1000):
    ...   @jax.jit
    ...   def step(w, state):
    ...     updates, state = opt.update(jax.grad(loss)(w), state, w)
    ...     with jax.numpy_dtype_promotion("standard"):
    ...       return optax.apply_updates(w, updates), state
    ...   w = (target + 2).astype(jnp.bfloat16)
    ...   state = opt.init(w)
    ...   for _ in range(steps):
    ...     w, state = step(w, state)
    ...   return loss(w)
    >>> adam = adamx.adam(optax.cosine_decay_schedule(0.02, 1000))
    >>> print(f"nearest {train(adam):.4f}")
    nearest 4.0000
    >>> print(f"stochastic {train(adamx.chain(adam, adamx.stochastic_rounding(seed=0))):.4f}")
    stochastic 0.0000
  """
  _check_seed(seed)

  def init(params):
    del params
    return StochasticRoundingState(jax.random.key_data(jax.random.key(seed)))

  def update(updates, state, params=None):
    check_params("stochastic_rounding", params, updates)
    structure = jax.tree.structure(updates)
    key, step = jax.random.split(jax.random.wrap_key_data(state.key))
    leaves = zip(structure.flatten_up_to(updates), structure.flatten_up_to(params),
                 jax.random.split(step, structure.num_leaves))
    out = [_to_rounded(u, p, k) for u, p, k in leaves]
    return structure.unflatten(out), StochasticRoundingState(jax.random.key_data(key))

  return transform(init, update, record=StochasticRoundingState)
