"""Serial composition: each transform receives the previous one's output."""

from __future__ import annotations

import optax

from adamx._core.transform import Transform, transform


def chain(*transforms: optax.GradientTransformation) -> Transform:
  """``optax.chain`` that remembers its parts, so the recipe can be printed.

  The state is ``optax.chain``'s: a tuple of the parts' states, in order.
  """
  inner = optax.chain(*transforms)
  return transform(
      "chain", inner.init, inner.update, parts=[(None, t) for t in transforms]
  )
