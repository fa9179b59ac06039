"""torch's calling form and conventions, shared by the ``adamx.compat.torch`` classes.

``torch_calling_form`` lets a class be called as torch's is, ``X(params, lr=...)``,
mapping parameter groups with options to :func:`adamx.param_groups`;
``coupled`` and ``with_weight_decay`` are torch's gradient pre-processing
(``maximize``, coupled L2) and its coupled or decoupled weight decay.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from adamx._combinators.chain import chain
from adamx._combinators.groups import Group, group, param_groups
from adamx._core import hyperparams as hp
from adamx._core.transform import Transform
from adamx._primitives.scale import add_decayed_weights, scale, scale_by_learning_rate


def torch_groups(owner: str, params: Any) -> dict[str, Group]:
  """torch's ``params`` argument: ignored, but for parameter groups with options of
  their own, which become :func:`adamx.param_groups` groups (selected by path pattern)."""
  cls = owner.rsplit(".", 1)[-1]
  if (callable(params) or isinstance(params, (int, float, str))
      or getattr(params, "shape", None) == ()):
    raise TypeError(
        f"{owner}: the first positional argument is torch's `params` (accepted and ignored: "
        f"adamx receives the parameters in init and update), got {params!r}. Pass the "
        f"learning rate by name: adamx.compat.torch.{cls}(lr=...) or {cls}(params, lr=...).")
  groups = {}
  for index, entry in enumerate(params if isinstance(params, (list, tuple)) else ()):
    options = {k: v for k, v in entry.items() if k != "params"} if isinstance(entry, dict) else {}
    if not options:
      continue
    if not isinstance(entry.get("params"), str):
      raise TypeError(
          f"{owner}: parameter group {index} has options ({', '.join(sorted(options))}) but "
          f"its 'params' is not a path pattern: in adamx a group's 'params' is a regular "
          f"expression searched in each leaf's key path, e.g. {{'params': 'bias|norm', "
          f"'weight_decay': 0.0}}.")
    groups[f"group{index}"] = group(entry["params"], **options)
  return groups


def torch_calling_form(factory: Callable[..., Transform]) -> Callable[..., Transform]:
  """Lets ``factory`` be called as torch's class is: ``X(params, lr=..., ...)``.

  ``params`` (optional, positional or by name) is dropped, or read for its
  parameter groups (:func:`torch_groups`); the other arguments bind to torch's
  parameters in torch's order.
  """
  owner = f"torch.optim.{factory.__name__}"
  inner = inspect.signature(factory)
  params = inspect.Parameter("params", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
  signature = inner.replace(parameters=[params, *inner.parameters.values()])

  @functools.wraps(factory)
  def build(*args: Any, **kwargs: Any) -> Transform:
    arguments = signature.bind(*args, **kwargs).arguments
    groups = torch_groups(owner, arguments.pop("params")) if "params" in arguments else {}
    return param_groups(factory, groups=groups, **arguments) if groups else factory(**arguments)

  build.__signature__ = signature
  return build


def coupled(maximize: bool, weight_decay: Any) -> list[Transform]:
  """torch's gradient pre-processing: negate, then add L2 decay."""
  head = [scale(-1.0)] if maximize else []
  if not hp.is_zero(weight_decay):
    head.append(add_decayed_weights(weight_decay))
  return head


def with_weight_decay(direction: Transform, lr: Any, weight_decay: Any, *,
                       maximize: bool, decoupled: bool) -> Transform:
  """``direction`` with torch's coupled or decoupled weight decay and lr."""
  if not decoupled:
    return chain(*coupled(maximize, weight_decay), direction, scale_by_learning_rate(lr))
  decay = [] if hp.is_zero(weight_decay) else [add_decayed_weights(weight_decay)]
  return chain(*coupled(maximize, 0), direction, *decay, scale_by_learning_rate(lr))
