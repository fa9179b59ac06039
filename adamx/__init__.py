"""adamx: optimizers for JAX as short compositions of public primitives.

Every name here is an Optax-compatible gradient transformation factory:
``init(params) -> state``, ``update(updates, state, params) -> (updates, state)``.
"""

from adamx import compat as compat
from adamx._combinators.chain import chain as chain
from adamx._combinators.fanout import difference as difference
from adamx._combinators.fanout import linear as linear
from adamx._combinators.fanout import ratio as ratio
from adamx._core.transform import Transform as Transform
from adamx._fast.adam import FusedAdam as FusedAdam
from adamx._fast.adam import fused_adam as fused_adam
from adamx._fast.build import KernelBuildError as KernelBuildError
from adamx._methods.adadelta import adadelta as adadelta
from adamx._methods.adagrad import adagrad as adagrad
from adamx._methods.adam import adam as adam
from adamx._methods.adam import adamw as adamw
from adamx._methods.adam import nadam as nadam
from adamx._methods.adam import nadamw as nadamw
from adamx._methods.adamax import adamax as adamax
from adamx._methods.amsgrad import amsgrad as amsgrad
from adamx._methods.arrangements import first_moment as first_moment
from adamx._methods.arrangements import infinity_denominator as infinity_denominator
from adamx._methods.arrangements import rms as rms
from adamx._methods.arrangements import rms_denominator as rms_denominator
from adamx._methods.arrangements import rss_denominator as rss_denominator
from adamx._methods.arrangements import scale_by_adam as scale_by_adam
from adamx._methods.arrangements import scale_by_rms as scale_by_rms
from adamx._methods.radam import radam as radam
from adamx._methods.rmsprop import rmsprop as rmsprop
from adamx._methods.sgd import sgd as sgd
from adamx._core.hyperparams import InvalidHyperparameter as InvalidHyperparameter
from adamx._primitives.corrections import bias_correct as bias_correct
from adamx._primitives.corrections import rectify as rectify
from adamx._primitives.elementwise import add_eps as add_eps
from adamx._primitives.elementwise import clip as clip
from adamx._primitives.elementwise import root as root
from adamx._primitives.elementwise import scale_by_sign as scale_by_sign
from adamx._primitives.elementwise import square as square
from adamx._primitives.moments import accumulate as accumulate
from adamx._primitives.layerwise import scale_by_trust_ratio as scale_by_trust_ratio
from adamx._primitives.moments import infinity_moment as infinity_moment
from adamx._primitives.moments import lag as lag
from adamx._primitives.moments import nesterov_ema as nesterov_ema
from adamx._primitives.moments import running_max as running_max
from adamx._primitives.moments import scale_by_ema as scale_by_ema
from adamx._primitives.moments import scale_by_update_rms as scale_by_update_rms
from adamx._primitives.momentum import momentum as momentum
from adamx._primitives.scale import add_decayed_weights as add_decayed_weights
from adamx._primitives.scale import identity as identity
from adamx._primitives.scale import scale as scale
from adamx._primitives.scale import scale_by_learning_rate as scale_by_learning_rate
from adamx._tools.sharding import shard_state as shard_state
from adamx._tools.sharding import state_shardings as state_shardings
from adamx._tools.state import learning_rate as learning_rate

__version__ = "0.1.0"
