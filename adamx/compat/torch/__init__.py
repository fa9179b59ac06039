"""torch.optim's optimizers as adamx transformations.

``adamx.compat.torch.Adam(lr=1e-3, weight_decay=1e-2)`` takes torch's keyword
arguments with torch's defaults and reproduces ``torch.optim.Adam``'s
parameter trajectory. Porting a PyTorch script changes one line:
``torch.optim.AdamW(model.parameters(), lr=1e-3)`` becomes
``adamx.compat.torch.AdamW(params, lr=1e-3)``. The parameters, torch's first
positional argument, are accepted there and ignored: a JAX optimizer receives
them in ``init(params)`` and ``update(grads, state, params)``. torch's
parameter groups with options of their own are taken, with a regular
expression on the leaves' key paths in place of the tensors:
``AdamW([{"params": "bias|norm", "weight_decay": 0.0}], lr=1e-3, weight_decay=0.1)``
is :func:`adamx.param_groups` (leaves no pattern matches take the top-level
arguments, where torch would leave parameters outside every group
unoptimized). A number or schedule in the parameters' place raises
``TypeError`` saying what to write instead. ``foreach``, ``fused``,
``capturable`` and ``differentiable`` are accepted and ignored too: they
choose torch kernels, not the maths.

torch's conventions, as composed here:

* ``maximize`` negates the gradient first: ``scale(-1)``.
* ``weight_decay`` is coupled L2 (``g + wd * w`` before the statistics):
  ``add_decayed_weights`` at the head of the chain; AdamW and
  ``decoupled_weight_decay=True`` put it after the statistics instead.
* eps is added outside the root, and the learning rate is applied last
  (after any momentum buffer).
* Adam's second-moment correction divides :math:`\sqrt{v_t}` (after the
  root, before eps), and AMSGrad keeps the max of the raw :math:`v_t`:
  ``rms_denominator(correction="root")``; RAdam's correction divides
  :math:`\sqrt{v_t} + \epsilon` (``correction="eps"``).
"""

from adamx.compat.torch.adafactor import Adafactor
from adamx.compat.torch.classical import (
    SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop,
)
from adamx.compat.torch.steps import ASGD, Rprop

__all__ = ["ASGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam",
           "RAdam", "RMSprop", "Rprop", "SGD"]
