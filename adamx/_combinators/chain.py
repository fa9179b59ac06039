"""Serial composition: each transform receives the previous one's output."""

from __future__ import annotations

import optax

from adamx._combinators.parts import Parts
from adamx._core.lift import narrowed, widened
from adamx._core.transform import Transform, transform


def chain(*args: optax.GradientTransformation) -> Transform:
  """``optax.chain`` that remembers its parts and keeps one state record.

  With adamx parts the state is one ``ChainState`` record holding every
  part's fields (one shared ``count``); with an Optax transform among them it
  is ``optax.chain``'s tuple of the parts' states. Extra keyword arguments
  reach every part. float16 and bfloat16 updates pass between the parts as
  float32 (:func:`adamx._core.lift.widened`); the output has the dtypes the
  updates came in.
  """
  parts = Parts("ChainState", args)

  def update(updates, state, params=None, **extra_args):
    received, updates, new_states = updates, widened(updates), []
    for part, part_state in zip(parts.transforms, parts.unpack(state)):
      updates, new = part.update(updates, part_state, params, **extra_args)
      new_states.append(new)
    return narrowed(updates, received), parts.pack(new_states)

  return transform(parts.init, update, record=parts.record, name="chain",
                   parts=[(None, t) for t in args], extra_args=True)
