"""Figures from trajectories and analysis results (matplotlib, no pyplot).

Every function returns a :class:`matplotlib.figure.Figure` (it displays in Jupyter and
never touches pyplot's global state, so it works headless) and never runs an optimizer:
it draws what it is given. :func:`save_figure` writes a figure in several formats
atomically.

Pass one :class:`ColorMap` (``colors=``) to all the figures of an experiment so each label
keeps its colour and line style throughout.
"""

from optiviz.plotting.basins import basins
from optiviz.plotting.contour import contour
from optiviz.plotting.curves import effective_lr, loss, lr_sweep, sharpness
from optiviz.plotting.maps import modes, rate_map
from optiviz.plotting.profiles import data_profile, performance_profile
from optiviz.plotting.range_test import lr_range
from optiviz.plotting.save import save_figure
from optiviz.plotting.stability import sharpness_panels
from optiviz.plotting.step import step
from optiviz.plotting.style import PALETTE, ColorMap, formula_title, var_label
from optiviz.plotting.surface3d import surface3d
from optiviz.plotting.tuning import tune_comparison, tune_curve, tune_sensitivity

__all__ = [
    "ColorMap",
    "PALETTE",
    "basins",
    "contour",
    "data_profile",
    "effective_lr",
    "formula_title",
    "loss",
    "lr_range",
    "lr_sweep",
    "modes",
    "performance_profile",
    "rate_map",
    "save_figure",
    "sharpness",
    "sharpness_panels",
    "step",
    "surface3d",
    "tune_comparison",
    "tune_curve",
    "tune_sensitivity",
    "var_label",
]
