"""``fused_adam``: Adam as one single-pass kernel over every leaf.

``adamx.adam`` is a chain of primitives; XLA compiles it to about three loops
per leaf, so a step costs ~40 bytes of memory traffic per float32 parameter
and compile time grows with the number of leaves. ``fused_adam`` computes the
same recipe, operation for operation, in one multi-tensor custom call
(``jax.ffi``, CPU): one pass, 28 bytes per parameter with :meth:`FusedAdam.step`,
and one operation in the HLO whatever the leaf count.

It is a drop-in for ``adamx.adam``: same arguments (those it supports), same
state (so checkpoints are interchangeable), same numbers. The kernel repeats
the recipe's operations in the same order and dtype, and fuses the moments'
multiply-adds exactly where XLA's CPU backend does, so moments match a jitted
``adamx.adam`` bit for bit. XLA also contracts ``p + (-lr) * r`` in some
vector lanes and not others; the kernel never does, so about 0.2% of
parameters differ by one rounding of that add (one float32 ulp).
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from adamx._core import hyperparams as hp
from adamx._core.checks import check_params, check_updates
from adamx._core.steps import increment, step_dtype
from adamx._core.transform import Transform
from adamx._fast import build
from adamx._methods.adam import adam

_SUPPORTED = (np.dtype(jnp.float32), np.dtype(jnp.float64))
# Leaves per kernel call. XLA's compile time and per-call overhead grow
# faster than linearly in a custom call's operand count (1,000 leaves in one
# call: 41 s to compile), so larger trees are cut into calls of this size.
_MAX_LEAVES = int(os.environ.get("ADAMX_FUSED_MAX_LEAVES", "64"))


class FusedAdam(Transform):
  """An ``adamx.adam`` transformation computed by one fused kernel.

  ``init`` and ``update`` are the Optax interface (``update`` returns the
  updates, for ``optax.apply_updates`` or further chaining).
  :meth:`step` also applies them, in the same pass: prefer it in a training
  loop, with the parameters and state donated to ``jax.jit``.

  For trees of thousands of leaves keep the parameters in one flat buffer
  (``flat, unravel = jax.flatten_util.ravel_pytree(params)``, and call
  ``unravel`` inside the loss so the gradient arrives flat): the step is then
  one operation on four buffers, whatever the leaf count.
  """

  def step(self, params: Any, grads: Any, state: Any) -> tuple[Any, Any]:
    """Returns ``(new_params, new_state)``: ``params + update(grads, state)[0]``.

    The arguments come in the order of the results, so that
    ``jax.jit(opt.step, donate_argnums=(0, 2))`` pairs each donated buffer
    with the result that overwrites it (JAX pairs donations by position
    among equal shapes; any other order makes XLA copy every leaf).
    """
    return self.fused_step(grads, state, params)


def _check_leaves(grads: list[Any], mus: list[Any], nus: list[Any], params: list[Any] | None) -> None:
  for i, g in enumerate(grads):
    dt = np.dtype(jnp.result_type(g))
    if dt not in _SUPPORTED:
      raise TypeError(
          f"fused_adam: leaf {i} has dtype {dt}; the fused kernel takes float32 or"
          " float64 parameters and gradients. Use adamx.adam for other dtypes."
      )
    for name, x in (("mu", mus[i]), ("nu", nus[i])) + ((("params", params[i]),) if params else ()):
      xt = np.dtype(jnp.result_type(x))
      # bfloat16 moments only beside float32: float64 -> bfloat16 through
      # float32 could round twice where XLA rounds once.
      bf16_ok = name != "params" and xt == np.dtype(jnp.bfloat16) and dt == np.dtype(jnp.float32)
      if xt != dt and not bf16_ok:
        raise TypeError(
            f"fused_adam: leaf {i}: {name} has dtype {xt} but the gradient has {dt};"
            " moments must have the gradient's dtype (or bfloat16 beside float32)"
            " and parameters the gradient's dtype. Use adamx.adam for other mixes."
        )


def _check_not_sharded(arrays: list[Any]) -> None:
  for x in arrays:
    sharding = getattr(x, "sharding", None)
    if sharding is None and isinstance(x, jax.core.Tracer):
      sharding = getattr(jax.typeof(x), "sharding", None)
    mesh = getattr(sharding, "mesh", None)
    spec = getattr(sharding, "spec", None)
    explicit = spec is not None and any(s is not None for s in spec)
    if (isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer)
        and len(x.sharding.device_set) > 1) or (explicit and mesh is not None and mesh.size > 1):
      raise ValueError(
          "fused_adam: a leaf is sharded across several devices; the fused kernel"
          " runs on one CPU device. Call it inside jax.shard_map (it is"
          " elementwise, so per-shard updates are exact) or use adamx.adam."
      )


def fused_adam(
    learning_rate: hp.ScalarOrSchedule,
    b1: hp.Scalar = 0.9,
    b2: hp.Scalar = 0.999,
    eps: hp.Scalar = 1e-8,
    eps_root: hp.Scalar = 0.0,
    mu_dtype: Any = None,
    *,
    nu_dtype: Any = None,
) -> FusedAdam:
  """Adam in one pass over all leaves: the numbers of :func:`adamx.adam`.

  Same arguments, defaults, state and results as ``adamx.adam`` (without
  ``nesterov``, ``eps_hat`` or ``bias_correction=False``). Parameters and
  gradients must be float32 or float64 (leaf by leaf, the same dtype);
  moments the same dtype, or ``bfloat16`` beside float32. CPU only; the
  kernel is compiled with the system C++ compiler on first use (see
  ``adamx._fast.build``).

  Works under ``jax.jit`` and ``jax.vmap`` (a batch of hyperparameters runs
  the kernel once per member); multi-device-sharded leaves are refused
  (use ``jax.shard_map``).

  Example:
    >>> import jax, jax.numpy as jnp, adamx
    >>> opt = adamx.fused_adam(0.1)
    >>> params = {"w": jnp.zeros(3)}
    >>> state = opt.init(params)
    >>> step = jax.jit(opt.step, donate_argnums=(0, 2))
    >>> params, state = step(params, {"w": jnp.array([3.0, -1.0, 0.0])}, state)
    >>> params["w"]  # -lr * sign(g) on the first step
    Array([-0.1,  0.1,  0. ], dtype=float32)
  """
  reference = adam(learning_rate, b1, b2, eps, eps_root, mu_dtype, nu_dtype=nu_dtype)

  def scalars(d: Any, count: Any, rate: Any) -> jax.Array:
    b1_, b2_ = hp.cast(b1, d), hp.cast(b2, d)
    return jnp.stack([
        b1_, 1 - b1_, b2_, 1 - b2_,
        1 - b1_ ** count.astype(d),
        1 - b2_ ** count.astype(d),
        hp.cast(eps_root, d), hp.cast(eps, d),
        -1 * rate.astype(d),
    ])

  def run(grads: Any, state: Any, params: Any, apply: bool) -> tuple[Any, Any]:
    mu, nu = state.mu, state.nu
    check_updates("fused_adam", grads, mu)
    check_updates("fused_adam", grads, nu)
    if apply:
      check_params("fused_adam", params, grads)
    structure = jax.tree.structure(grads)
    g_leaves = structure.flatten_up_to(grads)
    m_leaves, v_leaves = structure.flatten_up_to(mu), structure.flatten_up_to(nu)
    p_leaves = structure.flatten_up_to(params) if apply else None
    _check_leaves(g_leaves, m_leaves, v_leaves, p_leaves)
    _check_not_sharded(g_leaves + m_leaves + v_leaves + (p_leaves or []))
    count = increment(state.count)
    rate = hp.cast(hp.evaluate(learning_rate, state.count), step_dtype())
    out = [None] * len(g_leaves)
    new_m, new_v = list(m_leaves), list(v_leaves)
    groups = []
    for dt in _SUPPORTED:
      same = [i for i, g in enumerate(g_leaves) if np.dtype(jnp.result_type(g)) == dt]
      groups += [(dt, same[k:k + _MAX_LEAVES]) for k in range(0, len(same), _MAX_LEAVES)]
    for dt, index in groups:
      first = [p_leaves[i] if apply else g_leaves[i] for i in index]
      operands = first + [g_leaves[i] for i in index] + [m_leaves[i] for i in index] + [
          v_leaves[i] for i in index]
      n = len(index)
      results = [jax.ShapeDtypeStruct(jnp.shape(g_leaves[i]), dt) for i in index]
      results += [jax.ShapeDtypeStruct(jnp.shape(m_leaves[i]), jnp.result_type(m_leaves[i])) for i in index]
      results += [jax.ShapeDtypeStruct(jnp.shape(v_leaves[i]), jnp.result_type(v_leaves[i])) for i in index]
      # Operand 0 is the scalars; alias params (step), mu and nu to their results.
      aliases = {1 + 2 * n + k: n + k for k in range(n)}
      aliases.update({1 + 3 * n + k: 2 * n + k for k in range(n)})
      if apply:
        aliases.update({1 + k: k for k in range(n)})
      build.library()
      call = jax.ffi.ffi_call(
          build.TARGET_NAME, results, input_output_aliases=aliases,
          vmap_method="sequential",
      )
      flat = call(scalars(dt, count, rate), *operands, step=apply)
      for k, i in enumerate(index):
        out[i], new_m[i], new_v[i] = flat[k], flat[n + k], flat[2 * n + k]
    new_state = state._replace(count=count, mu=structure.unflatten(new_m),
                               nu=structure.unflatten(new_v), learning_rate=rate)
    return structure.unflatten(out), new_state

  def update(updates, state, params=None, **extra_args):
    del params, extra_args
    return run(updates, state, None, apply=False)

  def step(grads, state, params):
    return run(grads, state, params, apply=True)

  result = FusedAdam(reference.init, update)
  result.name = "fused_adam"
  result.hyperparams = reference.hyperparams
  result.parts = reference.parts
  result.record = reference.record
  result.fused_step = step
  return result
