"""Run the optiviz benchmark suite (``make bench``).

Every ``benchmarks/bench_*.py`` module exposes ``BENCHMARKS = [callable, ...]``; each
callable takes no argument and returns a dict (see ``benchmarks/README.md``)::

    name          str    what was measured
    optiviz_s     float  optiviz wall time in seconds (or None)
    baseline_s    float  hand-written baseline wall time in seconds (or None)
    ratio         float  the figure compared with the target (time ratio, throughput
                         ratio, MB, ...)
    target        float  the threshold
    higher_is_better bool (default False): pass if ratio >= target, else ratio <= target
    unit          str    what ``ratio`` is, e.g. "x time", "x throughput", "MB"
    note          str    optional detail shown under the table

The script prints one table row per benchmark and exits with status 1 if any target is
missed (or a benchmark raised).

Usage: ``python benchmarks/run.py [-k SUBSTRING] [--list]``
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load_modules(pattern: str | None = None) -> list[tuple[str, list]]:
    """(module name, BENCHMARKS) for every benchmarks/bench_*.py, sorted by file name."""
    out = []
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    if str(HERE.parent) not in sys.path:  # time this checkout's optiviz, not an installed one
        sys.path.insert(1, str(HERE.parent))
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        benches = list(getattr(module, "BENCHMARKS", []))
        if pattern:
            benches = [
                b for b in benches if pattern in path.stem or pattern in getattr(b, "__name__", "")
            ]
        if benches:
            out.append((path.stem, benches))
    return out


def passed(result: dict) -> bool:
    if "error" in result:
        return False
    if result.get("target") is None:  # reported for information only
        return True
    r, target = float(result["ratio"]), float(result["target"])
    return r >= target if result.get("higher_is_better", False) else r <= target


def _fmt_time(s) -> str:
    if s is None:
        return "-"
    s = float(s)
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1.0:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def _fmt_num(v) -> str:
    v = float(v)
    return f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}"


def run_all(pattern: str | None = None) -> list[dict]:
    results = []
    for mod, benches in load_modules(pattern):
        for bench in benches:
            label = f"{mod}.{getattr(bench, '__name__', 'bench')}"
            print(f"running {label} ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                res = dict(bench())
            except Exception as exc:  # a crashing benchmark is a failure, not a crash
                traceback.print_exc()
                res = {
                    "name": label,
                    "error": f"{type(exc).__name__}: {exc}",
                    "ratio": float("nan"),
                    "target": float("nan"),
                }
            res.setdefault("name", label)
            res["elapsed_s"] = time.perf_counter() - t0
            results.append(res)
    return results


def print_table(results: list[dict]) -> None:
    head = ["benchmark", "optiviz", "baseline", "ratio", "target", "result"]
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["name"], "-", "-", "-", "-", "ERROR"])
            continue
        unit = r.get("unit", "")
        cmp = ">=" if r.get("higher_is_better", False) else "<="
        rows.append(
            [
                r["name"],
                _fmt_time(r.get("optiviz_s")),
                _fmt_time(r.get("baseline_s")),
                f"{_fmt_num(r['ratio'])} {unit}".strip(),
                f"{cmp} {_fmt_num(r['target'])}" if r.get("target") is not None else "-",
                ("PASS" if passed(r) else "FAIL") if r.get("target") is not None else "info",
            ]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    notes = [
        (r["name"], r.get("note") or r.get("error"))
        for r in results
        if r.get("note") or r.get("error")
    ]
    if notes:
        print()
        for name, note in notes:
            print(f"{name}: {note}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "-k",
        dest="pattern",
        help="only benchmarks whose module or function name contains this substring",
    )
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)
    if args.list:
        for mod, benches in load_modules(args.pattern):
            for b in benches:
                doc = (getattr(b, "__doc__", "") or "").strip().splitlines()
                print(f"{mod}.{b.__name__}: {doc[0] if doc else ''}")
        return 0
    results = run_all(args.pattern)
    if not results:
        print("no benchmarks found", file=sys.stderr)
        return 1
    print_table(results)
    return 0 if all(passed(r) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
