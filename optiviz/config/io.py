"""Reading a config file: size limits, safe YAML, then :func:`parse_config`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optiviz.config.parse import parse_config
from optiviz.config.specs import ExperimentConfig
from optiviz.errors import ConfigError

#: Limits on a config file: its size, and the number of values it expands to (YAML aliases
#: can make a few lines expand to billions of values: the "billion laughs").
MAX_CONFIG_BYTES = 1_000_000
MAX_CONFIG_VALUES = 100_000


def _too_many_values(data: Any, limit: int = MAX_CONFIG_VALUES) -> bool:
    """True if ``data`` has more than ``limit`` values counting repeats (stops early)."""
    stack, count = [data], 0
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def _duplicate_key(node: Any) -> Any:
    """The first key node (in document order) that repeats a key of its mapping, or None.

    YAML keeps the last of two equal keys without a word; a config that says ``lr`` twice
    is a mistake. Merged mappings (``<<: *alias``) may be overridden by explicit keys, as
    YAML intends; an aliased node is looked at once."""
    import yaml

    stack = [node]
    seen: set[int] = set()
    repeats = []
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, yaml.MappingNode):
            keys: set[Any] = set()
            for key, _value in item.value:
                if key.tag != "tag:yaml.org,2002:merge" and isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        repeats.append(key)
                    keys.add(key.value)
            stack.extend(v for pair in item.value for v in pair)
        elif isinstance(item, yaml.SequenceNode):
            stack.extend(item.value)
    return min(repeats, key=lambda k: (k.start_mark.line, k.start_mark.column), default=None)


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file with ``yaml.safe_load``; syntax errors and repeated keys of one
    mapping become ConfigError (with the line and column)."""
    import yaml

    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{path}: the file has {p.stat().st_size} bytes; a config may have at most "
                f"{MAX_CONFIG_BYTES}"
            )
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        dup = None if node is None else _duplicate_key(node)
        if dup is not None:
            mark = dup.start_mark
            raise ConfigError(
                f"{path}: line {mark.line + 1}, column {mark.column + 1}: duplicate key "
                f"{dup.value!r} (a mapping names each key once)"
            )
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        detail = f"{problem} ({context})" if context else problem
        raise ConfigError(f"{path}: {where}invalid YAML: {detail}") from None
    except RecursionError:
        raise ConfigError(f"{path}: the YAML is nested too deeply") from None
    if _too_many_values(data):
        raise ConfigError(
            f"{path}: the config expands to more than {MAX_CONFIG_VALUES} values (through YAML "
            "aliases or sheer size); a config describes one experiment in a few dozen lines"
        )
    return data


def load_config(path: str | Path, *, build: bool = True, start: Any = None) -> ExperimentConfig:
    """Read and validate a config file (see the module docstring).

    ``start``: start points from the command line (``--start``), replacing the file's
    ``start`` (and validated in its place: lengths, limits, the cost of the runs); its
    problems are reported under ``--start``.
    """
    raw = read_yaml(path)
    if start is None:
        return parse_config(raw, str(path), build=build)
    if isinstance(raw, dict):
        raw = {**raw, "start": start}
    return parse_config(raw, str(path), build=build, start_key="--start")


def parse_start_text(texts: Any) -> list:
    """``--start "-1.2,1"`` (repeatable) -> ``[[-1.2, 1.0], ...]``: each text is numbers
    separated by commas (brackets or parentheses around them allowed); the numbers are left
    as text for the config's own checks, which name ``--start[i][j]``."""
    points = []
    for text in texts:
        body = str(text).strip().strip("[]()").strip()
        points.append([t.strip() for t in body.split(",")] if body else [])
    return points


def is_config_path(text: str) -> bool:
    """True when ``text`` names a YAML file (by suffix) rather than a surface."""
    return text.lower().endswith((".yaml", ".yml"))
