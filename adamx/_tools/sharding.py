"""Placing optimizer state on a device mesh.

Two layouts:

* **Like the parameters** (the default): each moment takes its parameter's
  sharding, so an elementwise update needs no communication. Eager
  ``opt.init(params)`` already does this for concrete or abstract
  (``jax.ShapeDtypeStruct`` with a sharding) parameters, and so does
  ``jax.jit(opt.init)`` under an *explicit* mesh (``jax.set_mesh``). Under
  ``jax.jit`` with an *automatic* mesh the state does not depend on the
  parameters' values, so nothing propagates their sharding to it: pass
  ``out_shardings=state_shardings(opt, params)``.
* **ZeRO stage 1** (:func:`shard_state`): parameters replicated over the
  data-parallel axis, each state leaf split over it, so each device keeps
  ``1/n`` of the optimizer's memory.
"""

from __future__ import annotations

from typing import Any

import jax
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

_REPLICATED = PartitionSpec()


def _param_mesh(params: Any) -> Mesh:
  meshes = {
      leaf.sharding.mesh for leaf in jax.tree.leaves(params)
      if isinstance(getattr(leaf, "sharding", None), NamedSharding)
  }
  if len(meshes) != 1:
    raise ValueError(
        "state_shardings: the parameters must all carry a NamedSharding on one"
        f" mesh; found {len(meshes)} meshes."
    )
  return meshes.pop()


def state_shardings(opt: Any, params: Any) -> Any:
  """The sharding of each leaf of ``opt.init(params)``, taken from ``params``.

  Each state leaf shaped like a parameter gets that parameter's
  ``NamedSharding``; counters and other scalars are replicated. Nothing is
  allocated: the state is traced abstractly. Use it to initialise (or
  restore) sharded state under ``jit``::

    shardings = adamx.state_shardings(opt, params)
    state = jax.jit(opt.init, out_shardings=shardings)(params)

  Args:
    opt: an Optax/adamx gradient transformation.
    params: arrays or ``jax.ShapeDtypeStruct`` leaves with ``NamedSharding``
      shardings on one mesh.
  """
  mesh = _param_mesh(params)
  # An explicit mesh makes sharding part of each abstract value, so tracing
  # init reports, per state leaf, the spec it inherits from its parameter.
  explicit = Mesh(mesh.devices, mesh.axis_names,
                  axis_types=(AxisType.Explicit,) * len(mesh.axis_names))
  abstract = jax.tree.map(
      lambda p: jax.ShapeDtypeStruct(
          p.shape, p.dtype, sharding=NamedSharding(explicit, p.sharding.spec)),
      params,
  )
  with jax.set_mesh(explicit):
    state = jax.eval_shape(opt.init, abstract)
  return jax.tree.map(
      lambda s: NamedSharding(
          mesh, s.sharding.spec if s.sharding is not None else _REPLICATED),
      state,
  )


def _zero1_spec(shape: tuple[int, ...], size: int, axis: str) -> PartitionSpec:
  """Splits the first dimension divisible by ``size`` over ``axis``."""
  for dim, extent in enumerate(shape):
    if extent >= size and extent % size == 0:
      return PartitionSpec(*([None] * dim), axis)
  return _REPLICATED


def shard_state(state: Any, mesh: Mesh, axis: str) -> Any:
  """ZeRO stage 1: splits every state leaf over the mesh axis ``axis``.

  Each array leaf is split along its first dimension divisible by the axis
  size (leaves with none, such as step counters, are replicated), whatever
  the parameters' sharding, usually replicated over the data axis. The
  optimizer's memory per device drops by the axis size; each device updates
  its slice of the moments, and the parameter updates are gathered (one
  all-gather per leaf per step).

  ``state`` may be concrete (its arrays are moved with ``jax.device_put``) or
  abstract (``jax.eval_shape(opt.init, params)``: ``jax.ShapeDtypeStruct``
  leaves that carry the sharding are returned). The shardings for a jitted
  step are ``jax.tree.map(lambda x: x.sharding, shard_state(...))``::

    state = adamx.shard_state(opt.init(params), mesh, "data")
    state_sharding = jax.tree.map(lambda x: x.sharding, state)
    step = jax.jit(train_step, out_shardings=(param_sharding, state_sharding))
  """
  size = mesh.shape[axis]

  def place(leaf):
    sharding = NamedSharding(mesh, _zero1_spec(tuple(leaf.shape), size, axis))
    if isinstance(leaf, jax.ShapeDtypeStruct):
      return jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, sharding=sharding)
    return jax.device_put(leaf, sharding)

  return jax.tree.map(place, state)
