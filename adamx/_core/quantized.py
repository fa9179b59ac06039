"""Quantized storage for statistics: 8-bit and 4-bit codes with a scale per block.

A statistic stored as ``"int8"`` or ``"int4"`` (``mu_dtype``, ``nu_dtype``, a
primitive's ``dtype``) keeps, per leaf, a code for every element and one
float32 scale per block of ``block`` consecutive elements along the last axis
(block-wise absmax: Dettmers et al., 2022, "8-bit Optimizers via Block-wise
Quantization"). An element is ``code_map[code] * scale``; ``scale`` is the
block's largest magnitude, so every block uses its code map's full range.

Code maps (values in [-1, 1], or [0, 1] for a non-negative statistic):

* signed, both widths: the *dynamic* map of Dettmers (2016, 2022): after the
  sign bit, the number of leading zero bits is a decimal exponent ``e`` and
  the bits after the first one a linear fraction, so the codes are
  ``±10^-e * f`` with ``f`` on a linear grid of (0.1, 1]: a constant
  relative precision over ``bits - 1`` decades.
* non-negative (second moments): the same construction without a sign bit,
  one more decade or twice the fractions, and **no zero**: a second moment
  rounded to zero would divide a nonzero first moment by ``eps`` (the
  zero-point problem of Li et al., 2023); the smallest code rounds it up.

Each element is rounded stochastically to one of its two neighbouring codes
(unbiased), so an average that changes by less than half a code gap per step
still moves in expectation, where rounding to nearest would freeze it.

Each leaf's state is a :class:`typing.NamedTuple` ``(codes, scales, seed)``
(``seed`` a uint32 counter for the rounding noise) whose
class carries the format, so it is a plain pytree of arrays (checkpoints and
``vmap`` as any state) and the format is static under ``jit``. Leaves of
fewer than ``min_size`` elements, and 0-d leaves, stay float32: their state
is small and their values are often few and different (biases, norms).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

FORMAT_NAMES = {"int8": (8, 256), "int4": (4, 128)}
_MANTISSA = 7  # mantissa bits of the lookup that starts the search for a code


def _dynamic_map(bits: int, signed: bool) -> np.ndarray:
  """Sorted codes of the dynamic map (see the module docstring)."""
  magnitude_bits = bits - 1 if signed else bits
  positive = []
  for exponent in range(magnitude_bits):
    fractions = np.linspace(0.1, 1.0, 2 ** (magnitude_bits - 1 - exponent) + 1)[1:]
    positive.extend(10.0 ** -exponent * fractions)
  positive = np.sort(np.asarray(positive))
  if signed:  # 2 * (2^(bits-1) - 1) + 1 codes: zero, and 0 repeated once to fill the byte
    values = np.concatenate([-positive[::-1], [0.0, 0.0], positive])
  else:  # 2^bits - 1 codes above zero, and the smallest once more in zero's place
    values = np.concatenate([positive[:1], positive])
  assert len(values) == 2 ** bits
  return values.astype(np.float32)


@dataclasses.dataclass(frozen=True)
class Format:
  """A quantized storage format: ``bits`` per element, a scale per ``block``."""

  name: str
  bits: int
  block: int
  nonnegative: bool = False
  min_size: int = 4096

  @functools.cached_property
  def code_map(self) -> np.ndarray:
    return _dynamic_map(self.bits, signed=not self.nonnegative)

  @property
  def container(self) -> type:
    """The NamedTuple class of a leaf's state in this format (one class per format, so
    states built separately have the same tree structure)."""
    return _container(self)

  def for_nonnegative(self) -> Format:
    return dataclasses.replace(self, nonnegative=True)

  def keeps_quantized(self, shape: tuple[int, ...]) -> bool:
    return len(shape) >= 1 and math.prod(shape) >= self.min_size

  @functools.cached_property
  def magnitudes(self) -> np.ndarray:
    """The code map's distinct magnitudes in order, from 0 (or the smallest code)."""
    table = self.code_map
    return table if self.nonnegative else table[len(table) // 2:]

  @functools.cached_property
  def lookup(self) -> np.ndarray:
    """The magnitude index at or below each float32 bucket of 7 mantissa bits: the start
    of a search that two comparisons finish (a bucket is narrower than two code gaps)."""
    keys = np.arange((127 << _MANTISSA) + 1, dtype=np.uint32)
    starts = (keys << (23 - _MANTISSA)).view(np.float32)
    below = np.searchsorted(self.magnitudes, starts, side="right") - 1
    return np.clip(below, 0, len(self.magnitudes) - 2).astype(np.uint8)

  def encode(self, x: jax.Array, seed: jax.Array) -> Any:
    """``x`` (float32) as codes and block scales, each element rounded *stochastically*
    to one of its two neighbouring codes (unbiased: ``E[decode] = x``), with noise
    from ``seed``: nearest rounding would drop every change of a statistic smaller
    than half a code gap, freezing an average whose decay is close to 1."""
    x = x.astype(jnp.float32)
    *lead, n = x.shape
    blocks = -(-n // self.block)
    padded = jnp.pad(x, [(0, 0)] * len(lead) + [(0, blocks * self.block - n)])
    padded = padded.reshape(*lead, blocks, self.block)
    scales = jnp.max(jnp.abs(padded), axis=-1)
    magnitude = jnp.minimum(jnp.abs(padded) / jnp.where(scales > 0, scales, 1)[..., None], 1)
    table = jnp.asarray(self.magnitudes)
    last = len(self.magnitudes) - 2
    key = jax.lax.bitcast_convert_type(magnitude, jnp.uint32) >> (23 - _MANTISSA)
    below = jnp.asarray(self.lookup)[key].astype(jnp.int32)
    for _ in range(2):  # at most two code boundaries fall inside a bucket
      below = jnp.minimum(below + (magnitude >= table[below + 1]).astype(jnp.int32), last)
    low, high = table[below], table[below + 1]
    up = (magnitude - low) / jnp.where(high > low, high - low, 1)
    index = below + (uniform_noise(padded.shape, seed) < up).astype(jnp.int32)
    if self.nonnegative:
      codes = index
    else:  # the signed map is [-magnitudes reversed, then magnitudes]: 0 is coded twice
      middle = len(self.code_map) // 2
      codes = jnp.where(padded < 0, middle - 1 - index, middle + index)
    codes = codes.astype(jnp.uint8).reshape(*lead, blocks * self.block)[..., :n]
    if self.bits == 4:
      codes = jnp.pad(codes, [(0, 0)] * len(lead) + [(0, n % 2)])
      codes = codes[..., 0::2] | (codes[..., 1::2] << 4)
    return self.container(codes, scales.astype(jnp.float32), seed + jnp.uint32(1))

  def decode(self, stored: Any, shape: tuple[int, ...]) -> jax.Array:
    """The float32 values of ``stored``, a leaf of ``shape``."""
    *lead, n = shape
    codes = stored.codes
    if self.bits == 4:
      codes = jnp.stack([codes & 15, codes >> 4], axis=-1).reshape(*lead, -1)[..., :n]
    values = jnp.asarray(self.code_map)[codes]
    blocks = stored.scales.shape[-1]
    values = jnp.pad(values, [(0, 0)] * len(lead) + [(0, blocks * self.block - n)])
    values = values.reshape(*lead, blocks, self.block) * stored.scales[..., None]
    return values.reshape(*lead, blocks * self.block)[..., :n]

  def stored_shapes(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The shapes of the codes and the scales of a leaf of ``shape``."""
    *lead, n = shape
    codes = n if self.bits == 8 else -(-n // 2)
    return (*lead, codes), (*lead, -(-n // self.block))


@functools.lru_cache(maxsize=None)
def _container(fmt: Format) -> type:
  cls = NamedTuple(f"Quantized_{fmt.name}_{'u' if fmt.nonnegative else 's'}{fmt.block}",
                   [("codes", Any), ("scales", Any), ("seed", Any)])
  cls.quantized_format = fmt
  return cls


def quantized(bits: int = 8, *, block_size: int | None = None, min_size: int = 4096) -> Format:
  """A quantized storage format for a statistic, to pass as ``mu_dtype``,
  ``nu_dtype`` or a primitive's ``dtype``: ``"int8"`` is ``quantized(8)``,
  ``"int4"`` is ``quantized(4)``.

  Each leaf of at least ``min_size`` elements keeps a ``bits``-bit code per
  element and a float32 scale per ``block_size`` elements along its last
  axis (default 256 for 8 bits, 128 for 4); smaller and 0-d leaves, and
  complex ones, stay unquantized. A second moment (``nu_dtype``) uses the
  format's non-negative code map. See :mod:`adamx._core.quantized` for the maps.

  Storage per element of a leaf whose last axis has :math:`n` elements:
  :math:`\\text{bits}/8 + 4\\lceil n/B\\rceil/n` bytes (int8, n = 768: 1.016).

  Example:
    >>> import jax, jax.numpy as jnp, optax, adamx
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> opt = adamx.adam(0.1, mu_dtype="int8", nu_dtype=adamx.quantized(8, min_size=1))
    >>> params = jnp.zeros(3, jnp.float32)
    >>> state = opt.init(params)
    >>> type(state.nu).__name__, state.nu.codes.dtype
    ('Quantized_int8_u256', dtype('uint8'))
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  if bits not in (4, 8):
    raise ValueError(f"quantized: bits={bits!r}; valid: 4 or 8.")
  default_block = FORMAT_NAMES[f"int{bits}"][1]
  block = default_block if block_size is None else block_size
  if not isinstance(block, int) or block < 1 or not isinstance(min_size, int) or min_size < 0:
    raise ValueError(f"quantized: block_size={block_size!r}, min_size={min_size!r}; valid: "
                     "block_size an int >= 1, min_size an int >= 0.")
  return Format(f"int{bits}", bits, block, min_size=min_size)


def as_format(value: Any) -> Format | None:
  """The format ``value`` names (``"int8"``, ``"int4"`` or a :class:`Format`), else None."""
  if isinstance(value, Format):
    return value
  if isinstance(value, str) and value in FORMAT_NAMES:
    bits, block = FORMAT_NAMES[value]
    return Format(value, bits, block)
  return None


def uniform_noise(shape: tuple[int, ...], seed: jax.Array) -> jax.Array:
  """Uniform [0, 1) float32 noise, one value per element, from a cheap integer hash
  of the element's index and ``seed`` (a uint32 counter: new noise every write;
  reproducible, and much cheaper per element than a counter-based PRNG)."""
  index = jax.lax.iota(jnp.uint32, math.prod(shape)).reshape(shape)
  h = index * jnp.uint32(0x9E3779B1) + seed * jnp.uint32(0x85EBCA77)
  h = (h ^ (h >> 16)) * jnp.uint32(0x7FEB352D)
  h = (h ^ (h >> 15)) * jnp.uint32(0x846CA68B)
  h = h ^ (h >> 16)
  return (h >> 8).astype(jnp.float32) * jnp.float32(2.0 ** -24)


def for_nonnegative(dtype: Any) -> Any:
  """``dtype`` for a statistic that is never negative: a format's unsigned map."""
  fmt = as_format(dtype)
  return fmt.for_nonnegative() if fmt is not None else dtype


def is_quantized(node: Any) -> bool:
  return hasattr(type(node), "quantized_format")


def quantized_like(like: Any, value: float, fmt: Format) -> Any:
  """A leaf's initial state in ``fmt``: constant ``value``; float32 if the leaf is small
  (complex: its own dtype, the codes being real)."""
  if jnp.issubdtype(like.dtype, jnp.complexfloating):
    return jnp.full_like(like, value)
  if not fmt.keeps_quantized(like.shape):
    return jnp.full_like(like, value, jnp.float32)
  # A constant needs no search: every element is the code of sign(value) at scale |value|
  # (built with full_like, so the codes keep the parameter's sharding).
  table = fmt.code_map
  code = int(np.argmin(np.abs(table - np.sign(value)))) if value else int(np.argmin(np.abs(table)))
  if fmt.bits == 4:
    code |= code << 4
  codes_shape, scales_shape = fmt.stored_shapes(like.shape)
  codes = jnp.full_like(like, code, jnp.uint8) if fmt.bits == 8 else jnp.full(codes_shape, code, jnp.uint8)
  return fmt.container(codes, jnp.full(scales_shape, abs(value), jnp.float32), jnp.uint32(0))


def read(stored: Any, shape: tuple[int, ...]) -> jax.Array:
  """A stored statistic as an array: decoded if quantized."""
  if is_quantized(stored):
    return type(stored).quantized_format.decode(stored, shape)
  return jnp.asarray(stored)


def write(value: jax.Array, old: Any) -> Any:
  """``value`` re-encoded in the format of ``old``, a quantized statistic (its noise
  counter advanced)."""
  return type(old).quantized_format.encode(value.astype(jnp.float32), old.seed)
