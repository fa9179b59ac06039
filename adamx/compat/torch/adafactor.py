"""``torch.optim.Adafactor``: Adafactor's parts in torch's arrangement."""

from __future__ import annotations

import jax.numpy as jnp

from adamx._combinators.chain import chain
from adamx._core import hyperparams as hp
from adamx._core.declare import method
from adamx._core.steps import step_dtype
from adamx._core.transform import Transform
from adamx._methods.factored import factored_rms
from adamx._primitives.layerwise import clip_block_rms, scale_by_param_block_rms
from adamx._primitives.scale import add_decayed_weights_at_rate, scale, scale_by_learning_rate
from adamx.compat.torch._form import coupled, torch_calling_form


@torch_calling_form
def Adafactor(lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
              foreach=None, maximize=False) -> Transform:
  """``torch.optim.Adafactor``: the paper's relative step, torch's bounded denominators.

  .. math::
     \\rho_t = \\min(\\text{lr}, 1/\\sqrt t),\\quad
     w_t = w_{t-1}(1 - \\text{lr}\\,\\lambda)
       - \\rho_t \\max(\\epsilon_2, \\mathrm{RMS}(w_{t-1}))\\, \\hat U_t

  with :math:`\\hat U_t` Adafactor's clipped :math:`g/\\sqrt{\\hat V_t}`,
  :math:`\\beta_t = 1 - t^{\\text{beta2\\_decay}}`, arrays of two or more
  dimensions factored over their *last two* axes whatever their sizes, no
  :math:`\\epsilon_1` added to :math:`g^2` but the row normaliser bounded
  below by :math:`\\epsilon_1` and :math:`\\hat V` by :math:`\\epsilon_1^2`
  (``eps[0]=None``: the machine epsilon of the parameters' dtype).

  The same primitives as ``adamx.adafactor``, arranged as torch:
  ``chain(factored_rms(-beta2_decay, axes="last", floor=eps[0]),
  clip_block_rms(d), scale_by_param_block_rms(eps[1]),
  scale_by_learning_rate(min(lr, 1/sqrt(t)), flip_sign=False),
  add_decayed_weights_at_rate(lr, weight_decay), scale(-1))``.
  State: ``count``, ``row_var``, ``col_var``, ``variance`` (torch's names;
  laid out as Optax's, the reduced axis removed), ``learning_rate``
  (:math:`\\rho_t`). torch refuses complex parameters; adamx uses :math:`|g|^2`.
  ``eps`` is checked here (a pair), the other arguments by name.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamx.compat import torch as optim
    >>> def loss(p): return jnp.sum((p - 1.0) ** 2)
    >>> params = jnp.zeros((2, 3), jnp.float32)
    >>> opt = optim.Adafactor(params, lr=0.1)  # as torch.optim, params ignored
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   updates, state = opt.update(jax.grad(loss)(params), state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> print(f"loss {loss(params):.4f}")
    loss 0.0205
  """
  del foreach
  owner = "torch.optim.Adafactor"
  if not isinstance(eps, (tuple, list)) or len(eps) != 2:
    raise hp.InvalidHyperparameter(f"{owner}: eps={eps!r} is not a pair; valid: (eps1, eps2)"
                                   " with eps1 None or >= 0 and eps2 >= 0.")
  if eps[0] is not None:
    hp.check_number(owner, "eps[0]", eps[0], hp.NONNEGATIVE)
  hp.check_number(owner, "eps[1]", eps[1], hp.NONNEGATIVE)
  return _adafactor(lr, beta2_decay, eps[0], eps[1], d, weight_decay, maximize=maximize)


@method(name="torch.optim.Adafactor", specs={"beta2_decay": hp.Spec(high=0.0), "d": hp.Spec(1.0)})
def _adafactor(lr, beta2_decay, floor, min_scale, d, weight_decay, *,
               maximize=False) -> Transform:
  """torch's Adafactor from the checked ``eps`` pair: ``floor=eps[0]``, ``min_scale=eps[1]``."""

  def relative_step(count):  # min(lr, 1/sqrt(t))
    return jnp.minimum(hp.evaluate(lr, count), 1 / jnp.sqrt(count.astype(step_dtype()) + 1))

  decay = [] if hp.is_zero(weight_decay) else [add_decayed_weights_at_rate(lr, weight_decay)]
  return chain(*coupled(maximize, 0),
               factored_rms(-beta2_decay, axes="last", min_dim_size_to_factor=0,
                            floor=floor, names=("row_var", "col_var", "variance")),
               clip_block_rms(d), scale_by_param_block_rms(min_scale),
               scale_by_learning_rate(relative_step, flip_sign=False), *decay, scale(-1.0))
