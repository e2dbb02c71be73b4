"""Tuning: every optimizer gets the same budget of trials over a declared search space.

``tune(surface, optimizers, spec, start=..., steps=...) -> TuneResult`` (a suite calls it
per problem); a config's ``tune:`` block runs it and then reruns the best settings as the
ordinary experiment of the tuned config (``best.yaml``). Modules: :mod:`.space` (search
spaces), :mod:`.samplers` (grid, random, Sobol, Halton), :mod:`.objectives`,
:mod:`.curve` (the tuning curve's estimator), :mod:`.protocol` (:func:`tune`).
"""

from optiviz.tuning.curve import TuningCurve, tuning_curve
from optiviz.tuning.objectives import OBJECTIVES
from optiviz.tuning.protocol import Candidate, TunedOptimizer, TuneResult, TuneSpec, tune
from optiviz.tuning.samplers import SAMPLERS
from optiviz.tuning.space import Dimension, SearchSpace, parse_space

__all__ = [
    "OBJECTIVES",
    "SAMPLERS",
    "Candidate",
    "Dimension",
    "SearchSpace",
    "TuneResult",
    "TuneSpec",
    "TunedOptimizer",
    "TuningCurve",
    "parse_space",
    "tune",
    "tuning_curve",
]
