"""The one number formatter and the one JSON-safe converter (optiviz._format)."""

from __future__ import annotations

import json
import math

import numpy as np

from optiviz import _format
from optiviz._format import NA, fmt, fmt_number, fmt_point, json_float, json_safe


def test_fmt_number_is_printf_g_with_negative_zero_as_zero():
    # %g keeps 6 significant digits and switches to an exponent at 1e-5 and 1e6
    assert fmt_number(1 / 3) == "0.333333"
    assert fmt_number(2 / 3, 3) == "0.667"
    assert fmt_number(123456789.0) == "1.23457e+08"
    assert fmt_number(1e-5) == "1e-05"
    assert fmt_number(-0.0) == "0"
    assert fmt_number(np.float32(0.25)) == "0.25"


def test_fmt_values_vectors_matrices_and_undefined():
    assert fmt(None) == NA == "n/a"
    assert fmt(float("nan")) == "n/a"
    assert fmt(math.inf) == "inf"
    assert fmt(True) == "yes" and fmt(False) == "no"
    assert fmt("text") == "text"
    assert fmt(3) == "3"
    assert fmt(np.array([1.0, 2.5])) == "(1, 2.5)"
    assert fmt([[1.0, -0.0], [0.5, np.nan]]) == "[(1, 0), (0.5, n/a)]"
    assert fmt(np.pi, 3) == "3.14"


def test_fmt_point_shows_non_finite_coordinates():
    # in running text (an error message) a nan coordinate is the thing to see
    assert fmt_point([1.5, 2.0]) == "(1.5, 2)"
    assert fmt_point(np.array([0.983333333, -0.0])) == "(0.983333, 0)"
    assert fmt_point([math.nan, math.inf]) == "(nan, inf)"
    assert fmt_point([]) == "()"


def test_json_float_and_json_safe_are_strict_json():
    assert json_float(None) is None
    assert json_float(np.float64(0.5)) == 0.5
    assert json_float(math.nan) is None and json_float(-math.inf) is None

    class Rec:
        def to_dict(self):
            return {"a": 1}

    obj = {
        1: np.arange(3),
        "b": (np.bool_(True), np.int64(7), np.float32(0.5)),
        "c": [math.nan, math.inf, None, "s"],
        "d": Rec(),
        "e": np.array([[1.0, np.nan]]),
        "f": complex(1, 2),
    }
    out = json_safe(obj)
    assert out == {
        "1": [0, 1, 2],
        "b": [True, 7, 0.5],
        "c": [None, None, None, "s"],
        "d": {"a": 1},
        "e": [[1.0, None]],
        "f": "(1+2j)",
    }
    assert type(out["b"][0]) is bool and type(out["b"][1]) is int
    json.dumps(out, allow_nan=False)


def test_report_uses_the_one_formatter():
    from optiviz import report

    assert report.fmt is _format.fmt
