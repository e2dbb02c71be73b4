"""Surfaces: a sympy expression with its exact gradient and Hessian, compiled to numpy.

A :class:`Surface` is built once from a sympy expression (user text goes through the safe
parser in :mod:`optiviz.expr` first). The gradient and Hessian are derived symbolically,
then compiled with ``lambdify(..., modules="numpy")`` and a common-subexpression pass that
also shares sums between the value and the gradient (:func:`_shared_cse`) into functions
that take arrays of shape ``(n,)`` or ``(..., n)``::

    f(X)    -> ()  or (...)
    grad(X) -> (n,) or (..., n)
    hess(X) -> (n, n) or (..., n, n)

Constants broadcast to the batch shape (a quadratic's Hessian is returned once per point).
For the engine's column-major ``(R, n)`` batches the gradient is written column by column
into its output (:func:`_into_rows`), with the same operations as the other paths.
The public methods check that the values are finite and raise :class:`SurfaceError` if not;
the engine calls them with ``check=False`` inside its own ``np.errstate`` block.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from optiviz._validation import Interval, check
from optiviz.errors import SurfaceError
from optiviz.limits import MAX_VARIABLES

if TYPE_CHECKING:
    from optiviz.protocols import SurfaceLike

Array = np.ndarray

DEFAULT_WINDOW = (-2.0, 2.0)
#: What l1 and l2 may be.
_REGULARIZATION = Interval("float", 0.0, None)


@dataclass(frozen=True)
class KnownMinimum:
    """A known (global or local) minimum: location and value."""

    point: Array
    value: float

    def to_dict(self) -> dict:
        return {"point": [float(v) for v in self.point], "value": float(self.value)}


def to_exact(value: Any) -> sp.Expr:
    """Turn a parameter value into an exact sympy number where possible.

    ints stay integers, floats become the rational of their shortest decimal form (0.1 ->
    1/10, so symbolic results stay exact), sympy expressions are kept.
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise SurfaceError(f"parameter value {value!r} is a bool; a number is required")
    if isinstance(value, (int, np.integer)):
        return sp.Integer(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not np.isfinite(v):
            raise SurfaceError(f"parameter value {value!r} is not finite")
        return sp.Rational(repr(v)) if "e" not in repr(v) else sp.Float(v, 17)
    raise SurfaceError(f"parameter value {value!r} is not a number")


#: CPU seconds (``time.process_time``, not wall-clock: the same on a loaded machine) that
#: deriving and compiling the exact gradient and Hessian may take before the surface is
#: refused (issue 14: every surface is built or refused within a second). The limit is a
#: hard one: a CPU-time timer interrupts a long sympy call (see :func:`cpu_budget`). The
#: slowest library surface takes 0.3-0.55 s on a loaded machine, 100 squares 0.4 s.
BUILD_BUDGET = 1.0

#: Polynomials up to this total degree are expanded for exact answers (degree, symbolic
#: stationary points); beyond it only the expression tree is read.
MAX_EXPAND_DEGREE = 24
#: Largest derivation size (:func:`derivation_size`) of a surface, checked before any
#: derivative is taken. Every library surface is below 400 and 30-variable Rosenbrock is
#: 2,001 (0.7 s to build); 50-variable Rosenbrock (3,381) would take 1.5 s and a dense
#: 100-variable quadratic (about 70,000) half a minute.
MAX_DERIVATION_SIZE = 3_000
#: ... and only when the expansion has at most this many terms (estimated from the tree by
#: :func:`expansion_terms`): ``(a+b+...+j)**24`` expands to 38.6 million terms (minutes and
#: gigabytes), so its degree is read off the tree instead.
MAX_EXPAND_TERMS = 5_000


#: CPU seconds between the budget timer's repeats once it has fired (see cpu_budget).
_RETRY = 0.05


class _OutOfTime(BaseException):
    """Raised by the CPU-time timer of :func:`cpu_budget` (a BaseException, so sympy's own
    ``except Exception`` clauses cannot swallow it)."""


@contextmanager
def cpu_budget(seconds: float) -> Iterator[Callable[[], bool]]:
    """Bound the CPU time (``ITIMER_PROF``: user + system time of the process) of a block.

    In the main thread of a platform with ``signal.setitimer``, a timer raises a private
    exception inside whatever call is running when ``seconds`` of CPU time have passed
    (sympy's long calls included); the block sees it as :class:`_OutOfTime`. Elsewhere (a
    worker thread, Windows), the block gets only the yielded ``expired()`` check, which it
    calls between steps. Inside an outer budget the block gets at most what is left of it;
    on exit the timer and the signal handler are restored (an outer budget keeps running,
    minus the time this block used).
    """
    start = time.process_time()

    def expired() -> bool:
        return time.process_time() - start > seconds

    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield expired
        return
    active = [True]

    def on_timer(signum, frame):
        if active[0]:
            raise _OutOfTime

    old_handler = signal.signal(signal.SIGPROF, on_timer)
    old_delay, old_interval = signal.getitimer(signal.ITIMER_PROF)
    if old_delay > 0:  # inside an outer budget: this block gets at most what is left of it
        seconds = min(seconds, old_delay)
    # The timer repeats every _RETRY s of CPU until the block ends: a raise that lands in a
    # garbage-collector callback is swallowed there ("Exception ignored in ..."; jax
    # registers one), and a one-shot timer would then let the block run to its end.
    signal.setitimer(signal.ITIMER_PROF, max(seconds, 1e-6), _RETRY)
    try:
        yield expired
    finally:
        active[0] = False
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old_handler)
        if old_delay > 0:  # an outer timer was running: give it back what is left of it
            left = old_delay - (time.process_time() - start)
            signal.setitimer(signal.ITIMER_PROF, max(left, 1e-6), old_interval)


def derivation_size(expr: sp.Expr, symbols: Sequence[sp.Symbol]) -> int:
    """What deriving and compiling the gradient and Hessian of ``expr`` costs, read off the
    tree before any derivative is taken: over the terms of the top-level sum, the term's
    node count times the entries it contributes to (v gradient entries and v (v + 1) / 2
    Hessian entries for a term of v variables). Build time grows about linearly with it
    (about 0.3 ms per unit for polynomials; ``Max``/``Min`` cost more, bounded by the
    parser)."""
    syms = set(symbols)
    size = 0
    for term in expr.args if expr.is_Add else (expr,):
        v = len(term.free_symbols & syms)
        if v:
            size += sum(1 for _ in sp.preorder_traversal(term)) * v * (v + 3) // 2
    return size


def expansion_terms(expr: sp.Expr, symbols: Sequence[sp.Symbol]) -> int:
    """An upper bound on the number of terms of ``sympy.expand(expr)`` for a polynomial,
    read off the tree: sums add, products multiply, ``p**k`` of a ``t``-term ``p`` has at
    most ``C(t + k - 1, k)`` (the multisets of k terms). A function or a real power counts
    as one term whose arguments are expanded too (as ``sympy.expand`` does): the largest of
    its arguments' counts. Saturates at ``10**12``."""
    syms = set(symbols)
    cap = 10**12
    memo: dict[sp.Basic, int] = {}

    def terms(e: sp.Expr) -> int:
        if e in memo:
            return memo[e]
        if not (e.free_symbols & syms):
            out = 1
        elif e.is_Symbol:
            out = 1
        elif e.is_Add:
            out = sum(terms(a) for a in e.args)
        elif e.is_Mul:
            out = 1
            for a in e.args:
                out = min(out * terms(a), cap)
        elif e.is_Pow and e.exp.is_Integer and e.exp >= 0:
            t, k = terms(e.base), int(e.exp)
            out = 1 if t == 1 else math.comb(t + k - 1, k) if t < cap else cap
        else:  # a function (exp, Abs, ...) or a real power: one term, its arguments expanded
            out = max(terms(a) for a in e.args)
        memo[e] = min(out, cap)
        return memo[e]

    return terms(expr)


def expand_refusal(surface: Any) -> str | None:
    """Why the polynomial ``surface.expression`` should not be expanded (its degree above
    :data:`MAX_EXPAND_DEGREE` or its expansion above :data:`MAX_EXPAND_TERMS` terms), or
    None when it may be. The analysis asks this before ``sympy.expand``."""
    degree = surface.degree or 0
    if degree > MAX_EXPAND_DEGREE:
        return f"the degree {degree} is too high to expand"
    terms = expansion_terms(surface.expression, surface.symbols)
    if terms > MAX_EXPAND_TERMS:
        return (
            f"its expansion has up to {terms:.3g} terms (at most {MAX_EXPAND_TERMS:,} are expanded)"
        )
    return None


def degree_bound(expr: sp.Expr, symbols: Sequence[sp.Symbol]) -> int:
    """Total degree of a polynomial read off its expression tree, without expanding: sums
    take the maximum, products add, integer powers multiply. Exact unless terms cancel."""
    syms = set(symbols)

    def deg(e: sp.Expr) -> int:
        if not (e.free_symbols & syms):
            return 0
        if e.is_Symbol:
            return 1
        if e.is_Add:
            return max(deg(a) for a in e.args)
        if e.is_Mul:
            return sum(deg(a) for a in e.args)
        if e.is_Pow and e.exp.is_Integer and e.exp >= 0:
            return deg(e.base) * int(e.exp)
        raise SurfaceError(f"{e} is not a polynomial in {', '.join(map(str, symbols))}")

    return deg(expr)


def _strip_distributions(expr: sp.Expr) -> sp.Expr:
    """Derivatives of abs/Max/relu give DiracDelta terms: zero almost everywhere."""
    if expr.has(sp.DiracDelta):
        expr = expr.replace(sp.DiracDelta, lambda *args: sp.S.Zero)
    return expr


class _HeldMax(sp.Max):
    """A ``Max`` whose construction compares nothing.

    sympy builds every ``Max``/``Min`` by comparing its arguments pair by pair
    (``_find_localzeros``: factoring each difference), and it builds them again and again:
    the derivative of ``Max(a1, ..., ak)`` holds ``Max`` of the other k - 1 arguments for
    each ``ai``, and lambdify's common-subexpression pass rebuilds each of them with new
    arguments. A ``Max`` of 8 compound terms costs seconds that way. The arguments here are
    those of a ``Max`` sympy has already reduced, or some of them (no pair of them was found
    comparable), so there is nothing left to compare. Derivation and compilation use the
    held forms; the public gradient and Hessian are sympy's ``Max`` again. Values are the
    same: a max or min is an exact selection.
    """

    def __new__(cls, *args):
        obj = sp.Expr.__new__(cls, *args)
        obj._argset = frozenset(args)
        return obj

    def fdiff(self, argindex=1):  # sympy's Max.fdiff, with the rest held
        k = argindex - 1
        others = self.args[:k] + self.args[k + 1 :]
        rest = others[0] if len(others) == 1 else type(self)(*others)
        return sp.Heaviside(self.args[k] - rest)


class _HeldMin(sp.Min):
    """``Min`` as :class:`_HeldMax` is ``Max``."""

    def __new__(cls, *args):
        obj = sp.Expr.__new__(cls, *args)
        obj._argset = frozenset(args)
        return obj

    def fdiff(self, argindex=1):  # sympy's Min.fdiff, with the rest held
        k = argindex - 1
        others = self.args[:k] + self.args[k + 1 :]
        rest = others[0] if len(others) == 1 else type(self)(*others)
        return sp.Heaviside(rest - self.args[k])


def _swap_minmax(expr: sp.Expr, hold: bool, memo: dict) -> sp.Expr:
    """``expr`` with every Max/Min replaced by its held form (``hold``) or back by sympy's
    own, built without comparing the arguments again."""
    if not expr.args or not expr.has(sp.Max, sp.Min):
        return expr
    done = memo.get(expr)
    if done is not None:
        return done
    args = [_swap_minmax(a, hold, memo) for a in expr.args]
    if isinstance(expr, sp.Max):
        out = _HeldMax(*args) if hold else sp.Max(*args, evaluate=False)
    elif isinstance(expr, sp.Min):
        out = _HeldMin(*args) if hold else sp.Min(*args, evaluate=False)
    elif all(a is b for a, b in zip(args, expr.args, strict=True)):
        out = expr
    else:
        out = expr.func(*args)
    memo[expr] = out
    return out


class _ProductPowers(NumPyPrinter):
    """numpy printer writing small integer powers as products: ``x**2`` -> ``(x*x)``.

    numpy squares arrays with one multiplication but Python floats go through C ``pow``,
    which may round differently; products make the scalar fast path, the batched path and
    a hand-written formula agree bit for bit.
    """

    def _print_Pow(self, expr, rational=False):
        e = expr.exp
        if e.is_Integer and 2 <= int(e) <= 4:
            if expr.base.is_Atom:
                base = self._print(expr.base)
                return "(" + "*".join([base] * int(e)) + ")"
            # evaluate a compound base once: _ipow2(1 - x) rather than (1 - x)*(1 - x)
            return f"_ipow{int(e)}({self._print(expr.base)})"
        return super()._print_Pow(expr, rational=rational)

    def _print_Heaviside(self, expr):
        # sympy's printer rewrites Heaviside(a - Max(b, c, ...)) (the derivative of a Max) as
        # a Piecewise and expands its condition into every ordering of the arguments: seconds
        # to print for four arguments, and for five a condition numpy.select cannot take.
        # numpy.heaviside is the same function, H(0) = 1/2 as in sympy.
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"heaviside({self._print(expr.args[0])}, {self._print(at_zero)})"

    def _print_Add(self, expr, order=None):
        # sympy orders "-x0 + y": a leading minus is an extra negation of a whole array;
        # start with a positive term instead ("y - x0").
        text = super()._print_Add(expr, order=order)
        if not text.startswith("-"):
            return text
        terms = self._as_ordered_terms(expr, order=order)
        for i, term in enumerate(terms):
            head = self._print(term)
            if head.startswith("-"):
                continue
            others = terms[:i] + terms[i + 1 :]
            tail = (
                super()._print_Add(sp.Add(*others, evaluate=False), order=order)
                if len(others) > 1
                else self._print(others[0])
            )
            return f"{head} - {tail[1:].lstrip()}" if tail.startswith("-") else f"{head} + {tail}"
        return text


_PRINTER_SETTINGS = {
    "fully_qualified_modules": False,
    "inline": True,
    "allow_unknown_functions": True,
    "user_functions": {},
}


def _ipow2(a):
    return a * a


def _ipow3(a):
    return a * a * a


def _ipow4(a):
    return a * a * a * a


_POWERS = {"_ipow2": _ipow2, "_ipow3": _ipow3, "_ipow4": _ipow4}


def _lambdify(args, expr, cse: Any = True):
    printer = _ProductPowers(_PRINTER_SETTINGS)  # fresh: printers collect imports as they go
    return sp.lambdify(args, expr, modules=[_POWERS, "numpy"], cse=cse, printer=printer)


# -- sums sharing a multiple of another sum --------------------------------------------
# sympy distributes a number over a sum (2*(x + y**2 - 7) is stored as 2*x + 2*y**2 - 14),
# so the gradient of (x + y**2 - 7)**2 no longer contains the sum its value computes and
# cse cannot share it. :func:`_shared_cse` finds such sums and writes them back as
# multiples: with x1 = x + x0 - 7, the gradient's 4*x*x3 + 2*x + 2*x0 - 14 becomes
# 4*x*x3 + 2*x1 (four array operations fewer), as a person writes it.
_MAX_SUMS = 2000  # distinct sums searched for shared multiples (the search is ~quadratic)


def _terms(e: sp.Expr) -> dict | None:
    """A sum's terms as ``{term: rational coefficient}`` (None if a coefficient is not
    rational: floats are left as written)."""
    d = dict(e.as_coefficients_dict())
    return d if all(v.is_Rational for v in d.values()) else None


def _multiple_in(d: dict, t: dict) -> Any:
    """The number c such that the terms ``t`` include c times every term of ``d``, or None."""
    k0 = next(iter(d))
    if k0 not in t:
        return None
    c = t[k0] / d[k0]
    for k, v in d.items():
        if t.get(k) != c * v:
            return None
    return c


def _sums(exprs: Sequence[sp.Expr]) -> list[sp.Expr]:
    """The distinct sums of two or more terms in ``exprs``, innermost first."""
    seen: dict = {}
    for e in exprs:
        for node in sp.postorder_traversal(e):
            if node.is_Add and node not in seen:
                seen[node] = None
    return list(seen)


def _shared_sums(sources: Sequence[sp.Expr], targets: Sequence[sp.Expr]) -> list[sp.Expr]:
    """Sums of ``sources`` (with rational coefficients) of which a sum in ``targets`` holds
    a multiple (other than the sum itself): the sums worth naming for :func:`_rewrite`."""
    target_sums = [(b, _terms(b)) for b in _sums(targets)]
    index: dict = {}
    for b, t in target_sums:
        if t is not None:
            for k in t:
                index.setdefault(k, []).append((b, t))
    out = []
    for a in _sums(sources)[:_MAX_SUMS]:
        d = _terms(a)
        if d is None:
            continue
        rare = min(d, key=lambda k: len(index.get(k, ())))
        for b, t in index.get(rare, ()):
            if b is not a and _multiple_in(d, t) is not None:
                out.append(a)
                break
    return out


def _rewrite_sum(e: sp.Expr, known: Sequence[tuple[sp.Symbol, dict]]) -> sp.Expr:
    """``e`` (a sum) with each multiple of a known sum replaced by a multiple of its name
    (largest sums first)."""
    t = _terms(e)
    if t is None:
        return e
    changed = False
    for sym, d in known:
        if len(d) <= len(t):
            c = _multiple_in(d, t)
            if c is not None:
                for k in d:
                    del t[k]
                t[sym] = t.get(sym, 0) + c
                changed = True
    return sp.Add(*[v * k for k, v in t.items()]) if changed else e


def _rewrite(e: sp.Expr, known: Sequence[tuple[sp.Symbol, dict]], memo: dict) -> sp.Expr:
    """``e`` with :func:`_rewrite_sum` applied to every sum in it, innermost first."""
    if e.is_Atom or not e.args:
        return e
    if e in memo:
        return memo[e]
    args = tuple(_rewrite(a, known, memo) for a in e.args)
    out = e.func(*args) if args != e.args else e
    if out.is_Add:
        out = _rewrite_sum(out, known)
    memo[e] = out
    return out


def _needed(reps: list, exprs: Sequence[sp.Expr]) -> list:
    """The replacements ``exprs`` need (in order)."""
    need = set().union(*(e.free_symbols for e in exprs)) if exprs else set()
    keep = []
    for sym, rhs in reversed(reps):
        if sym in need:
            keep.append((sym, rhs))
            need |= rhs.free_symbols
    return keep[::-1]


def _shared_cse(exprs: Sequence[sp.Expr], protected: int = 0) -> tuple[list, list]:
    """sympy's cse of ``exprs``, then every sum holding a multiple of a named sum (or of a
    sum of ``exprs`` worth naming) rewritten as a multiple of the name.

    The first ``protected`` outputs and the replacements they use are left as cse writes
    them, so their values stay bit for bit those of the same outputs compiled alone (the
    value in the fused value-and-gradient equals ``f`` alone). The others change rounding
    only (c*(a + b) for c*a + c*b: exact when c is a power of two).
    """
    exprs = list(exprs)
    extra = _shared_sums(exprs, exprs[protected:])
    reps, reduced = sp.cse(extra + exprs)
    reduced = reduced[len(extra) :]
    fixed = {s for s, _ in _needed(reps, reduced[:protected])}
    known: list[tuple[sp.Symbol, dict]] = []
    memo: dict = {}
    out = []
    for sym, rhs in reps:
        if sym not in fixed:
            rhs = _rewrite(rhs, known, memo)
        out.append((sym, rhs))
        if rhs.is_Add:
            d = _terms(rhs)
            if d is not None:
                known.append((sym, d))
                known.sort(key=lambda kd: -len(kd[1]))
    reduced = reduced[:protected] + [_rewrite(e, known, memo) for e in reduced[protected:]]
    return _needed(out, reduced), reduced


def _fused_cse(protected: int) -> Callable:
    """A ``cse`` callable for lambdify: :func:`_shared_cse` of the list compiled."""

    def cse(exprs):
        return _shared_cse(exprs, protected)

    return cse


def _part_cse(whole: Sequence[sp.Expr], fused: tuple[list, list]) -> Callable:
    """A ``cse`` for lambdify compiling some of the outputs of ``whole`` (a list whose
    :func:`_shared_cse` is ``fused``) exactly as they are computed there: the fused
    value-and-gradient and the gradient alone agree bit for bit."""
    whole = list(whole)
    reps, reduced = fused

    def cse(exprs):
        single = isinstance(exprs, sp.Basic)
        part = [exprs] if single else list(exprs)
        start = 0 if single else len(whole) - len(part)
        assert part == whole[start : start + len(part)]
        out = reduced[start : start + len(part)]
        return _needed(reps, out), (out[0] if single else out)

    return cse


# -- writing a compiled gradient into its output rows ------------------------------------
_INTO_UFUNCS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "true_divide"}
_OUT = "_optiviz_out"  # not a variable name the expression parser accepts
_into_count = 0


class _Inline(ast.NodeTransformer):
    """Replaces the names of ``values`` by their expressions."""

    def __init__(self, values: dict):
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.values:
            return self.visit(self.values.pop(node.id))
        return node


def _inline_single_uses(body: list, ret: ast.Return) -> list:
    """``body`` (assignments of cse's names, each bound once) with every name used once
    written into its use: ``x0 = x*x; x1 = x0 + y`` becomes ``x1 = x*x + y``. The same
    operations on the same operands, but numpy can reuse a temporary's buffer for the
    next operation (``x*x + y`` adds into the buffer of ``x*x``), which a named
    intermediate prevents: less memory touched per evaluation."""
    uses: dict[str, int] = {}
    for node in ast.walk(ast.Module(body=[*body, ret], type_ignores=[])):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            uses[node.id] = uses.get(node.id, 0) + 1
    bound: dict[str, int] = {}
    for st in body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1:
            t = st.targets[0]
            if isinstance(t, ast.Name):
                bound[t.id] = bound.get(t.id, 0) + 1
    values: dict = {}
    out = []
    for st in body:
        name = st.targets[0] if isinstance(st, ast.Assign) and len(st.targets) == 1 else None
        new = _Inline(values).visit(st)
        if isinstance(name, ast.Name) and bound[name.id] == 1 and uses.get(name.id) == 1:
            values[name.id] = new.value  # written into its one use below
            continue
        out.append(new)
    _Inline(values).visit(ret)
    return out


def _into_rows(fn: Callable, skip: int) -> Callable | None:
    """From a lambdified ``fn(*args) -> [v_0 .. v_{skip-1}, g_0, .., g_{m-1}]``, the function
    ``fn_into(*args, out)`` that writes each ``g_i`` into the row ``out[i]`` (an ``(m, R)``
    array) and returns ``v_0`` (None if ``skip`` is 0).

    Each ``g_i``'s last operation (``+ - * /`` or a numpy ufunc call) writes into its row
    (``out=``), the others are assigned: the same operations on the same operands as
    ``fn``, so the values are bit for bit ``fn``'s, without stacking the outputs into a
    new array afterwards. A name bound once and returned once is computed in place at the
    end. None if ``fn``'s source cannot be read or has another shape.
    """
    global _into_count
    try:
        tree = ast.parse(inspect.getsource(fn))
    except (OSError, TypeError, SyntaxError):
        return None
    func = tree.body[0]
    if not isinstance(func, ast.FunctionDef) or not func.body:
        return None
    ret = func.body[-1]
    if not (isinstance(ret, ast.Return) and isinstance(ret.value, ast.List)):
        return None
    names = [a.arg for a in func.args.args]
    if _OUT in names or func.args.vararg or func.args.kwonlyargs:
        return None
    body = _inline_single_uses(func.body[:-1], ret)
    elts = list(ret.value.elts)
    head, tail = elts[:skip], elts[skip:]
    uses: dict[str, int] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            uses[node.id] = uses.get(node.id, 0) + 1
    bound = {}
    for i, st in enumerate(body):
        if isinstance(st, ast.Assign) and len(st.targets) == 1:
            t = st.targets[0]
            if isinstance(t, ast.Name):
                bound[t.id] = i if t.id not in bound else -1  # -1: bound twice
    dropped = set()
    space = fn.__globals__
    stmts = []
    for i, e in enumerate(tail):
        if isinstance(e, ast.Name) and uses.get(e.id) == 1 and bound.get(e.id, -1) >= 0:
            k = bound[e.id]
            e = body[k].value  # names are bound once (cse): the value may move to the end
            dropped.add(k)
        target = ast.Subscript(
            value=ast.Name(id=_OUT, ctx=ast.Load()), slice=ast.Constant(value=i), ctx=ast.Store()
        )
        out_kw = [ast.keyword(arg="out", value=target)]
        call = None
        if isinstance(e, ast.BinOp) and type(e.op) in _INTO_UFUNCS:
            call = ast.Call(
                func=ast.Name(id="_optiviz_" + _INTO_UFUNCS[type(e.op)], ctx=ast.Load()),
                args=[e.left, e.right],
                keywords=out_kw,
            )
        elif isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
            call = ast.Call(
                func=ast.Name(id="_optiviz_negative", ctx=ast.Load()),
                args=[e.operand],
                keywords=out_kw,
            )
        elif (
            isinstance(e, ast.Call)
            and isinstance(e.func, ast.Name)
            and isinstance(space.get(e.func.id), np.ufunc)
            and space[e.func.id].nout == 1
            and len(e.args) == space[e.func.id].nin
            and not e.keywords
            and not any(isinstance(a, ast.Starred) for a in e.args)
        ):
            call = ast.Call(func=e.func, args=e.args, keywords=out_kw)
        stmts.append(ast.Expr(value=call) if call is not None else ast.Assign([target], e))
    func.body = [st for k, st in enumerate(body) if k not in dropped] + stmts
    func.body.append(ast.Return(value=head[0] if head else ast.Constant(value=None)))
    func.args.args.append(ast.arg(arg=_OUT))
    func.name = "_optiviz_into"
    ast.fix_missing_locations(tree)
    text = ast.unparse(tree) + "\n"
    _into_count += 1
    filename = f"<optiviz-into-{_into_count}>"
    space = dict(space)
    space.update(
        _optiviz_add=np.add,
        _optiviz_subtract=np.subtract,
        _optiviz_multiply=np.multiply,
        _optiviz_true_divide=np.true_divide,
        _optiviz_negative=np.negative,
    )
    exec(compile(text, filename, "exec"), space)  # noqa: S102 (generated from our own source)
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    return space["_optiviz_into"]


class _Compiled:
    """lambdified value / gradient / Hessian / fused value-and-gradient of one expression.

    ``g`` (the gradient alone) is compiled on first use. The Hessian is compiled sparsely:
    entries that are constants are computed once into ``h_template``; ``h`` computes the
    other entries of the upper triangle (``h_index``), mirrored below the diagonal by
    :meth:`hessian` (a 100-variable sum of squares has none: its Hessian is the constant 2 I).
    """

    def __init__(self, expr: sp.Expr, gradient: Sequence[sp.Expr], hessian: Mapping, symbols):
        n = len(symbols)
        self.n = n
        args = list(symbols)
        self._args, self._gradient = args, list(gradient)
        whole = [expr, *self._gradient]
        self._cse = _part_cse(whole, _shared_cse(whole, 1))
        # the value alone as sympy's cse writes it (as before): naming the sums the
        # gradient shares would only keep more arrays alive (Beale on a 500 x 500 grid: 4x)
        self.f = _lambdify(args, expr)
        self.vg = _lambdify(args, whole, self._cse)
        template = np.zeros((n, n))
        printed = []  # constants whose float value is whatever the printed code computes
        index = []
        for (i, j), e in hessian.items():
            if e.free_symbols:
                index.append((i, j))
            elif e.is_Rational:  # exact (ints) or correctly rounded (p/q), as printed
                template[i, j] = template[j, i] = float(e)
            else:
                printed.append((i, j, e))
        if printed:
            values = _lambdify([], [e for _, _, e in printed])()
            for (i, j, _), v in zip(printed, values, strict=True):
                template[i, j] = template[j, i] = v
        self.h_template = template
        self.h_index = index
        self.h = _lambdify(args, [hessian[k] for k in index], _fused_cse(0)) if index else None
        # Python floats are the cheapest scalars for one point, but a non-integer power of
        # a negative float is complex in Python (nan in numpy): use them only when every
        # power has an integer exponent.
        pows = set().union(*(e.atoms(sp.Pow) for e in [expr, *gradient, *hessian.values()]))
        self.float_ok = all(p.exp.is_integer for p in pows)

    @cached_property
    def g(self) -> Callable:
        """The gradient alone, compiled on first use (its cost is bounded by that of
        ``vg``, compiled within the build budget)."""
        return _lambdify(self._args, self._gradient, self._cse)

    @cached_property
    def vg_into(self) -> Callable | None:
        """``vg`` writing the gradient into the rows of an ``(n, R)`` array: see
        :func:`_into_rows` (built on first use)."""
        return _into_rows(self.vg, 1)

    @cached_property
    def g_into(self) -> Callable | None:
        """``g`` writing into the rows of an ``(n, R)`` array (built on first use)."""
        return _into_rows(self.g, 0)

    def call(self, fn: Callable, X: Array):
        """Evaluate a lambdified function on points ``X`` of shape (n,) or (..., n)."""
        if X.ndim == 1:
            if self.float_ok:
                try:
                    return fn(*X.tolist())
                except (OverflowError, ZeroDivisionError):
                    pass  # numpy scalars give inf/nan instead
            return fn(*X)
        if X.ndim == 2:  # contiguous columns: elementwise ops on strided views are slower
            return fn(*(X.T if X.flags.f_contiguous else X.T.copy()))
        return fn(*[X[..., i] for i in range(self.n)])

    def hessian(self, X: Array) -> Array:
        """The Hessians at ``X`` (n,) or (..., n): shape (n, n) or (..., n, n)."""
        batch = X.shape[:-1]
        out = np.empty(batch + (self.n, self.n))
        out[...] = self.h_template
        if self.h is not None:
            for (i, j), p in zip(self.h_index, self.call(self.h, X), strict=True):
                out[..., i, j] = p
                if i != j:
                    out[..., j, i] = p
        return out


def _as_points(X: Any, n: int, names: Sequence[str]) -> Array:
    X = np.asarray(X, dtype=float)
    if X.ndim == 0 or X.shape[-1] != n:
        shape = X.shape if X.ndim else "a scalar"
        raise SurfaceError(
            f"points must have shape (..., {n}) for the variables ({', '.join(names)}); "
            f"got shape {shape}"
        )
    return X


def _fill(parts: list, batch: tuple, width: int, fortran: bool = False) -> Array:
    """Stack lambdify outputs (scalars or arrays, possibly constant) into (*batch, width).

    ``fortran``: return a column-major (R, width) array (for column-major (R, n) input:
    the engine's batched layout), written one contiguous column at a time.
    """
    if not batch:
        return np.array(parts, dtype=float)
    if fortran and len(batch) == 1:
        out = np.empty((width,) + batch)
        for i, p in enumerate(parts):
            out[i] = p
        return out.T
    out = np.empty(batch + (width,))
    for i, p in enumerate(parts):
        out[..., i] = p
    return out


def _values(v: Any, batch: tuple) -> Array:
    """A lambdify value output as a float array of shape ``batch``.

    A fresh float64 result of that shape is returned as is (copying a 500 x 500 grid's
    values costs a third of computing Rosenbrock on it); scalars and constants are broadcast
    and views of the input (an expression that is a bare variable) are copied.
    """
    if type(v) is np.ndarray and v.dtype == np.float64 and v.shape == batch and v.flags.owndata:
        return v
    return np.broadcast_to(v, batch).astype(float)


class Surface:
    """A loss surface with exact, compiled value, gradient and Hessian.

    Build one with :meth:`from_expression` (user text, parsed safely), :meth:`from_sympy`
    or :func:`optiviz.load_surface` (the library in ``surfaces/``).

    Attributes
    ----------
    name, description, source, text : str
    expression : sympy.Expr
        The expression with parameters substituted and regularization added.
    symbols : tuple of sympy.Symbol; variables : tuple of str; n : int
    parameters : dict
        Parameter values used (after overrides).
    gradient : sympy.Matrix (n x 1); hessian : sympy.Matrix (n x n)
    window : ndarray (n, 2)
        Plot window, ``[low, high]`` per variable.
    minima : list of KnownMinimum

    A :class:`optiviz.protocols.SurfaceLike`: ``n_samples`` is None (no data, no
    ``batch=``), and the symbolic view is the function itself (``has_symbolic_form`` and
    ``symbolic_exact`` are True).
    """

    n_samples: int | None = None
    has_symbolic_form: bool = True
    symbolic_exact: bool = True
    _latex: Mapping[str, str] | None = None  # rendered lazily by the latex property

    def __init__(
        self,
        expression: sp.Expr,
        symbols: Sequence[sp.Symbol],
        *,
        name: str = "custom",
        text: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        window: Any = None,
        minima: Iterable[Any] | None = None,
        description: str = "",
        source: str = "",
        l1: float = 0.0,
        l2: float = 0.0,
        rebuild: Callable[..., Surface] | None = None,
        extra: Mapping[str, Any] | None = None,
    ):
        self.name = name
        self.description = description
        self.source = source
        self.symbols = tuple(symbols)
        self.variables = tuple(str(s) for s in self.symbols)
        self.n = len(self.symbols)
        if not 0 < self.n <= MAX_VARIABLES:
            raise SurfaceError(
                f"surface {name!r} has {self.n} variables; 1 to {MAX_VARIABLES} are allowed"
            )
        if len(set(self.variables)) != self.n:
            raise SurfaceError(f"surface {name!r} has repeated variables: {self.variables}")
        self.parameters = dict(parameters or {})
        self.l1 = _check_reg("l1", l1)
        self.l2 = _check_reg("l2", l2)
        if not isinstance(expression, sp.Expr):
            raise SurfaceError(f"surface {name!r}: expression must be a sympy expression")
        base = expression
        free = base.free_symbols - set(self.symbols)
        if free:
            names = ", ".join(sorted(str(s) for s in free))
            raise SurfaceError(
                f"surface {name!r}: the expression uses undeclared names {names}; "
                f"variables are {', '.join(self.variables)}"
            )
        self.base_expression = base
        expr = base
        if self.l2:
            expr = expr + to_exact(self.l2) / 2 * sum(s**2 for s in self.symbols)
        if self.l1:
            expr = expr + to_exact(self.l1) * sum(sp.Abs(s) for s in self.symbols)
        self.expression = expr
        self.text = text if text is not None else str(base)
        self.extra = dict(extra or {})
        self._rebuild = rebuild
        self.window = self._make_window(window)
        self.minima = self._make_minima(minima)
        self._derive()

    @property
    def errata(self) -> tuple[str, ...]:
        """Errors in the lecture slides about this surface (a library surface's YAML
        ``errata:``; empty for inline and data surfaces)."""
        return tuple(self.extra.get("errata", ()))

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_expression(
        cls,
        text: str,
        variables: Sequence[str],
        parameters: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Surface:
        """Parse ``text`` with the safe parser and build a surface.

        ``parameters`` maps parameter names in ``text`` to their values (numbers, or
        constant expressions such as ``"0.15*pi"``); they are substituted at load time.
        """
        from optiviz.expr import parse_constant, parse_expression, symbol, validate_name

        if isinstance(variables, str) or not isinstance(variables, Sequence):
            raise SurfaceError(f"variables must be a list of names; got {variables!r}")
        for v in variables:
            validate_name(v)
        params = dict(parameters or {})
        for p in params:
            validate_name(p)
        expr = parse_expression(text, list(variables), list(params))
        values = {}
        for key, value in params.items():
            values[key] = parse_constant(value) if isinstance(value, str) else to_exact(value)
        subs = {symbol(k): v for k, v in values.items()}
        sym_vars = [symbol(v) for v in variables]
        if subs:
            expr = _substitute_checked(expr, subs, kwargs.get("name", "custom"))

        def rebuild(**overrides: Any) -> Surface:
            unknown = [k for k in overrides if k not in params]
            if unknown:
                from optiviz.errors import suggest

                raise SurfaceError(
                    f"surface {kwargs.get('name', 'custom')!r} has no parameter {unknown[0]!r}"
                    f"{suggest(unknown[0], params)}; parameters: {', '.join(params) or 'none'}"
                )
            # Known minima were stated for the old parameter values: drop them.
            kw = {**kwargs, "minima": None}
            return cls.from_expression(text, variables, {**params, **overrides}, **kw)

        return cls(
            expr,
            sym_vars,
            text=text,
            parameters=params,
            rebuild=rebuild,
            **kwargs,
        )

    @classmethod
    def from_sympy(
        cls,
        expression: sp.Expr,
        symbols: Sequence[sp.Symbol],
        parameters: Mapping[sp.Symbol | str, Any] | None = None,
        **kwargs: Any,
    ) -> Surface:
        """Build from a sympy expression (trusted code, not user text)."""
        params = dict(parameters or {})
        subs = {}
        for key, value in params.items():
            sym = (
                key
                if isinstance(key, sp.Symbol)
                else next((s for s in expression.free_symbols if str(s) == key), None)
            )
            if sym is not None:
                subs[sym] = to_exact(value)
        expr = expression.subs(subs) if subs else expression
        return cls(expr, symbols, parameters={str(k): v for k, v in params.items()}, **kwargs)

    def with_parameters(self, **overrides: Any) -> Surface:
        """A new surface with some parameters changed (compiled functions rebuilt)."""
        if not overrides:
            return self
        if self._rebuild is None:
            raise SurfaceError(f"surface {self.name!r} has no parameters to override")
        new = self._rebuild(**overrides)
        if (new.l1, new.l2) != (self.l1, self.l2):  # keep regularization added by regularized()
            new = new._copy(l1=self.l1, l2=self.l2)
        return new

    def regularized(self, l1: float = 0.0, l2: float = 0.0) -> Surface:
        """A new surface with ``l1 * ||w||_1 + l2 / 2 * ||w||^2`` added (on top of any existing)."""
        return self._copy(l1=self.l1 + _check_reg("l1", l1), l2=self.l2 + _check_reg("l2", l2))

    def transformed(
        self,
        rotate: float = 0.0,
        scale: Sequence[float] | None = None,
        plane: Sequence[str] | None = None,
    ) -> Surface:
        """This surface turned by ``rotate`` degrees (counter-clockwise, in the ``plane`` of
        two variables; for n = 2 the plane of both) and then stretched by ``scale[i]``
        along variable i.

        Convention: the new surface is ``g(u) = f(x)`` with ``u = S R x``, i.e. ``x =
        R^T S^-1 u`` (R the rotation, S = diag(scale)); an optimizer on it sees ``u``. Its
        expression is ``f`` with that substitution, so its gradient ``S^-1 R grad f(x)`` and
        Hessian ``S^-1 R H(x) R^T S^-1`` are exact (derived from the new expression);
        known minima move to ``S R x*`` with the same values; the window becomes the box
        around the image of the old one. Regularization (``l1``, ``l2``) is added in ``u``.
        Raises :class:`SurfaceError` naming ``transform`` for a bad argument.
        """
        n = self.n
        names = self.variables
        deg = _transform_number("rotate", rotate)
        if deg and n == 1:
            raise SurfaceError(
                f"surface {self.name!r}: transform.rotate needs two variables; this surface "
                f"has one ({names[0]}): use transform.scale only"
            )
        if plane is None:
            if deg and n > 2:
                raise SurfaceError(
                    f"surface {self.name!r}: transform.rotate on {n} variables needs "
                    f"transform.plane, the two variables to rotate (of {', '.join(names)})"
                )
            ij = (0, 1) if n >= 2 else (0, 0)
        else:
            if (
                isinstance(plane, str)
                or len(plane) != 2
                or any(p not in names for p in plane)
                or plane[0] == plane[1]
            ):
                raise SurfaceError(
                    f"surface {self.name!r}: transform.plane must be two different variables "
                    f"of {', '.join(names)}; got {plane!r}"
                )
            ij = (names.index(plane[0]), names.index(plane[1]))
        factors = [sp.Integer(1)] * n
        if scale is not None:
            if isinstance(scale, str) or len(scale) != n:
                raise SurfaceError(
                    f"surface {self.name!r}: transform.scale must give one factor per variable "
                    f"({', '.join(names)}); got {scale!r}"
                )
            factors = []
            for v in scale:
                f = _transform_number("scale", v)
                if not f > 0:
                    raise SurfaceError(
                        f"surface {self.name!r}: transform.scale factors must be > 0; got {v!r}"
                    )
                factors.append(to_exact(v))
        theta = to_exact(deg) * sp.pi / 180
        R = sp.eye(n)
        if deg:
            i, j = ij
            c, s_ = sp.cos(theta), sp.sin(theta)
            R[i, i], R[i, j], R[j, i], R[j, j] = c, -s_, s_, c
        S = sp.diag(*factors)
        A = R.T * S.inv()  # x = A u
        u = sp.Matrix(self.symbols)
        x_of_u = A * u
        sub = {self.symbols[k]: x_of_u[k] for k in range(n)}
        expr = self.base_expression.xreplace(sub)
        forward = np.array((S * R).evalf(17).tolist(), dtype=float)  # u = forward x
        minima = [
            KnownMinimum(forward @ np.asarray(m.point, dtype=float), m.value) for m in self.minima
        ]
        w = np.asarray(self.window, dtype=float)
        center, half = w.mean(axis=1), (w[:, 1] - w[:, 0]) / 2
        c2, h2 = forward @ center, np.abs(forward) @ half
        window = np.stack([c2 - h2, c2 + h2], axis=1)
        what = []
        if deg:
            what.append(f"rotated by {deg:g} degrees in the ({names[ij[0]]}, {names[ij[1]]}) plane")
        if scale is not None:
            what.append("scaled by (" + ", ".join(f"{float(v):g}" for v in scale) + ")")
        note = " and ".join(what) or "not transformed"
        spec: dict[str, Any] = {
            "rotate": deg,
            "scale": None if scale is None else [float(v) for v in scale],
        }
        if plane is not None:
            spec["plane"] = list(plane)
        rebuild = self._rebuild

        def rebuild_transformed(**overrides: Any) -> Surface:
            if rebuild is None:
                raise SurfaceError(f"surface {self.name!r} has no parameters to override")
            return rebuild(**overrides).transformed(rotate, scale, plane)

        return Surface(
            expr,
            self.symbols,
            name=self.name,
            text=str(expr),
            parameters=self.parameters,
            window=window,
            minima=minima,
            description=(self.description + " " if self.description else "") + f"({note}: "
            "u = S R x, the optimizer sees u)",
            source=self.source,
            l1=self.l1,
            l2=self.l2,
            rebuild=None if rebuild is None else rebuild_transformed,
            extra={**self.extra, "transform": spec, "transform_matrix": forward.tolist()},
        )

    def _copy(self, **changes: Any) -> Surface:
        kw: dict[str, Any] = dict(
            name=self.name,
            text=self.text,
            parameters=self.parameters,
            window=self.window,
            minima=None if (changes.get("l1") or changes.get("l2")) else self.minima,
            description=self.description,
            source=self.source,
            l1=self.l1,
            l2=self.l2,
            rebuild=self._rebuild,
            extra=self.extra,
        )
        kw.update(changes)
        return Surface(self.base_expression, self.symbols, **kw)

    def _make_window(self, window: Any) -> Array:
        return make_window(window, self.name, self.variables)

    def _make_minima(self, minima: Iterable[Any] | None) -> list[KnownMinimum]:
        out = []
        for m in minima or ():
            if isinstance(m, KnownMinimum):
                out.append(m)
                continue
            point = np.asarray(m["point"], dtype=float).reshape(-1)
            if point.shape != (self.n,):
                raise SurfaceError(
                    f"surface {self.name!r}: known minimum {m['point']!r} must have "
                    f"{self.n} coordinates ({', '.join(self.variables)})"
                )
            out.append(KnownMinimum(point, float(m["value"])))
        return out

    def _derive(self) -> None:
        """The exact gradient and Hessian, compiled, within :data:`BUILD_BUDGET` CPU
        seconds (refused with a :class:`SurfaceError` naming the limit beyond it)."""
        n = self.n
        done = [0, 0]  # gradient entries, Hessian entries

        def refusal() -> SurfaceError:
            what = (
                f"{done[0]} of {n} gradient entries"
                if done[0] < n
                else f"{done[1]} of {n * (n + 1) // 2} Hessian entries"
                if done[1] < n * (n + 1) // 2
                else "all derivatives, compiling them"
            )
            return SurfaceError(
                f"surface {self.name!r}: deriving and compiling its exact gradient and "
                f"Hessian takes longer than {BUILD_BUDGET:g} s of CPU time (the limit; "
                f"{what} done, {n} variables): simplify the expression or use fewer variables"
            )

        size = derivation_size(self.expression, self.symbols)
        if size > MAX_DERIVATION_SIZE:
            raise SurfaceError(
                f"surface {self.name!r} is too large to derive: its derivation size is "
                f"{size:,} (at most {MAX_DERIVATION_SIZE:,}: over the terms of the sum, "
                "nodes x the gradient and Hessian entries each term touches; "
                f"{n} variables): simplify the expression or use fewer variables"
            )
        try:
            with cpu_budget(BUILD_BUDGET) as expired:
                self._derive_within(expired, done, refusal)
        except _OutOfTime:
            raise refusal() from None
        except (RecursionError, MemoryError):
            raise SurfaceError(
                f"surface {self.name!r}: its exact gradient and Hessian are too large to "
                f"compile ({n} variables): simplify the expression or use fewer variables"
            ) from None

    def _derive_within(self, expired: Callable[[], bool], done: list, refusal) -> None:
        syms = self.symbols
        memo: dict = {}
        expr = _swap_minmax(self.expression, True, memo)
        # d/dx of a sum is the sum of the derivatives of the terms that hold x: each term is
        # differentiated only by its own variables (100-variable Rosenbrock: 600 term
        # derivatives instead of 30,000), the same result as sympy.diff of the whole sum.
        terms: dict[sp.Symbol, list] = {s: [] for s in syms}
        for term in expr.args if expr.is_Add else (expr,):
            for s in term.free_symbols:
                if s in terms:
                    terms[s].append(term)
        grad = []
        for s in syms:
            if expired():
                raise refusal()
            grad.append(_strip_distributions(sp.Add(*[sp.diff(t, s) for t in terms[s]])))
            done[0] += 1
        # Heaviside and sign (from derivatives of Max/Min/abs) are constant almost
        # everywhere: their derivatives are DiracDelta terms that would be stripped. Hold
        # them as symbols while differentiating, so sympy does not rebuild every Max of the
        # remaining arguments once per Hessian entry only to throw the result away.
        steps = {a: sp.Dummy() for g in grad for a in g.atoms(sp.Heaviside, sp.sign)}
        held = [g.xreplace(steps) for g in grad] if steps else grad
        back = {d: a for a, d in steps.items()}
        entries: dict[tuple[int, int], sp.Expr] = {}
        for i in range(self.n):  # the upper triangle; the Hessian is symmetric
            free = held[i].free_symbols
            for j in range(i, self.n):
                if expired():
                    raise refusal()
                if syms[j] in free:
                    entry = sp.diff(held[i], syms[j])
                    entries[i, j] = _strip_distributions(entry.xreplace(back) if back else entry)
                else:
                    entries[i, j] = sp.S.Zero
                done[1] += 1
        self._c = _Compiled(expr, grad, entries, syms)
        if expr is not self.expression:  # the public forms hold sympy's own Max and Min
            back_memo: dict = {}
            grad = [_swap_minmax(g, False, back_memo) for g in grad]
            entries = {k: _swap_minmax(e, False, back_memo) for k, e in entries.items()}
        self.gradient = sp.Matrix(grad)
        self.hessian = sp.Matrix(self.n, self.n, lambda i, j: entries[min(i, j), max(i, j)])

    # -- derived facts -------------------------------------------------------------------
    @property
    def latex(self) -> Mapping[str, str]:
        """LaTeX of ``"f"``, ``"gradient"`` and ``"hessian"``, each rendered on first use and
        kept (a large Hessian takes seconds to render; a figure title needs only ``f``)."""
        if self._latex is None:
            self._latex = _LazyLatex(
                {"f": self.expression, "gradient": self.gradient, "hessian": self.hessian}
            )
        return self._latex

    @cached_property
    def is_polynomial(self) -> bool:
        return bool(self.expression.is_polynomial(*self.symbols))

    @cached_property
    def degree(self) -> int | None:
        """Total degree of a polynomial surface (None otherwise).

        Exact up to :data:`MAX_EXPAND_DEGREE` when the expansion has at most
        :data:`MAX_EXPAND_TERMS` terms; otherwise the degree read off the expression tree
        without expanding (an upper bound: expanding ``(x+y+1)**100 * ...`` to five hundred
        thousand terms, or ``(a+b+...+j)**24`` to 38.6 million, would take minutes).
        """
        if not self.is_polynomial:
            return None
        bound = degree_bound(self.expression, self.symbols)
        if bound > MAX_EXPAND_DEGREE:
            return bound
        if expansion_terms(self.expression, self.symbols) > MAX_EXPAND_TERMS:
            return bound  # (a+b+...+j)**24: 38.6 million terms
        return int(sp.Poly(self.expression, *self.symbols).total_degree())

    @property
    def f_min(self) -> float | None:
        return min((m.value for m in self.minima), default=None)

    def nearest_minimum(self, x: Any) -> KnownMinimum | None:
        return nearest_minimum(self.minima, x)

    # -- evaluation ----------------------------------------------------------------------
    def f(self, X: Any, *, check: bool = True, batch: Any = None) -> Any:
        """Value at ``X`` of shape ``(n,)`` or ``(..., n)``; returns a numpy scalar or an
        array of shape ``(...)``."""
        X = self._prepare(X, batch)
        if check:
            with np.errstate(all="ignore"):
                out = _values(self._c.call(self._c.f, X), X.shape[:-1])
            out = self._checked("f", out, X)
            return out[()] if X.ndim == 1 else out  # one point: a numpy scalar
        out = self._c.call(self._c.f, X)
        if X.ndim == 1:
            return np.float64(out)
        return _values(out, X.shape[:-1])

    def grad(self, X: Any, *, check: bool = True, batch: Any = None) -> Array:
        """Exact gradient at ``X``; returns ``(n,)`` or ``(..., n)``."""
        X = self._prepare(X, batch)
        if check:
            with np.errstate(all="ignore"):
                out = _fill(self._c.call(self._c.g, X), X.shape[:-1], self.n)
            return self._checked("the gradient", out, X)
        if X.ndim == 2 and X.flags.f_contiguous and self._c.g_into is not None:
            out = np.empty((self.n, X.shape[0]))
            self._c.g_into(*X.T, out)
            return out.T
        return _fill(
            self._c.call(self._c.g, X), X.shape[:-1], self.n, X.ndim == 2 and X.flags.f_contiguous
        )

    def value_and_grad(self, X: Any, *, check: bool = True, batch: Any = None) -> tuple[Any, Array]:
        """``(f(X), grad(X))`` from one fused compiled call (shared subexpressions)."""
        X = self._prepare(X, batch)
        if check:
            with np.errstate(all="ignore"):
                parts = self._c.call(self._c.vg, X)
                f = _values(parts[0], X.shape[:-1])
                g = _fill(parts[1:], X.shape[:-1], self.n)
            f = self._checked("f", f, X)
            return (f[()] if X.ndim == 1 else f), self._checked("the gradient", g, X)
        if X.ndim == 2 and X.flags.f_contiguous and self._c.vg_into is not None:
            # the engine's batched layout: each gradient column is written in place
            out = np.empty((self.n, X.shape[0]))
            return _values(self._c.vg_into(*X.T, out), X.shape[:-1]), out.T
        parts = self._c.call(self._c.vg, X)
        if X.ndim == 1:
            return np.float64(parts[0]), np.array(parts[1:], dtype=float)
        return (
            _values(parts[0], X.shape[:-1]),
            _fill(parts[1:], X.shape[:-1], self.n, X.ndim == 2 and X.flags.f_contiguous),
        )

    def point_value_and_grad(self) -> Callable[[Array], tuple[Any, Array]]:
        """A callable ``x -> (f, g)`` for one float64 point of shape ``(n,)``, unchecked.

        The engine's single-run hot loop: it skips argument validation and returns ``f``
        as a Python float, which saves about half a microsecond per call against
        ``value_and_grad(x, check=False)`` (the whole fused Rosenbrock evaluation costs
        about one). Floating-point warnings are left to the caller's ``np.errstate``.
        Subclasses that evaluate differently fall back to their ``value_and_grad``.
        """
        if type(self).value_and_grad is not Surface.value_and_grad:
            return lambda x: self.value_and_grad(x, check=False)
        fn = self._c.vg
        array = np.array

        if self._c.float_ok:

            def vg(x: Array):
                try:
                    f, *g = fn(*x.tolist())
                except (OverflowError, ZeroDivisionError):  # numpy scalars give inf/nan
                    f, *g = fn(*x)
                return f, array(g, dtype=float)

        else:

            def vg(x: Array):
                f, *g = fn(*x)
                return f, array(g, dtype=float)

        return vg

    def hess(self, X: Any, *, check: bool = True, batch: Any = None) -> Array:
        """Exact Hessian at ``X``; returns ``(n, n)`` or ``(..., n, n)``."""
        X = self._prepare(X, batch)
        with np.errstate(all="ignore") if check else _NULL:
            out = self._c.hessian(X)
        return self._checked("the Hessian", out, X) if check else out

    def _prepare(self, X: Any, batch: Any) -> Array:
        if batch is not None:
            raise SurfaceError(f"surface {self.name!r} has no samples; batch must be None")
        if type(X) is np.ndarray and X.dtype == np.float64 and X.ndim and X.shape[-1] == self.n:
            return X
        return _as_points(X, self.n, self.variables)

    def _checked(self, what: str, out: Array, X: Array) -> Array:
        return checked_finite(out, X, what, self.name, self.variables)

    # -- presentation -------------------------------------------------------------------
    def describe(self) -> str:
        return "\n".join(describe_lines(self))

    def __repr__(self) -> str:
        return f"Surface(name={self.name!r}, f={self.text!r}, variables={list(self.variables)})"


def _transform_number(key: str, value: Any) -> float:
    """A finite number of a transform (``rotate`` degrees, a ``scale`` factor)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise SurfaceError(f"transform.{key} must be a finite number; got {value!r}")
    v = float(value)
    if not np.isfinite(v) or abs(v) > 1e12:
        raise SurfaceError(f"transform.{key} must be a finite number within 1e12; got {value!r}")
    return v


def make_window(window: Any, name: str, variables: Sequence[str]) -> Array:
    """A plot window of shape ``(n, 2)`` from ``None`` (:data:`DEFAULT_WINDOW` for every
    variable), one ``[low, high]`` or one per variable; low < high, finite."""
    n = len(variables)
    if window is None:
        return np.tile(np.array(DEFAULT_WINDOW, dtype=float), (n, 1))
    w = np.asarray(window, dtype=float)
    if w.shape == (2,):
        w = np.tile(w, (n, 1))
    if w.shape != (n, 2) or not np.all(np.isfinite(w)) or np.any(w[:, 0] >= w[:, 1]):
        raise SurfaceError(
            f"surface {name!r}: window must be [low, high] or one [low, high] per "
            f"variable ({', '.join(variables)}) with low < high; got {window!r}"
        )
    return w


def nearest_minimum(minima: Sequence[KnownMinimum], x: Any) -> KnownMinimum | None:
    """The minimum of ``minima`` closest to ``x`` (Euclidean), None if there is none."""
    if not minima:
        return None
    x = np.asarray(x, dtype=float)
    return min(minima, key=lambda m: float(np.linalg.norm(x - m.point)))


def checked_finite(out: Array, X: Array, what: str, name: str, variables: Sequence[str]) -> Array:
    """``out`` (values at the points ``X``) if all finite, else :class:`SurfaceError`
    naming the first point where ``what`` (``"f"``, ``"the gradient"``, ...) is not."""
    finite = np.isfinite(out)
    if not finite.all():
        bad = np.argwhere(~finite.reshape(X.shape[:-1] + (-1,)).all(axis=-1))
        idx = tuple(bad[0]) if bad.size else ()
        point = X[idx] if X.ndim > 1 else X
        shown = ", ".join(f"{v}={p:.6g}" for v, p in zip(variables, point, strict=False))
        raise SurfaceError(
            f"{what} of surface {name!r} is not finite at ({shown}): the point is "
            "outside the domain of the expression or the value overflows"
        )
    return out


def describe_lines(surface: SurfaceLike) -> list[str]:
    """The lines of ``describe()``: name and description, formula, parameters,
    regularization, window, known minima, source."""
    s = surface
    lines = [f"{s.name}: {s.description}".rstrip(": ")]
    lines.append(f"  f({', '.join(s.variables)}) = {s.text}")
    if s.parameters:
        shown = ", ".join(f"{k}={v}" for k, v in s.parameters.items())
        lines.append(f"  parameters: {shown}")
    if s.l1 or s.l2:
        lines.append(f"  regularization: l1={s.l1:g}, l2={s.l2:g}")
    ranges = zip(s.variables, s.window, strict=True)
    lines.append("  window: " + ", ".join(f"{v} in [{lo:g}, {hi:g}]" for v, (lo, hi) in ranges))
    for m in s.minima:
        pt = ", ".join(f"{p:.6g}" for p in m.point)
        lines.append(f"  known minimum: ({pt}), f = {m.value:.6g}")
    if s.source:
        lines.append(f"  source: {s.source}")
    return lines


class _LazyLatex(Mapping):
    """A read-only mapping name -> LaTeX that renders each sympy object once, on access."""

    def __init__(self, objects: dict):
        self._objects = objects
        self._text: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        if key not in self._text:
            self._text[key] = sp.latex(self._objects[key])
        return self._text[key]

    def __iter__(self):
        return iter(self._objects)

    def __len__(self) -> int:
        return len(self._objects)

    def __repr__(self) -> str:
        return repr(dict(self))


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NULL = _NullContext()


def _substitute_checked(expr: sp.Expr, subs: Mapping, name: str) -> sp.Expr:
    """Substitute parameter values, keeping the parser's limits on constant exponents.

    The safe parser bounds literal exponents; a parameter used as an exponent (``x**a``)
    would bypass that bound once its value is substituted, and ``x**1e9`` makes sympy's
    polynomial machinery allocate a billion coefficients.
    """
    from optiviz.errors import ExpressionError
    from optiviz.expr import MAX_EXPONENT, substitute

    try:
        out = substitute(expr, subs)
    except ExpressionError as exc:
        raise SurfaceError(f"surface {name!r}: after substituting the parameters, {exc}") from None
    for p in out.atoms(sp.Pow):
        e = p.exp
        if e.is_number and (not e.is_finite or abs(float(e)) > MAX_EXPONENT):
            raise SurfaceError(
                f"surface {name!r}: after substituting the parameters, the exponent {e} in "
                f"{p} is outside the allowed range [-{MAX_EXPONENT}, {MAX_EXPONENT}]"
            )
    if out.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise SurfaceError(
            f"surface {name!r}: the expression is undefined for the parameter values given "
            f"({', '.join(f'{k}={v}' for k, v in subs.items())})"
        )
    return out


def _check_reg(key: str, value: Any) -> float:
    """A regularization constant ``l1`` / ``l2``: a float in the range [0, inf)."""
    return check(
        "surface",
        key,
        value,
        _REGULARIZATION,
        error=SurfaceError,
        message="regularization {key!r} must be {allowed}; got {value!r}",
    )
