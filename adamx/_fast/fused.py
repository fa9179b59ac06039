"""``fused(method)``: a composed adamx method computed by one multi-tensor kernel.

A composed method such as ``adamx.adam`` compiles to a few XLA loops per leaf
and keeps its state as one array per leaf, so a jitted step moves
``3 x leaves`` state buffers across its boundary and compile time grows with
the leaf count. ``fused(adamx.adam(1e-3))`` computes the same numbers with
the state kept flat (see ``layout.py``) and one custom call per 256 leaves of
a dtype, which reads each parameter, gradient and state element once and
writes once (28 bytes per float32 parameter for Adam). The parameters and
gradients stay the tree the model has.

Numbers: the state is bit-identical to the composed method's under
``jax.jit``, and so are the updates of every leaf of more than one element.
On a one-element leaf XLA simplifies Adam's ratio differently (there is no
broadcast to rewrite) and the update may differ by a few ulps. A step that
also applies the update may differ from ``optax.apply_updates`` by one
rounding (XLA contracts ``p + (-lr) * r`` into a fused multiply-add in some
vector lanes; the kernel never does).

Where the kernel cannot run (a GPU or TPU backend, or no kernel built for
this machine and no compiler) the same flat state is updated by the composed
method itself, after one warning: the numbers are the composed method's and
the state layout does not change.
"""

from __future__ import annotations

import functools
import os
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adamx._core import hyperparams as hp
from adamx._core.checks import check_params
from adamx._core.records import record, state_name
from adamx._core.quantized import as_format
from adamx._core.steps import increment, step_dtype
from adamx._core.transform import Transform
from adamx._fast import build
from adamx._fast.kernels import KERNELS, Kernel
from adamx._fast.layout import Layout, flatten, layout_of, unflatten

_COMPUTE = (np.dtype(jnp.float32), np.dtype(jnp.float64))
# Leaves per custom call: XLA's compile time grows faster than linearly in a
# call's operand count, so larger groups are cut into calls that update the
# same state buffers in turn.
MAX_LEAVES = int(os.environ.get("ADAMX_FUSED_MAX_LEAVES", "256"))


class Fused(Transform):
  """A composed adamx method computed by the fused kernel, its state flat.

  ``init``/``update`` are the Optax interface. :meth:`step` also applies the
  updates in the same pass; :meth:`tree_state` and :meth:`flat_state`
  convert the state to and from the composed method's (for checkpoints
  shared with it). Attributes: ``reference``, the composed method.
  """

  reference: Transform
  kernel: Kernel
  arguments: dict[str, Any]

  def step(self, params: Any, grads: Any, state: Any) -> tuple[Any, Any]:
    """Returns ``(new_params, new_state)``, ``params + update(grads, state, params)[0]``.

    The arguments come in the order of the results, so that
    ``jax.jit(opt.step, donate_argnums=(0, 2))`` pairs each donated buffer
    with the result that overwrites it (JAX pairs donations by position
    among equal shapes; any other order makes XLA copy every leaf).
    """
    return _run(self, grads, state, params, apply=True)

  def tree_state(self, state: Any, params: Any) -> Any:
    """The composed method's state equal to this flat ``state`` (``params``
    gives the tree: parameters, gradients or shapes of either)."""
    layout = layout_of(params)
    _check_state(self, layout, state)
    fields = {name: unflatten(layout, getattr(state, name)) for name in self.kernel.slots}
    return self.reference.record(**{**state._asdict(), **fields})

  def flat_state(self, tree_state: Any, params: Any) -> Any:
    """This method's flat state equal to the composed method's ``tree_state``."""
    layout = layout_of(params)
    fields = {name: flatten(layout, getattr(tree_state, name)) for name in self.kernel.slots}
    return self.record(**{**tree_state._asdict(), **fields})


def fused(method: Transform) -> Fused:
  """The composed ``method`` computed by one multi-tensor kernel per step.

  ``method`` is ``adamx.adam``, ``adamx.adamw``, ``adamx.sgd`` (with
  momentum), ``adamx.lion`` or ``adamx.adagrad``, built with any of its arguments except those
  the kernel lacks (Adam's ``nesterov``, a weight-decay ``mask``, SGD's
  ``dampening``: each refused by name). The result has the method's
  numbers (state bit-identical under ``jax.jit``, updates too but on one-element
  leaves, a step to one rounding: see the module docstring),
  its state fields (``count``, ``mu``, ``nu``, ``learning_rate``...) with each
  statistic flat, and :meth:`Fused.step` to update and apply in one pass.

  Parameters and gradients: float32 or float64, the same dtype leaf by leaf;
  statistics in that dtype or bfloat16 beside float32. Works under
  ``jax.jit``, ``jax.vmap`` (a batch runs the kernel once per member),
  ``optax.chain``, ``optax.MultiSteps`` and Flax's ``TrainState``; refuses
  leaves sharded over several devices (call it inside ``jax.shard_map``).

  Example:
    >>> import jax, jax.numpy as jnp, adamx
    >>> def loss(p): return jnp.sum((p["w"] - 1.0) ** 2)
    >>> opt = adamx.fused(adamx.adam(learning_rate=0.1))
    >>> params = {"w": jnp.zeros(3, jnp.float32)}
    >>> state = opt.init(params)
    >>> step = jax.jit(opt.step, donate_argnums=(0, 2))  # updates and applies
    >>> for _ in range(150):
    ...   params, state = step(params, jax.grad(loss)(params), state)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0000
  """
  kernel = KERNELS.get(getattr(method, "name", None))
  if kernel is None:
    raise ValueError(f"fused: no kernel computes {getattr(method, 'name', method)!r}; fused"
                     f" methods: {', '.join(f'adamx.{name}' for name in KERNELS)}.")
  arguments = kernel.arguments(method.hyperparams)
  for name, (value, why) in kernel.fixed.items():
    if arguments[name] != value:
      raise ValueError(f"fused({method.name}): {name}={arguments[name]!r} is not supported"
                       f" ({why}); use {name}={value!r} or adamx.{method.name} itself.")
  for name, why in kernel.needed.items():
    if arguments[name] is None:
      raise ValueError(f"fused({method.name}): needs {name} ({why}).")
  for name, value in arguments.items():
    if as_format(value) is not None:
      raise ValueError(f"fused({method.name}): {name}={value!r} is a quantized format, which the"
                       f" kernel does not compute; use adamx.{method.name} itself.")
  state_type = record(state_name(f"fused_{method.name}"), method.record._fields)

  def init(params):
    return result.flat_state(method.init(params), params)

  def update(updates, state, params=None, **extra_args):
    del extra_args
    return _run(result, updates, state, params, apply=False)

  result = Fused(init, update)
  result.name = f"fused({method.name})"
  result.hyperparams = dict(method.hyperparams)
  result.parts = (("=", method),)
  result.record = state_type
  result.reference, result.kernel, result.arguments = method, kernel, arguments
  return result


def _check_state(opt: Fused, layout: Layout, state: Any) -> None:
  if type(state) is not opt.record:
    hint = (" (convert the composed method's state with .flat_state(state, params))"
            if type(state) is opt.reference.record else "")
    raise TypeError(f"{opt.name}: the state must be this method's flat state"
                    f" {opt.record.__name__}, from its init; got {type(state).__name__}{hint}.")
  for name in opt.kernel.slots:
    buffers = getattr(state, name)
    sizes = tuple(jnp.shape(b)[-1] if jnp.ndim(b) else None for b in buffers)
    want = tuple(g.total for g in layout.groups)
    if sizes != want:
      raise ValueError(f"{opt.name}: state.{name} holds buffers of sizes {sizes} but the"
                       f" gradients need {want} (one per dtype group"
                       f" {[str(g.dtype) for g in layout.groups]}); was the state made by"
                       " init from parameters of this tree?")


def _check_dtypes(opt: Fused, layout: Layout, params: list[Any] | None, state: Any) -> None:
  for k, group in enumerate(layout.groups):
    if group.dtype not in _COMPUTE:
      raise TypeError(f"{opt.name}: leaf {group.indices[0]} has dtype {group.dtype}; the fused"
                      f" kernel takes float32 or float64 gradients. Use adamx.{opt.reference.name}.")
    for i in group.indices if params is not None else ():
      if np.dtype(jnp.result_type(params[i])) != group.dtype:
        raise TypeError(f"{opt.name}: leaf {i}: parameters of dtype {jnp.result_type(params[i])}"
                        f" beside gradients of {group.dtype}; the kernel takes one dtype per leaf.")
    for name in opt.kernel.slots:
      dt = np.dtype(getattr(state, name)[k].dtype)
      # bfloat16 only beside float32: float64 -> bfloat16 through float32
      # could round twice where XLA rounds once.
      if dt != group.dtype and not (dt == jnp.bfloat16 and group.dtype == jnp.float32):
        raise TypeError(f"{opt.name}: state.{name} is {dt} beside {group.dtype} gradients;"
                        " the kernel keeps statistics in the gradients' dtype or bfloat16"
                        f" beside float32. Use adamx.{opt.reference.name}.")


def _check_not_sharded(opt: Fused, arrays: list[Any]) -> None:
  for x in arrays:
    if isinstance(x, jax.core.Tracer):
      sharding = getattr(jax.typeof(x), "sharding", None)
      mesh, spec = getattr(sharding, "mesh", None), getattr(sharding, "spec", None)
      sharded = mesh is not None and mesh.size > 1 and spec is not None and any(
          s is not None for s in spec)
    else:
      sharded = isinstance(x, jax.Array) and len(x.sharding.device_set) > 1
    if sharded:
      raise ValueError(
          f"{opt.name}: a leaf is sharded across several devices; the fused kernel runs on one"
          " CPU device. Call it inside jax.shard_map (it is elementwise, so per-shard"
          f" updates are exact) or use adamx.{opt.reference.name}.")


@functools.cache
def _warn_fallback(reason: str) -> None:
  warnings.warn(f"adamx.fused: {reason}; fused methods run their composed method on the"
                " flat state instead (same numbers and state, XLA's speed).", RuntimeWarning,
                stacklevel=4)


def _kernel_unavailable() -> str | None:
  if jax.default_backend() != "cpu":
    return f"the fused kernel runs on CPU and the backend is {jax.default_backend()}"
  try:
    build.library()
  except build.KernelBuildError as error:
    return f"the fused kernel is not available ({error})"
  return None


def _run(opt: Fused, grads: Any, state: Any, params: Any, apply: bool) -> tuple[Any, Any]:
  layout = layout_of(grads)
  _check_state(opt, layout, state)
  g_leaves = layout.leaves(grads)
  reads_params = apply or opt.kernel.reads_params
  if reads_params:
    check_params(opt.name, params, grads)
  p_leaves = layout.leaves(params) if params is not None else None
  _check_dtypes(opt, layout, p_leaves, state)
  _check_not_sharded(opt, g_leaves + (p_leaves or []))
  reason = _kernel_unavailable()
  if reason is not None:
    _warn_fallback(reason)
    updates, new = opt.reference.update(grads, opt.tree_state(state, grads), params)
    out = optax.apply_updates(params, updates) if apply else updates
    return out, opt.flat_state(new, grads)
  count = increment(state.count)
  rate = hp.cast(hp.evaluate(opt.arguments["learning_rate"], state.count), step_dtype())
  # The kernel's parameter operands: the gradients again where it reads none.
  first = p_leaves if reads_params else g_leaves
  out: list[Any] = [None] * len(g_leaves)
  slots = {name: list(getattr(state, name)) for name in opt.kernel.slots}
  for k, group in enumerate(layout.groups):
    scalars = jnp.stack(opt.kernel.scalars(opt.arguments, group.dtype, state.count, count, rate))
    buffers = [slots[name][k] for name in opt.kernel.slots]
    for start in range(0, len(group.indices), MAX_LEAVES):
      index = group.indices[start:start + MAX_LEAVES]
      results, buffers = _call(opt, apply, scalars, [first[i] for i in index],
                               [g_leaves[i] for i in index], buffers,
                               list(group.offsets[start:start + MAX_LEAVES]))
      for i, x in zip(index, results):
        out[i] = x
    for name, buffer in zip(opt.kernel.slots, buffers):
      slots[name][k] = buffer
  new = state._replace(count=count, learning_rate=rate,
                       **{name: tuple(b) for name, b in slots.items()})
  return layout.treedef.unflatten(out), new


def _call(opt: Fused, apply: bool, scalars: jax.Array, first: list[Any], grads: list[Any],
          buffers: list[Any], offsets: list[int]) -> tuple[list[Any], list[Any]]:
  """One custom call on some leaves of a group (each at its offset in the state buffers)."""
  n, dtype = len(grads), scalars.dtype
  results = [jax.ShapeDtypeStruct(jnp.shape(g), dtype) for g in grads]
  results += [jax.ShapeDtypeStruct(b.shape, b.dtype) for b in buffers]
  # Operand 0 is the scalars, then first, grads, buffers; each buffer is
  # updated in place, and so are the parameters by a step.
  aliases = {1 + 2 * n + j: n + j for j in range(len(buffers))}
  if apply:
    aliases.update({1 + j: j for j in range(n)})
  call = jax.ffi.ffi_call(build.TARGET_NAME, results, input_output_aliases=aliases,
                          vmap_method="sequential")
  flat = call(scalars, *first, *grads, *buffers, method=np.int64(opt.kernel.method),
              offsets=np.asarray(offsets, np.int64), step=apply,
              flag=opt.kernel.flag(opt.arguments))
  return flat[:n], flat[n:]
