"""adamx: optimizers for JAX as short compositions of public primitives.

Every name here is an Optax-compatible gradient transformation factory:
``init(params) -> state``, ``update(updates, state, params) -> (updates, state)``.
"""

from adamx import compat as compat
from adamx._combinators.accumulation import accumulate_in_state as accumulate_in_state
from adamx._combinators.cautious import cautious as cautious
from adamx._combinators.chain import chain as chain
from adamx._combinators.fanout import difference as difference
from adamx._combinators.fanout import linear as linear
from adamx._combinators.fanout import ratio as ratio
from adamx._combinators.groups import group as group
from adamx._combinators.groups import param_groups as param_groups
from adamx._combinators.groups import set_group_hyperparams as set_group_hyperparams
from adamx._core.hyperparams import InvalidHyperparameter as InvalidHyperparameter
from adamx._core.quantized import quantized as quantized
from adamx._core.transform import Transform as Transform
from adamx._fast.build import KernelBuildError as KernelBuildError
from adamx._fast.fused import Fused as Fused
from adamx._fast.fused import fused as fused
from adamx._methods.adadelta import adadelta as adadelta
from adamx._methods.adagrad import adagrad as adagrad
from adamx._methods.adam import adam as adam
from adamx._methods.adam import adamw as adamw
from adamx._methods.adam import nadam as nadam
from adamx._methods.adam import nadamw as nadamw
from adamx._methods.adamax import adamax as adamax
from adamx._methods.amsgrad import amsgrad as amsgrad
from adamx._methods.arrangements import first_moment as first_moment
from adamx._methods.denominators import infinity_denominator as infinity_denominator
from adamx._methods.denominators import rms as rms
from adamx._methods.denominators import rms_denominator as rms_denominator
from adamx._methods.denominators import rss_denominator as rss_denominator
from adamx._methods.arrangements import scale_by_adam as scale_by_adam
from adamx._methods.arrangements import scale_by_rms as scale_by_rms
from adamx._methods.beyond import adam_mini as adam_mini
from adamx._methods.beyond import laprop as laprop
from adamx._methods.beyond import mars as mars
from adamx._methods.adan import adan as adan
from adamx._methods.ademamix import ademamix as ademamix
from adamx._methods.adan import scale_by_adan as scale_by_adan
from adamx._methods.ademamix import scale_by_ademamix as scale_by_ademamix
from adamx._methods.ademamix import scale_by_simplified_ademamix as scale_by_simplified_ademamix
from adamx._methods.ademamix import simplified_ademamix as simplified_ademamix
from adamx._methods.delayed import acprop as acprop
from adamx._methods.delayed import adopt as adopt
from adamx._methods.factored import adafactor as adafactor
from adamx._methods.factored import factored_rms as factored_rms
from adamx._methods.factored import rprop as rprop
from adamx._methods.factored import sm3 as sm3
from adamx._methods.layerwise import fromage as fromage
from adamx._methods.layerwise import lamb as lamb
from adamx._methods.layerwise import lars as lars
from adamx._methods.layerwise import novograd as novograd
from adamx._methods.madgrad import madgrad as madgrad
from adamx._methods.optimistic import optimistic_adam as optimistic_adam
from adamx._methods.optimistic import optimistic_adam_v2 as optimistic_adam_v2
from adamx._methods.optimistic import optimistic_gradient_descent as optimistic_gradient_descent
from adamx._methods.optimistic import scale_by_optimistic_gradient as scale_by_optimistic_gradient
from adamx._methods.radam import radam as radam
from adamx._methods.rmsprop import rmsprop as rmsprop
from adamx._methods.second_moments import adabelief as adabelief
from adamx._methods.second_moments import adamaxw as adamaxw
from adamx._methods.second_moments import yogi as yogi
from adamx._methods.sgd import sgd as sgd
from adamx._methods.signs import lion as lion
from adamx._methods.signs import sign_sgd as sign_sgd
from adamx._methods.signs import signum as signum
from adamx._methods.sophia import sophia as sophia
from adamx._primitives.blocks import block_mean_ema as block_mean_ema
from adamx._primitives.layerwise import clip_by_norm as clip_by_norm
from adamx._primitives.blocks import gradient_correction as gradient_correction
from adamx._primitives.corrections import bias_correct as bias_correct
from adamx._primitives.corrections import rectify as rectify
from adamx._primitives.cover import cover_accumulate as cover_accumulate
from adamx._primitives.delayed import delayed_ema as delayed_ema
from adamx._primitives.delayed import periodic_ema as periodic_ema
from adamx._primitives.dual_averaging import dual_average as dual_average
from adamx._primitives.dual_averaging import scale_by_sqrt_step as scale_by_sqrt_step
from adamx._primitives.elementwise import add_eps as add_eps
from adamx._primitives.elementwise import clip as clip
from adamx._primitives.elementwise import cube_root as cube_root
from adamx._primitives.elementwise import max_eps as max_eps
from adamx._primitives.elementwise import root as root
from adamx._primitives.elementwise import scale_by_sign as scale_by_sign
from adamx._primitives.elementwise import square as square
from adamx._primitives.factored import factored_ema as factored_ema
from adamx._primitives.layerwise import clip_block_rms as clip_block_rms
from adamx._primitives.layerwise import scale_by_param_block_rms as scale_by_param_block_rms
from adamx._primitives.layerwise import scale_by_trust_ratio as scale_by_trust_ratio
from adamx._primitives.moments import accumulate as accumulate
from adamx._primitives.moments import infinity_moment as infinity_moment
from adamx._primitives.moments import lag as lag
from adamx._primitives.moments import nesterov_ema as nesterov_ema
from adamx._primitives.moments import running_max as running_max
from adamx._primitives.moments import scale_by_ema as scale_by_ema
from adamx._primitives.moments import scale_by_update_rms as scale_by_update_rms
from adamx._primitives.momentum import momentum as momentum
from adamx._primitives.norms import layer_second_moment as layer_second_moment
from adamx._primitives.norms import retract as retract
from adamx._primitives.rounding import stochastic_rounding as stochastic_rounding
from adamx._primitives.scale import add_decayed_weights as add_decayed_weights
from adamx._primitives.scale import add_decayed_weights_at_rate as add_decayed_weights_at_rate
from adamx._primitives.scale import identity as identity
from adamx._primitives.scale import scale as scale
from adamx._primitives.scale import scale_by_learning_rate as scale_by_learning_rate
from adamx._primitives.schedules import clip_by_schedule as clip_by_schedule
from adamx._primitives.schedules import scale_by_schedule as scale_by_schedule
from adamx._primitives.schedules import scale_by_scheduled_ema as scale_by_scheduled_ema
from adamx._primitives.second_moments import additive_moment as additive_moment
from adamx._primitives.second_moments import ema_deviation as ema_deviation
from adamx._primitives.second_moments import ema_plus_eps as ema_plus_eps
from adamx._primitives.signs import interpolated_ema as interpolated_ema
from adamx._primitives.steps_adaptation import average_iterates as average_iterates
from adamx._primitives.steps_adaptation import scale_by_inverse_power_rate as scale_by_inverse_power_rate
from adamx._primitives.steps_adaptation import sign_agreement_step as sign_agreement_step
from adamx._tools.sharding import shard_state as shard_state
from adamx._tools.sharding import state_shardings as state_shardings
from adamx._tools.state import learning_rate as learning_rate

__version__ = "0.1.0"

__all__ = [
    "stochastic_rounding",
    "quantized",
    "accumulate_in_state",
    "set_group_hyperparams",
    "param_groups",
    "group",
    "accumulate",
    "acprop",
    "adabelief",
    "adadelta",
    "adafactor",
    "adagrad",
    "adam",
    "adam_mini",
    "adamax",
    "adamaxw",
    "adamw",
    "adan",
    "add_decayed_weights",
    "add_decayed_weights_at_rate",
    "add_eps",
    "additive_moment",
    "ademamix",
    "adopt",
    "amsgrad",
    "average_iterates",
    "bias_correct",
    "block_mean_ema",
    "cautious",
    "chain",
    "clip",
    "clip_block_rms",
    "clip_by_norm",
    "clip_by_schedule",
    "compat",
    "cover_accumulate",
    "cube_root",
    "delayed_ema",
    "difference",
    "dual_average",
    "ema_deviation",
    "ema_plus_eps",
    "factored_ema",
    "factored_rms",
    "first_moment",
    "fromage",
    "Fused",
    "fused",
    "gradient_correction",
    "identity",
    "infinity_denominator",
    "infinity_moment",
    "interpolated_ema",
    "InvalidHyperparameter",
    "KernelBuildError",
    "lag",
    "lamb",
    "laprop",
    "lars",
    "layer_second_moment",
    "learning_rate",
    "linear",
    "lion",
    "madgrad",
    "mars",
    "max_eps",
    "momentum",
    "nadam",
    "nadamw",
    "nesterov_ema",
    "novograd",
    "optimistic_adam",
    "optimistic_adam_v2",
    "optimistic_gradient_descent",
    "periodic_ema",
    "radam",
    "ratio",
    "rectify",
    "retract",
    "rms",
    "rms_denominator",
    "rmsprop",
    "root",
    "rprop",
    "rss_denominator",
    "running_max",
    "scale",
    "scale_by_adam",
    "scale_by_adan",
    "scale_by_ademamix",
    "scale_by_ema",
    "scale_by_inverse_power_rate",
    "scale_by_learning_rate",
    "scale_by_optimistic_gradient",
    "scale_by_param_block_rms",
    "scale_by_rms",
    "scale_by_schedule",
    "scale_by_scheduled_ema",
    "scale_by_sign",
    "scale_by_simplified_ademamix",
    "scale_by_sqrt_step",
    "scale_by_trust_ratio",
    "scale_by_update_rms",
    "sgd",
    "shard_state",
    "sign_agreement_step",
    "sign_sgd",
    "signum",
    "simplified_ademamix",
    "sm3",
    "sophia",
    "square",
    "state_shardings",
    "Transform",
    "yogi",
]
