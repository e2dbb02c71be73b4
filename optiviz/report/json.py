"""The JSON report of an analysis: :meth:`~optiviz.analysis.Analysis.to_dict` as strict JSON."""

from __future__ import annotations

import json
from typing import Any


def to_json(analysis: Any, indent: int = 2) -> str:
    """``Analysis.to_dict()`` as JSON (strict: no NaN or Infinity; undefined is null)."""
    return json.dumps(analysis.to_dict(), indent=indent, allow_nan=False)
