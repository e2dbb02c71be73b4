"""Safe parsing of user expression text into sympy.

User text (a surface formula from a YAML file or the command line) is never evaluated.
It is parsed with :func:`ast.parse` and the resulting syntax tree is walked against a
whitelist; this module builds the sympy expression itself, node by node, from
``sympy.Integer``/``sympy.Rational``, ``sympy.Add``/``sympy.Mul``/``sympy.Pow`` and a
named set of functions. Nothing in this module calls ``eval``, ``exec`` or sympy's
string parsers.

What is allowed
---------------
* numbers: integer literals (at most :data:`MAX_INT_DIGITS` digits) and decimal literals,
  which become exact rationals (``0.1`` is ``Rational(1, 10)``);
* the declared variable and parameter names, and the constants ``pi`` and ``E``;
* binary ``+ - * / **``, unary ``-`` and ``+``, parentheses;
* calls with positional arguments of the functions in :data:`FUNCTIONS`: ``exp log sqrt
  sin cos tan tanh sinh cosh abs`` (one argument), ``Max Min`` (2 to
  :data:`MAX_MINMAX_ARGS` arguments) and ``sigmoid(x) = 1/(1 + exp(-x))``,
  ``softplus(x) = log(1 + exp(x))``, ``relu(x) = Max(0, x)``.

Everything else (attributes, subscripts, other calls, lambdas, comprehensions, strings,
comparisons, boolean operators, ``% // @ ^ & | << >> ~``, keyword or starred arguments)
is refused with an :class:`~optiviz.errors.ExpressionError` naming the offending token,
its column and what is allowed.

Limits
------
Checked in this order, so hostile text is refused in milliseconds:

* :data:`MAX_LENGTH` characters, checked before anything else;
* :data:`MAX_NESTING` levels of brackets, by a linear scan before :func:`ast.parse`
  (which can itself fail on very deep nesting);
* :data:`MAX_NODES` numbers, names and operations, and :data:`MAX_DEPTH` levels of
  nested operations (a chain ``a + b - c + ...`` or ``a * b / c * ...`` counts as one
  level), checked on the syntax tree before anything is built;
* the exponent of ``**``, when it is a constant, is at most :data:`MAX_EXPONENT` in
  magnitude (so ``2**1000`` and ``10**10**10`` are refused; ``x**y`` is allowed);
* every constant subexpression must be a finite real number that fits a 64-bit float
  (``1e999``, ``exp(1000)``, ``1/0``, ``log(0)`` and ``sqrt(-1)`` are refused), and exact
  rationals are limited to :data:`MAX_CONSTANT_BITS` bits; ``Max``/``Min`` take at most
  :data:`MAX_MINMAX_ARGS` arguments.

Each check runs before the work it bounds:

* a decimal literal's size is decided from its decimal exponent before an exact value is
  built (``1e-99999999`` is refused as too small, ``0e-99999999`` is exactly 0);
* a constant raised to a non-integer power whose exact evaluation would need numbers of
  more than :data:`MAX_CONSTANT_BITS` bits (bits of the base's numbers times the
  exponent's numerator: ``123.456**(-0.011761)``) is computed in floats and kept as a
  ``Float`` (0.9449...); a negative one is refused as not real;
* the constant arguments of ``Max``/``Min`` are compared in floats and folded into one;
* a nest of ``Max``/``Min`` calls may compare at most :data:`MAX_PIECEWISE_CASES` pairs
  of cases: ``k*(k-1)/2`` for ``k`` arguments, times one plus the count of the
  ``Max``/``Min`` nested in an argument (sympy compares them symbolically, pair by pair).

Refused text takes well under a millisecond to a few milliseconds. Accepted text costs
what sympy needs to build it: a typical 2,000-character formula takes milliseconds to
tens of milliseconds; sympy's automatic simplification of ``abs``, ``Max`` and ``Min``
of polynomials costs about a millisecond per call, so the worst accepted expressions (a
couple of thousand such calls) take around a second. Newlines count as spaces;
comments (``#``) and backslashes are refused.

Sums and products
-----------------
A chain ``a + b - c`` is built as one ``sympy.Add(a, b, -c)`` and ``a * b / c`` as one
``sympy.Mul(a, b, c**-1)`` (linear time for long sums). The result equals the expression
built with Python operators; the only structural difference sympy can show is in
products of three or more factors with a number and a sum (``2*(x + 1)*y`` stays
``2*y*(x + 1)`` instead of ``y*(2*x + 2)``).
"""

from __future__ import annotations

import ast
import cmath
import keyword
import math
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import NamedTuple

import sympy

from optiviz.errors import ExpressionError, suggest
from optiviz.limits import MAX_STRUCTURED_VARIABLES

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_CONSTANT_BITS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_INT_DIGITS",
    "MAX_LENGTH",
    "MAX_MINMAX_ARGS",
    "MAX_NESTING",
    "MAX_NODES",
    "MAX_PIECEWISE_CASES",
    "IndexedExpression",
    "IndexedSum",
    "parse_constant",
    "parse_indexed",
    "parse_expression",
    "substitute",
    "symbol",
    "validate_name",
]

#: Longest accepted expression text, in characters (checked first).
MAX_LENGTH = 10_000
#: Deepest accepted nesting of brackets ``( [ {``.
MAX_NESTING = 100
#: Most numbers, names and operations (``ast.expr`` nodes) in one expression.
MAX_NODES = 2_000
#: Deepest nesting of operations; a chain of ``+``/``-`` or of ``*``/``/`` is one level.
MAX_DEPTH = 100
#: Largest magnitude of a constant exponent of ``**``.
MAX_EXPONENT = 100
#: Most digits in an integer literal (and significant digits in a decimal literal).
MAX_INT_DIGITS = 30
#: Largest numerator or denominator, in bits, of an exact rational constant (2**400 is
#: about 2.6e120). Bounds the cost of sympy's exact arithmetic (sqrt factors its argument).
MAX_CONSTANT_BITS = 400
#: Most arguments of one ``Max``/``Min`` after sympy flattens nested calls (sympy compares
#: every pair of arguments symbolically, so the cost grows with the square).
MAX_MINMAX_ARGS = 8
#: Most pairs of cases one nest of ``Max``/``Min`` calls may compare (see ``_cases_of``):
#: ``Max`` of 8 terms compares 28; sympy's pairwise comparisons while building and
#: differentiating ``Max(Min(4 terms), ... 4 of them)`` (42) take seconds.
MAX_PIECEWISE_CASES = 32


class _Function(NamedTuple):
    """A callable of the whitelist: arity bounds and the sympy builder."""

    min_args: int
    max_args: int
    build: Callable[..., sympy.Expr]


def _sigmoid(x: sympy.Expr) -> sympy.Expr:
    return sympy.Integer(1) / (sympy.Integer(1) + sympy.exp(-x))


def _softplus(x: sympy.Expr) -> sympy.Expr:
    return sympy.log(sympy.Integer(1) + sympy.exp(x))


def _relu(x: sympy.Expr) -> sympy.Expr:
    return sympy.Max(sympy.Integer(0), x)


#: The functions user text may call, by name: (min args, max args, sympy builder).
FUNCTIONS: dict[str, _Function] = {
    "exp": _Function(1, 1, sympy.exp),
    "log": _Function(1, 1, sympy.log),
    "sqrt": _Function(1, 1, sympy.sqrt),
    "sin": _Function(1, 1, sympy.sin),
    "cos": _Function(1, 1, sympy.cos),
    "tan": _Function(1, 1, sympy.tan),
    "tanh": _Function(1, 1, sympy.tanh),
    "sinh": _Function(1, 1, sympy.sinh),
    "cosh": _Function(1, 1, sympy.cosh),
    "abs": _Function(1, 1, sympy.Abs),
    "Max": _Function(2, MAX_MINMAX_ARGS, sympy.Max),
    "Min": _Function(2, MAX_MINMAX_ARGS, sympy.Min),
    "sigmoid": _Function(1, 1, _sigmoid),
    "softplus": _Function(1, 1, _softplus),
    "relu": _Function(1, 1, _relu),
}

#: The named constants user text may use.
CONSTANTS: dict[str, sympy.Expr] = {"pi": sympy.pi, "E": sympy.E}

_FUNCTION_LIST = ", ".join(FUNCTIONS)
_ALLOWED = (
    "only numbers, the declared names, + - * / **, unary minus, parentheses, "
    f"the constants pi and E and the functions {_FUNCTION_LIST} are allowed"
)
_ALLOWED_CONSTANT = (
    "a constant may only use numbers, + - * / **, unary minus, parentheses, "
    f"the constants pi and E and the functions {_FUNCTION_LIST}"
)

_ADDITIVE = (ast.Add, ast.Sub)
_MULTIPLICATIVE = (ast.Mult, ast.Div)
_OPERATOR_TOKENS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.And: "and",
    ast.Or: "or",
    ast.Not: "not",
    ast.Invert: "~",
}
_OPENING = "([{"
_CLOSING = ")]}"
_UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
_NAN = complex(math.nan, 0.0)
_INF = complex(math.inf, 0.0)


def symbol(name: str) -> sympy.Symbol:
    """Return the sympy symbol optiviz uses for the variable or parameter ``name``.

    Every module creates its symbols here so that they compare equal: ``symbol("x")`` is
    ``sympy.Symbol("x", real=True)``, the symbol :func:`parse_expression` puts in its
    result for a declared ``x``.
    """
    return sympy.Symbol(name, real=True)


def validate_name(name: object) -> str:
    """Check that ``name`` may be declared as a variable or parameter and return it.

    A name must be a Python identifier in normalized (NFKC) form, not a keyword, not
    starting with an underscore, and not the name of a function in :data:`FUNCTIONS` or a
    constant in :data:`CONSTANTS`.

    Raises
    ------
    ExpressionError
        Naming the bad name and the rule it breaks.
    """
    if not isinstance(name, str):
        raise ExpressionError(f"a name must be a string, got {type(name).__name__} ({name!r})")
    if not name.isidentifier():
        raise ExpressionError(
            f"{name!r} is not a valid name: names are identifiers made of letters, digits "
            "and underscores, not starting with a digit"
        )
    if keyword.iskeyword(name):
        raise ExpressionError(f"{name!r} is not a valid name: it is a Python keyword")
    if name.startswith("_"):
        raise ExpressionError(f"{name!r} is not a valid name: names may not start with '_'")
    normalized = unicodedata.normalize("NFKC", name)
    if normalized != name:
        raise ExpressionError(f"{name!r} is not a valid name: write it as {normalized!r}")
    if name in FUNCTIONS:
        raise ExpressionError(f"{name!r} is not a valid name: it is a function ({_FUNCTION_LIST})")
    if name in CONSTANTS:
        raise ExpressionError(f"{name!r} is not a valid name: it is a constant (pi, E)")
    return name


def parse_expression(
    text: str,
    variables: Sequence[str],
    parameters: Iterable[str] | Mapping[str, object] = (),
) -> sympy.Expr:
    """Parse user ``text`` into a sympy expression, safely.

    Parameters
    ----------
    text
        The formula, e.g. ``"(a - x)**2 + b*(y - x**2)**2"``. Newlines count as spaces.
    variables
        The variable names, in order, e.g. ``["x", "y"]``.
    parameters
        The parameter names (or a mapping whose keys are the names); parameters stay
        symbols in the result, to be substituted by the caller.

    Returns
    -------
    sympy.Expr
        Built only from :func:`symbol` symbols, exact numbers, ``pi``, ``E`` and the
        functions of :data:`FUNCTIONS`.

    Raises
    ------
    ExpressionError
        When a name is invalid or declared twice, or the text is not a string, is empty,
        exceeds a limit, has a syntax error, or uses anything outside the whitelist. The
        message names the offending token, its column and what is allowed.
    """
    names = _declared_names(variables, "variables")
    params = _declared_names(
        list(parameters.keys()) if isinstance(parameters, Mapping) else parameters,
        "parameters",
    )
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ExpressionError(f"variable {name!r} is declared twice")
    for i, name in enumerate(params):
        if name in names:
            raise ExpressionError(f"{name!r} is declared both as a variable and as a parameter")
        if name in params[:i]:
            raise ExpressionError(f"parameter {name!r} is declared twice")
    return _Parser(text, names, params, constant=False).parse()


def parse_constant(text: str) -> sympy.Expr:
    """Parse a constant such as a parameter value (``"0.15*pi"``, ``"sqrt(2)/2"``).

    The same whitelist and limits as :func:`parse_expression` apply, with no names other
    than ``pi`` and ``E``. The result is a finite real sympy number expression.

    Raises
    ------
    ExpressionError
        As for :func:`parse_expression`; any other name is refused.
    """
    return _Parser(text, (), (), constant=True).parse()


def substitute(expr: sympy.Expr, values: Mapping[sympy.Symbol, sympy.Expr]) -> sympy.Expr:
    """``expr`` with the symbols of ``values`` replaced, under the parser's power limits.

    ``expr.subs`` would let sympy evaluate a power the parser never saw: ``123.456**a``
    with ``a = -0.011761`` factors numbers of 160,000 bits (minutes), ``2**a`` with
    ``a = 10**9`` builds a billion-bit integer. The tree is rebuilt bottom-up; a power
    whose exponent becomes a constant beyond :data:`MAX_EXPONENT` is refused before it is
    built, and a constant to a non-integer power past the size bound is a float, as in
    :func:`parse_expression`.

    Raises
    ------
    ExpressionError
        Naming the power and the limit.
    """
    memo: dict[sympy.Basic, sympy.Basic] = {}
    parser = _Parser("", (), (), constant=True)

    def rebuild(node: sympy.Basic) -> sympy.Basic:
        if node in values:
            return values[node]
        if not node.args or not (node.free_symbols & values.keys()):
            return node
        done = memo.get(node)
        if done is not None:
            return done
        args = [rebuild(a) for a in node.args]
        if node.is_Pow:
            base, exponent = args
            if exponent.is_number:
                value = parser._value(exponent)
                if value is None or not abs(value) <= MAX_EXPONENT:
                    raise ExpressionError(
                        f"the exponent of {_Parser._short(str(node))} becomes "
                        f"{_Parser._short(str(exponent))}: a constant exponent of ** must be "
                        f"at most {MAX_EXPONENT} in magnitude"
                    )
            if exponent.is_Rational and not exponent.is_Integer and base.is_number:
                size = abs(int(exponent.p)) * max(
                    (_bits(r) for r in base.atoms(sympy.Rational)), default=0
                )
                if size > MAX_CONSTANT_BITS:
                    value = parser._value(base)
                    if value is None or value.imag != 0 or value.real < 0:
                        raise ExpressionError(
                            f"{_Parser._short(str(node))} becomes a power of "
                            f"{_Parser._short(str(base))} that is not a real number"
                        )
                    try:
                        memo[node] = sympy.Float(value.real ** float(exponent))
                    except (OverflowError, ZeroDivisionError):
                        raise ExpressionError(
                            f"{_Parser._short(str(node))} becomes a power of "
                            f"{_Parser._short(str(base))} that overflows a 64-bit float "
                            "or divides by zero"
                        ) from None
                    return memo[node]
        memo[node] = node.func(*args)
        return memo[node]

    return rebuild(expr)


def _declared_names(names: object, what: str) -> tuple[str, ...]:
    """Validate a collection of declared names and return it as a tuple."""
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise ExpressionError(f"{what} must be a list of names such as ['x', 'y'], got {names!r}")
    return tuple(validate_name(name) for name in names)


class _Parser:
    """One parse of one text: positions, limits, whitelist and sympy construction."""

    def __init__(
        self,
        text: object,
        variables: tuple[str, ...],
        parameters: tuple[str, ...],
        *,
        constant: bool,
    ):
        self.original = text
        self.variables = variables
        self.parameters = parameters
        self.constant = constant
        self.symbols: dict[str, sympy.Expr] = {n: symbol(n) for n in variables + parameters}
        self.body = ""  # the text handed to ast.parse
        self.body_bytes = b""
        self.shift = 0  # characters of leading whitespace removed from the text
        self.ascii = True
        self._const_memo: dict[sympy.Basic, bool] = {}
        self._value_memo: dict[sympy.Basic, complex | None] = {}
        self._cases: dict[sympy.Basic, int] = {}  # Max/Min built here -> _cases_of

    # ----------------------------------------------------------------- entry point
    def parse(self) -> sympy.Expr:
        tree = self._syntax_tree()
        self._check_size(tree.body)
        try:
            result = self._convert(tree.body)
        except RecursionError:
            raise ExpressionError(
                f"expression is nested too deeply (at most {MAX_DEPTH} levels)"
            ) from None
        if result.has(*_UNDEFINED):
            raise ExpressionError(
                f"expression {self._short(self.body)!r} is undefined ({self._short(str(result))})"
            )
        # sympy merges powers of powers and products of equal bases ((x+y)**100)**100 ->
        # (x+y)**10000: each literal exponent is in range, their combination must be too.
        for power in result.atoms(sympy.Pow):
            e = power.exp
            if e.is_number and abs(e) > MAX_EXPONENT:
                raise ExpressionError(
                    f"expression {self._short(self.body)!r}: the powers combine to the exponent "
                    f"{e} of {self._short(str(power.base))}; the combined exponent must be in "
                    f"[-{MAX_EXPONENT}, {MAX_EXPONENT}]"
                )
        return result

    # ------------------------------------------------------------- text and tree
    def _syntax_tree(self) -> ast.Expression:
        text = self.original
        if not isinstance(text, str):
            raise ExpressionError(
                f"an expression must be a string, got {type(text).__name__} ({text!r:.60})"
            )
        if len(text) > MAX_LENGTH:
            raise ExpressionError(
                f"expression is too long: {len(text):,} characters (at most {MAX_LENGTH:,})"
            )
        if not text.strip():
            raise ExpressionError("expression is empty")
        self._prescan(text)
        normalized = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
        self.body = normalized.lstrip(" ")
        self.shift = len(normalized) - len(self.body)
        self.body_bytes = self.body.encode("utf-8")
        self.ascii = len(self.body_bytes) == len(self.body)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse(self.body, mode="eval")
        except SyntaxError as exc:
            raise self._syntax_error(exc) from None
        except (RecursionError, MemoryError, ValueError):
            raise ExpressionError(
                "expression is too long or nested too deeply to parse "
                f"(at most {MAX_NODES:,} operations and {MAX_DEPTH} nested levels)"
            ) from None

    def _prescan(self, text: str) -> None:
        """Linear checks before ast.parse: characters and bracket nesting."""
        depth = 0
        for i, ch in enumerate(text):
            if ch in _OPENING:
                depth += 1
                if depth > MAX_NESTING:
                    raise ExpressionError(
                        f"brackets are nested too deeply at {self._where_original(i)}: "
                        f"at most {MAX_NESTING} levels are allowed"
                    )
            elif ch in _CLOSING:
                depth = max(depth - 1, 0)
            elif ch == "#":
                raise ExpressionError(
                    f"'#' at {self._where_original(i)} is not allowed (comments are not "
                    f"supported): {_ALLOWED}"
                )
            elif ch == "\\":
                raise ExpressionError(
                    f"'\\' at {self._where_original(i)} is not allowed: {_ALLOWED}"
                )
            elif (ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127:
                raise ExpressionError(
                    f"control character U+{ord(ch):04X} at {self._where_original(i)} is not allowed"
                )

    def _syntax_error(self, exc: SyntaxError) -> ExpressionError:
        offset = min(max((exc.offset or 1) - 1, 0), len(self.body))
        near = self.body[offset : offset + 20].rstrip()
        where = self._where_body(offset)
        at = f"at {where} near {near!r}" if near else "at the end of the text"
        message = (exc.msg or "invalid syntax").split(" (<unknown>")[0]
        hint = ""
        if "decimal literal" in message:
            hint = " (write 2*x for a product, not 2x)"
        elif "never closed" in message or "unmatched" in message or "does not match" in message:
            hint = " (check the parentheses)"
        return ExpressionError(f"invalid syntax {at}: {message}{hint}")

    def _check_size(self, root: ast.expr) -> None:
        """Count expression nodes and measure nesting, iteratively (no recursion)."""
        count = 0
        stack: list[tuple[ast.AST, int]] = [(root, 1)]
        while stack:
            node, depth = stack.pop()
            if isinstance(node, ast.expr):
                count += 1
                if count > MAX_NODES:
                    raise ExpressionError(
                        f"expression is too large: more than {MAX_NODES:,} numbers, names "
                        "and operations"
                    )
            if depth > MAX_DEPTH:
                raise ExpressionError(
                    f"expression is nested too deeply at {self._where(node)}: at most "
                    f"{MAX_DEPTH} levels of nested operations are allowed"
                )
            for child in ast.iter_child_nodes(node):
                if isinstance(
                    child, (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
                ):
                    continue
                chain = (
                    isinstance(node, ast.BinOp)
                    and child is node.left
                    and isinstance(child, ast.BinOp)
                    and _chain_kind(child.op) is not None
                    and _chain_kind(child.op) is _chain_kind(node.op)
                )
                stack.append((child, depth if chain else depth + 1))

    # ---------------------------------------------------------------- positions
    def _char(self, byte_offset: int) -> int:
        """Character offset in ``self.body`` of an AST byte offset."""
        if self.ascii:
            return byte_offset
        return len(self.body_bytes[:byte_offset].decode("utf-8", errors="ignore"))

    def _start(self, node: ast.AST) -> int:
        return self._char(getattr(node, "col_offset", 0))

    def _end(self, node: ast.AST) -> int:
        end = getattr(node, "end_col_offset", None)
        return self._char(end) if end is not None else len(self.body)

    def _where_original(self, offset: int) -> str:
        """``"column C"`` (or ``"line L, column C"``) of a character offset in the text."""
        text = self.original if isinstance(self.original, str) else ""
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        return f"column {column}" if "\n" not in text else f"line {line}, column {column}"

    def _where_body(self, offset: int) -> str:
        return self._where_original(self.shift + offset)

    def _where(self, node: ast.AST) -> str:
        return self._where_body(self._start(node))

    def _segment(self, node: ast.AST) -> str:
        return self._short(self.body[self._start(node) : self._end(node)])

    @staticmethod
    def _short(text: str, limit: int = 40) -> str:
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def _token_between(self, left: ast.AST, right: ast.AST) -> int:
        """Offset of the operator token between two operands (skips spaces, brackets)."""
        i, stop = self._end(left), self._start(right)
        while i < stop and self.body[i] in " ()":
            i += 1
        return i

    # --------------------------------------------------------------- conversion
    def _convert(self, node: ast.expr) -> sympy.Expr:
        if isinstance(node, ast.BinOp):
            return self._binop(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Constant):
            return self._number(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self._convert(node.operand)
            return self._checked(-operand if isinstance(node.op, ast.USub) else operand, node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise self._not_allowed(node)

    def _binop(self, node: ast.BinOp) -> sympy.Expr:
        kind = _chain_kind(node.op)
        if kind is None:
            if isinstance(node.op, ast.Pow):
                return self._power(node)
            raise self._not_allowed(node)
        # Collect the left-nested chain a op b op c ... iteratively.
        links: list[tuple[ast.operator, ast.expr]] = []
        head: ast.expr = node
        while isinstance(head, ast.BinOp) and _chain_kind(head.op) is kind:
            links.append((head.op, head.right))
            head = head.left
        items = [self._convert(head)]
        for op, operand_node in reversed(links):
            operand = self._convert(operand_node)
            if isinstance(op, ast.Sub):
                operand = -operand
            elif isinstance(op, ast.Div):
                if operand == 0:
                    raise ExpressionError(
                        f"division by zero at {self._where(operand_node)}: the divisor "
                        f"{self._segment(operand_node)!r} is 0"
                    )
                operand = sympy.Pow(operand, sympy.Integer(-1))
            items.append(operand)
        result = sympy.Add(*items) if kind is _ADDITIVE else sympy.Mul(*items)
        return self._checked(result, node)

    def _power(self, node: ast.BinOp) -> sympy.Expr:
        base = self._convert(node.left)
        exponent = self._convert(node.right)
        if self._is_constant(exponent):
            if exponent.is_Rational:
                magnitude: float | Fraction = abs(Fraction(int(exponent.p), int(exponent.q)))
            else:
                value = self._value(exponent)
                magnitude = abs(value) if value is not None else 0.0
            if magnitude > MAX_EXPONENT:
                raise ExpressionError(
                    f"exponent {self._segment(node.right)!r} at {self._where(node.right)} "
                    f"is too large: a constant exponent of ** must be at most {MAX_EXPONENT} "
                    f"in magnitude (it is {_show(exponent, magnitude)})"
                )
        if exponent.is_Rational and not exponent.is_Integer and self._is_constant(base):
            # sympy evaluates number**(p/q) exactly by collecting perfect powers of the
            # base's factors raised to p: 15432**(11761/1000000) builds 2**35283*3**11761*...
            # and factors it (minutes). Past the size bound the power is a float.
            size = abs(int(exponent.p)) * max(
                (_bits(r) for r in base.atoms(sympy.Rational)), default=0
            )
            if size > MAX_CONSTANT_BITS:
                return self._checked(self._float_power(base, exponent, node), node)
        return self._checked(sympy.Pow(base, exponent), node)

    def _float_power(self, base: sympy.Expr, exponent: sympy.Rational, node: ast.BinOp):
        """``base**exponent`` of a constant base and a non-integer exponent, as a Float."""
        segment, where = self._segment(node), self._where(node)
        value = self._value(base)
        if value is None:
            raise ExpressionError(
                f"{segment!r} at {where} is too costly to evaluate exactly: write the power "
                "with fewer digits in its base or exponent"
            )
        if value.imag != 0 or value.real < 0:
            raise ExpressionError(
                f"{segment!r} at {where} is not a real number (a negative number raised to a "
                "non-integer power)"
            )
        try:
            return sympy.Float(value.real ** float(exponent))
        except OverflowError:
            raise ExpressionError(
                f"{segment!r} at {where} is too large: it overflows a 64-bit float "
                "(largest about 1.8e308)"
            ) from None
        except ZeroDivisionError:
            raise ExpressionError(
                f"{segment!r} at {where} is undefined (division by zero, log(0), ...)"
            ) from None

    def _name(self, node: ast.Name) -> sympy.Expr:
        name = node.id
        if name in self.symbols:
            return self.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        where = self._where(node)
        if name in FUNCTIONS:
            raise ExpressionError(
                f"{name!r} at {where} is a function: call it with an argument, as in {name}(x)"
            )
        if self.constant:
            raise ExpressionError(
                f"name {name!r} at {where} is not allowed in a constant: "
                f"{_ALLOWED_CONSTANT}{suggest(name, CONSTANTS)}"
            )
        declared = f"declared variables: {', '.join(self.variables) or 'none'}"
        if self.parameters:
            declared += f"; parameters: {', '.join(self.parameters)}"
        choices = [*self.variables, *self.parameters, *FUNCTIONS, *CONSTANTS]
        raise ExpressionError(
            f"name {name!r} at {where} is not declared; {declared}{suggest(name, choices)}"
        )

    def _number(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        literal = self._segment(node)
        where = self._where(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._not_allowed(node)
        if isinstance(value, int):
            if abs(value) >= 10**MAX_INT_DIGITS:
                raise ExpressionError(
                    f"number {literal!r} at {where} is too large: integer literals may have "
                    f"at most {MAX_INT_DIGITS} digits"
                )
            return sympy.Integer(value)
        text = self.body[self._start(node) : self._end(node)].replace("_", "").lower()
        digits, _, exponent_text = text.partition("e")
        whole, _, fraction = digits.partition(".")
        mantissa = (whole + fraction).lstrip("0")
        if len(mantissa) > MAX_INT_DIGITS:
            raise ExpressionError(
                f"number {literal!r} at {where} has too many digits: decimal literals may "
                f"have at most {MAX_INT_DIGITS} significant digits"
            )
        if not math.isfinite(value):
            raise ExpressionError(
                f"number {literal!r} at {where} is too large: it overflows a 64-bit float "
                "(largest about 1.8e308)"
            )
        if not mantissa:
            return sympy.Integer(0)  # 0e-99999999 is exactly 0
        if value == 0.0:
            raise ExpressionError(
                f"number {literal!r} at {where} is too small: it underflows to 0 in a 64-bit "
                "float (smallest about 5e-324)"
            )
        # The literal is int(whole + fraction) * 10**shift. Decide its size from the decimal
        # exponent before building anything exact (Fraction("1e-99999999") computes
        # 10**99999999): 10**k needs about 3.32*k bits, and a mantissa of at most
        # MAX_INT_DIGITS digits can cancel at most that many factors of 10 of a denominator.
        magnitude = exponent_text.lstrip("+-").lstrip("0")
        if len(magnitude) > 6:  # impossible for a finite nonzero float of <= 10,000 characters
            raise self._out_of_range(literal, where)
        sign = -1 if exponent_text.startswith("-") else 1
        shift = sign * int(magnitude or 0) - len(fraction)
        if abs(shift) > MAX_CONSTANT_BITS / math.log2(10) + MAX_INT_DIGITS + 1:
            raise self._out_of_range(literal, where)
        exact = Fraction(int(whole + fraction)) * Fraction(10) ** shift
        bits = max(abs(exact.numerator).bit_length(), exact.denominator.bit_length())
        if bits > MAX_CONSTANT_BITS:
            raise self._out_of_range(literal, where)
        return sympy.Rational(exact.numerator, exact.denominator)

    @staticmethod
    def _out_of_range(literal: str, where: str) -> ExpressionError:
        return ExpressionError(
            f"number {literal!r} at {where} is out of range: exact constants are limited "
            f"to {MAX_CONSTANT_BITS} bits (magnitudes from about 1e-120 to 1e120)"
        )

    def _call(self, node: ast.Call) -> sympy.Expr:
        func = node.func
        if not isinstance(func, ast.Name):
            self._convert(func)  # refuses attributes, lambdas, ... with their own message
            raise ExpressionError(
                f"call of {self._segment(func)!r} at {self._where(node)} is not allowed: "
                f"only the functions {_FUNCTION_LIST} can be called"
            )
        name = func.id
        where = self._where(node)
        spec = FUNCTIONS.get(name)
        if spec is None:
            if name in self.symbols:
                raise ExpressionError(
                    f"{name!r} at {where} is a declared name, not a function: write "
                    f"{name}*(...) to multiply"
                )
            raise ExpressionError(
                f"function {name!r} at {where} is not available: the functions are "
                f"{_FUNCTION_LIST}{suggest(name, FUNCTIONS)}"
            )
        if node.keywords:
            kw = node.keywords[0]
            raise ExpressionError(
                f"keyword argument {self._segment(kw)!r} at {self._where(kw)} is not "
                f"allowed: {name}() takes positional arguments only"
            )
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise ExpressionError(
                    f"starred argument {self._segment(arg)!r} at {self._where(arg)} is not "
                    f"allowed: {name}() takes positional arguments only"
                )
        n = len(node.args)
        if not spec.min_args <= n <= spec.max_args:
            if spec.min_args == spec.max_args:
                wanted = f"exactly {spec.min_args} argument" + ("s" * (spec.min_args != 1))
            else:
                wanted = f"{spec.min_args} to {spec.max_args} arguments"
            raise ExpressionError(
                f"function {name!r} at {where} takes {wanted}, got {n}: {self._segment(node)!r}"
            )
        args = [self._convert(arg) for arg in node.args]
        minmax = sympy.Min if name == "Min" else sympy.Max if name in ("Max", "relu") else None
        if minmax is not None:
            if name == "relu":
                args = [sympy.Integer(0), *args]
            args = self._fold_constants(args, minmax, node)
            if len(args) == 1:
                return args[0]
            flat = sum(len(a.args) if isinstance(a, minmax) else 1 for a in args)
            if flat > MAX_MINMAX_ARGS:
                raise ExpressionError(
                    f"{self._segment(node)!r} at {where} is too large: nested {minmax.__name__} "
                    f"calls combine into one with {flat} arguments (at most "
                    f"{MAX_MINMAX_ARGS})"
                )
            cases = self._cases_of(minmax, args)
            if cases > MAX_PIECEWISE_CASES:
                raise ExpressionError(
                    f"{self._segment(node)!r} at {where} is too large: its nested Max/Min "
                    f"calls compare {cases} pairs of cases (at most {MAX_PIECEWISE_CASES}; "
                    "a Max/Min of k arguments compares k*(k-1)/2 pairs, times those of the "
                    "arguments' own Max/Min)"
                )
            result = minmax(*args)
            self._cases[result] = cases
            return self._checked(result, node)
        return self._checked(spec.build(*args), node)

    def _fold_constants(
        self, args: list[sympy.Expr], minmax: type, node: ast.Call
    ) -> list[sympy.Expr]:
        """Replace the constant arguments of a Max/Min by the one that wins, compared in
        floats (sympy compares constants with evalf, unbounded for towers of exp)."""
        constants = [a for a in args if self._is_constant(a)]
        if len(constants) < 2:
            return args
        values = [self._value(a) for a in constants]
        if any(v is None for v in values):
            return args
        pick = max if minmax is sympy.Max else min
        best = pick(range(len(constants)), key=lambda i: values[i].real)  # type: ignore[union-attr]
        return [constants[best], *(a for a in args if not self._is_constant(a))]

    def _cases_of(self, minmax: type, args: list[sympy.Expr]) -> int:
        """Pairs of cases sympy compares to build and differentiate ``minmax(*args)``:
        k*(k-1)/2 for k arguments (after flattening nested calls of the same kind), times
        one plus the largest count of a Max/Min nested in an argument."""
        flat: list[sympy.Expr] = []
        for a in args:
            flat.extend(a.args if a.func is minmax else [a])
        inner = 0
        for a in flat:
            for m in a.atoms(sympy.Max, sympy.Min):
                inner = max(inner, self._cases.get(m, 1))
        k = len(flat)
        return k * (k - 1) // 2 * (1 + inner)

    # ------------------------------------------------------------------ refusals
    def _not_allowed(self, node: ast.AST) -> ExpressionError:
        what, offset = self._describe(node)
        where = self._where_body(offset)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):
            return ExpressionError(
                f"'^' at {where} is not allowed: write powers with ** (x**2, not x^2)"
            )
        allowed = _ALLOWED_CONSTANT if self.constant else _ALLOWED
        return ExpressionError(f"{what} at {where} is not allowed: {allowed}")

    def _describe(self, node: ast.AST) -> tuple[str, int]:
        """A short description of a refused node and the offset of its token."""
        start = self._start(node)
        segment = self._segment(node)
        if isinstance(node, ast.Lambda):
            return "'lambda'", start
        if isinstance(node, ast.IfExp):
            return "'if'", self._token_between(node.body, node.test)
        if isinstance(node, ast.BoolOp):
            return repr(_OPERATOR_TOKENS[type(node.op)]), self._token_between(
                node.values[0], node.values[1]
            )
        if isinstance(node, ast.Compare):
            token = _OPERATOR_TOKENS.get(type(node.ops[0]), "comparison")
            return f"comparison {token!r}", self._token_between(node.left, node.comparators[0])
        if isinstance(node, ast.BinOp):
            token = _OPERATOR_TOKENS.get(type(node.op), type(node.op).__name__)
            return f"operator {token!r}", self._token_between(node.left, node.right)
        if isinstance(node, ast.UnaryOp):
            return f"operator {_OPERATOR_TOKENS.get(type(node.op), '?')!r}", start
        if isinstance(node, ast.NamedExpr):
            return "':='", self._token_between(node.target, node.value)
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, str):
                return f"string {segment}", start
            if isinstance(value, bytes):
                return f"bytes {segment}", start
            if isinstance(value, complex):
                return f"imaginary number {segment!r}", start
            return repr(segment), start
        kinds: dict[type, str] = {
            ast.Attribute: "attribute access",
            ast.Subscript: "subscript",
            ast.JoinedStr: "f-string",
            ast.List: "list",
            ast.Tuple: "tuple",
            ast.Set: "set",
            ast.Dict: "dict",
            ast.ListComp: "comprehension",
            ast.SetComp: "comprehension",
            ast.DictComp: "comprehension",
            ast.GeneratorExp: "comprehension",
            ast.Starred: "starred expression",
            ast.Await: "'await'",
            ast.Yield: "'yield'",
            ast.YieldFrom: "'yield from'",
            ast.Slice: "slice",
        }
        kind = kinds.get(type(node), type(node).__name__)
        if isinstance(node, ast.JoinedStr):
            return f"{kind} {segment}", start
        return f"{kind} {segment!r}", start

    # ------------------------------------------------------------ constant checks
    def _checked(self, result: sympy.Expr, node: ast.AST) -> sympy.Expr:
        """Refuse a built node whose constant parts are undefined, huge or not real."""
        coefficient = result
        if result.is_Add or result.is_Mul:
            coefficient = result.args[0]
        if coefficient.is_Rational:
            bits = max(abs(int(coefficient.p)).bit_length(), int(coefficient.q).bit_length())
            if bits > MAX_CONSTANT_BITS:
                raise ExpressionError(
                    f"{self._segment(node)!r} at {self._where(node)} makes an exact constant "
                    f"of {bits:,} bits (at most {MAX_CONSTANT_BITS:,}, about 1e120)"
                )
        if not self._is_constant(result):
            return result
        value = self._value(result)
        if value is None:
            return result
        segment, where = self._segment(node), self._where(node)
        if math.isnan(value.real) or math.isnan(value.imag) or result in _UNDEFINED:
            raise ExpressionError(
                f"{segment!r} at {where} is undefined (division by zero, log(0), ...)"
            )
        if math.isinf(value.real) or math.isinf(value.imag):
            raise ExpressionError(
                f"{segment!r} at {where} is too large: it overflows a 64-bit float "
                "(largest about 1.8e308)"
            )
        if abs(value.imag) > 1e-9 * max(1.0, abs(value.real)):
            raise ExpressionError(
                f"{segment!r} at {where} is not a real number (it is about {value:.6g})"
            )
        return result

    def _is_constant(self, expr: sympy.Basic) -> bool:
        """Whether ``expr`` contains no symbol (memoized over shared subexpressions)."""
        known = self._const_memo.get(expr)
        if known is None:
            if expr.is_Symbol:
                known = False
            else:
                known = all(self._is_constant(arg) for arg in expr.args)
            self._const_memo[expr] = known
        return known

    def _value(self, expr: sympy.Basic) -> complex | None:
        """A float approximation of a constant, computed with Python floats only.

        Never calls sympy's evalf, which can run for unbounded time on towers such as
        ``exp(exp(exp(100)))``. Returns ``None`` for a construct it does not know.
        """
        if expr in self._value_memo:
            return self._value_memo[expr]
        value = self._value_uncached(expr)
        self._value_memo[expr] = value
        return value

    def _value_uncached(self, expr: sympy.Basic) -> complex | None:
        if expr in _UNDEFINED:
            return _NAN
        if expr.is_Rational:
            try:
                return complex(int(expr.p) / int(expr.q))
            except OverflowError:
                return _INF
        if expr.is_Float or expr.is_NumberSymbol:
            return complex(float(expr))
        if expr is sympy.I:
            return 1j
        args: list[complex] = []
        for arg in expr.args:
            value = self._value(arg)
            if value is None:
                return None
            args.append(value)
        try:
            if expr.is_Add:
                return complex(math.fsum(a.real for a in args), math.fsum(a.imag for a in args))
            if expr.is_Mul:
                product = complex(1.0)
                for a in args:
                    product *= a
                return product
            if expr.is_Pow:
                base, exponent = args
                if (
                    base.imag == 0
                    and exponent.imag == 0
                    and (base.real >= 0 or exponent.real == int(exponent.real))
                ):
                    return complex(base.real**exponent.real)
                return complex(base**exponent)
            if isinstance(expr, (sympy.Max, sympy.Min)):
                if any(a.imag != 0 for a in args):
                    return _NAN
                pick = max if isinstance(expr, sympy.Max) else min
                return complex(pick(a.real for a in args))
            if isinstance(expr, sympy.Abs):
                return complex(abs(args[0]))
            function = _CMATH.get(type(expr))
            if function is None:
                return None
            return function(args[0])
        except OverflowError:
            return _INF
        except (ValueError, ZeroDivisionError):
            return _NAN


def _chain_kind(op: ast.operator) -> tuple[type, ...] | None:
    """``_ADDITIVE`` for + and -, ``_MULTIPLICATIVE`` for * and /, else None."""
    if isinstance(op, _ADDITIVE):
        return _ADDITIVE
    if isinstance(op, _MULTIPLICATIVE):
        return _MULTIPLICATIVE
    return None


def _bits(number: sympy.Rational) -> int:
    """Bits of the larger of a rational's numerator and denominator."""
    return max(abs(int(number.p)).bit_length(), int(number.q).bit_length())


def _show(exponent: sympy.Expr, magnitude: float | Fraction) -> str:
    """An exponent for a message: exact when it is a short integer, else approximate.

    ``magnitude`` may be an exact ``Fraction`` (Python 3.11's Fraction has no ``.3g``
    format, and one beyond the float range has no float either).
    """
    if exponent.is_Integer and abs(int(exponent.p)).bit_length() < 200:
        return str(exponent)
    try:
        shown = float(magnitude)
        if shown < 1e6 and float(f"{shown:.6g}") == shown:
            return f"{shown:g}" if exponent.is_Rational else f"about {shown:g}"
        return f"about {shown:.3g}"
    except OverflowError:
        return "beyond 1e308"


_CMATH: dict[type, Callable[[complex], complex]] = {
    sympy.exp: cmath.exp,
    sympy.log: cmath.log,
    sympy.sin: cmath.sin,
    sympy.cos: cmath.cos,
    sympy.tan: cmath.tan,
    sympy.sinh: cmath.sinh,
    sympy.cosh: cmath.cosh,
    sympy.tanh: cmath.tanh,
}


# -- sums over an index ------------------------------------------------------------------------
#: Most variables of an indexed expression (its vector ``x[1] .. x[n]``): the structured
#: surfaces of :mod:`optiviz.structured` compile each term once, whatever ``n`` is.
MAX_INDEXED_VARIABLES = MAX_STRUCTURED_VARIABLES
#: Most ``sum(...)`` calls in one indexed expression.
MAX_SUMS = 20
#: Most distinct subscripts ``x[i + k]`` in one summed term.
MAX_SLOTS = 16


class IndexedSum(NamedTuple):
    """One term summed over an index: ``sum_{i = lo}^{hi} term``.

    ``term`` is a sympy expression in the slot symbols, the index symbol (when
    ``uses_index``: the term uses the index as a number) and the parameters; slot ``j``
    stands for the variable ``x[i + offsets[j]]`` (1-based). The part of the expression
    outside every ``sum`` (with its constant-subscript variables ``x[3]``) is an
    ``IndexedSum`` with ``index_symbol`` None and ``lo = hi = 0``: slot ``j`` is then
    ``x[offsets[j]]``. ``coefficient``: the constant the sum is multiplied by in the text.
    """

    term: sympy.Expr
    slots: tuple[sympy.Symbol, ...]
    offsets: tuple[int, ...]
    index_symbol: sympy.Symbol | None
    lo: int
    hi: int
    coefficient: sympy.Expr
    uses_index: bool = False


class IndexedExpression(NamedTuple):
    """An expression in the vector ``x[1] .. x[n]`` written as sums over an index."""

    parts: tuple[IndexedSum, ...]  # the sums, then the rest (index_symbol None), if any
    vector: str
    n: int
    index_names: tuple[str, ...]


def parse_indexed(
    text: str,
    vector: str,
    n: int,
    parameters: Iterable[str] | Mapping[str, object] = (),
) -> IndexedExpression:
    """Parse user ``text`` over the vector ``vector[1] .. vector[n]``, with sums over an index.

    The syntax is that of :func:`parse_expression` plus, over the vector ``x`` (the name
    given as ``vector``):

    * ``x[k]``: one variable, ``k`` a whole number from 1 to ``n`` (an expression of ``n``
      and integers, such as ``x[n]`` or ``x[n - 1]``);
    * ``sum(TERM, i, LO, HI)``: ``TERM`` summed for ``i = LO, LO + 1, ..., HI``, where
      ``i`` is a new name (the index), ``LO <= HI`` are whole numbers written with
      integers and ``n``, and ``TERM`` uses the variables ``x[i + k]`` / ``x[i - k]``
      (``k`` a whole number, every ``i + k`` within ``1..n``), the index ``i`` itself as
      a number, parameters and ``n``. A sum may be multiplied or divided by constants and
      added to other terms (``10*n + sum(x[i]**2 - 10*cos(2*pi*x[i]), i, 1, n)``), but
      not nested or used inside a function or a product with a variable;
    * ``n``: the number of variables, a constant.

    The n-D Rosenbrock function is ``sum(100*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2, i, 1,
    n - 1)``. Nothing is evaluated: the text goes through the same syntax-tree whitelist.

    Returns
    -------
    IndexedExpression
        Each sum as an :class:`IndexedSum` (the term once, not ``n`` copies), and the
        rest of the expression (if any) as one more part.

    Raises
    ------
    ExpressionError
        As :func:`parse_expression`, and for a subscript, a bound or an index that breaks
        the rules above (naming it, its column and what is allowed).
    """
    vector = validate_name(vector)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_INDEXED_VARIABLES:
        raise ExpressionError(
            f"the number of variables n must be an int from 1 to {MAX_INDEXED_VARIABLES:,}; "
            f"got {n!r}"
        )
    params = _declared_names(
        list(parameters.keys()) if isinstance(parameters, Mapping) else parameters,
        "parameters",
    )
    for i, name in enumerate(params):
        if name in (vector, "n", "sum"):
            what = "the vector" if name == vector else "reserved (sum over an index)"
            raise ExpressionError(f"parameter {name!r} is not allowed: it is {what}")
        if name in params[:i]:
            raise ExpressionError(f"parameter {name!r} is declared twice")
    return _IndexedParser(text, vector, n, params).parse_indexed()


class _IndexedParser(_Parser):
    """:class:`_Parser` with subscripts of one vector and ``sum(term, i, lo, hi)``."""

    def __init__(self, text: object, vector: str, n: int, parameters: tuple[str, ...]):
        super().__init__(text, (), parameters, constant=False)
        self.vector = vector
        self.n = n
        self.symbols["n"] = sympy.Integer(n)
        self.sums: list[tuple[sympy.Symbol, IndexedSum]] = []  # placeholder, sum
        self.index: tuple[str, sympy.Symbol] | None = None  # inside a sum: its index
        self.slots: dict[int, sympy.Symbol] = {}  # offset -> slot symbol, of the current part
        self.index_used = False

    def parse_indexed(self) -> IndexedExpression:
        result = self.parse()
        parts = []
        rest = result
        for placeholder, part in self.sums:
            coefficient = result.diff(placeholder)
            if coefficient.free_symbols - set(self.parameter_symbols()):
                raise ExpressionError(
                    f"a sum(...) in {self._short(self.body)!r} is not allowed where it stands: "
                    "a sum may be multiplied or divided by constants and added to other "
                    "terms, not put inside a function or multiplied by a variable or a sum"
                )
            parts.append(part._replace(coefficient=coefficient))
            rest = rest.xreplace({placeholder: sympy.S.Zero})
        if self.slots or rest != 0:
            offsets = sorted(self.slots)
            parts.append(
                IndexedSum(
                    rest,
                    tuple(self.slots[k] for k in offsets),
                    tuple(offsets),
                    None,
                    0,
                    0,
                    sympy.S.One,
                    False,
                )
            )
        names = tuple(str(p.index_symbol) for p in parts if p.index_symbol is not None)
        return IndexedExpression(tuple(parts), self.vector, self.n, names)

    def parameter_symbols(self) -> list[sympy.Symbol]:
        return [symbol(p) for p in self.parameters]

    # ------------------------------------------------------------------ conversion
    def _convert(self, node: ast.expr) -> sympy.Expr:
        if isinstance(node, ast.Subscript):
            return self._subscript(node)
        return super()._convert(node)

    def _name(self, node: ast.Name) -> sympy.Expr:
        if self.index is not None and node.id == self.index[0]:
            self.index_used = True
            return self.index[1]
        if node.id == self.vector:
            raise ExpressionError(
                f"{node.id!r} at {self._where(node)} is the vector of variables: write "
                f"{node.id}[i] inside a sum or {node.id}[1] .. {node.id}[n] (1-based)"
            )
        if node.id == "sum":
            raise ExpressionError(
                f"'sum' at {self._where(node)} must be called: sum(term, i, low, high)"
            )
        return super()._name(node)

    def _subscript(self, node: ast.Subscript) -> sympy.Expr:
        where = self._where(node)
        if not (isinstance(node.value, ast.Name) and node.value.id == self.vector):
            raise ExpressionError(
                f"subscript {self._segment(node)!r} at {where} is not allowed: only the "
                f"vector {self.vector!r} takes subscripts ({self.vector}[i + 1], "
                f"{self.vector}[1])"
            )
        sl = node.slice
        if isinstance(sl, (ast.Slice, ast.Tuple)):
            raise ExpressionError(
                f"subscript {self._segment(node)!r} at {where} is not allowed: one index, "
                f"as in {self.vector}[i] or {self.vector}[2]"
            )
        used = self.index_used
        k = self._convert(sl)
        self.index_used = used  # an index in a subscript is not a use of its value
        if self.index is not None:
            offset = sympy.expand(k - self.index[1])
            if not offset.is_Integer:
                raise ExpressionError(
                    f"subscript {self._segment(node)!r} at {where} is not allowed: inside "
                    f"sum(..., {self.index[0]}, ...) write {self.vector}[{self.index[0]} + k] "
                    "with a whole number k (a fixed variable belongs outside the sum)"
                )
            off = int(offset)
        else:
            if not k.is_Integer:
                raise ExpressionError(
                    f"subscript {self._segment(node)!r} at {where} is not allowed: outside a "
                    f"sum the index must be a whole number from 1 to n = {self.n} (written "
                    "with integers and n)"
                )
            off = int(k)
            if not 1 <= off <= self.n:
                raise ExpressionError(
                    f"subscript {self._segment(node)!r} at {where} is {off}: the variables "
                    f"are {self.vector}[1] .. {self.vector}[{self.n}]"
                )
        if off not in self.slots:
            if len(self.slots) >= MAX_SLOTS:
                raise ExpressionError(
                    f"subscript {self._segment(node)!r} at {where}: at most {MAX_SLOTS} "
                    "different subscripts in one term"
                )
            self.slots[off] = sympy.Symbol(f"_{self.vector}{len(self.slots)}", real=True)
        return self.slots[off]

    def _call(self, node: ast.Call) -> sympy.Expr:
        if not (isinstance(node.func, ast.Name) and node.func.id == "sum"):
            return super()._call(node)
        where = self._where(node)
        usage = "sum(term, i, low, high)"
        if self.index is not None:
            raise ExpressionError(
                f"sum(...) at {where} is inside another sum: nested sums are not supported"
            )
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError(f"sum(...) at {where} takes positional arguments: {usage}")
        if len(node.args) != 4:
            raise ExpressionError(
                f"sum(...) at {where} takes 4 arguments, {usage}; got {len(node.args)}"
            )
        if len(self.sums) >= MAX_SUMS:
            raise ExpressionError(f"sum(...) at {where}: at most {MAX_SUMS} sums in one expression")
        term_node, index_node, lo_node, hi_node = node.args
        if not isinstance(index_node, ast.Name):
            raise ExpressionError(
                f"the index {self._segment(index_node)!r} of sum(...) at {where} must be a "
                f"new name such as i: {usage}"
            )
        name = index_node.id
        try:
            validate_name(name)
        except ExpressionError as exc:
            raise ExpressionError(f"the index of sum(...) at {where}: {exc}") from None
        if name in self.symbols or name in (self.vector, "sum"):
            raise ExpressionError(
                f"the index {name!r} of sum(...) at {where} is already a name of the "
                "expression (the vector, n or a parameter): choose another"
            )
        lo, hi = (self._bound(b, "low" if b is lo_node else "high") for b in (lo_node, hi_node))
        if lo > hi:
            raise ExpressionError(
                f"sum(...) at {where} is empty: {name} runs from {lo} to {hi} (n = {self.n})"
            )
        outer_slots, outer_used = self.slots, self.index_used
        self.slots, self.index_used = {}, False
        index = sympy.Symbol(name, integer=True)
        self.index = (name, index)
        try:
            term = self._convert(term_node)
        finally:
            self.index = None
        slots, used = self.slots, self.index_used
        self.slots, self.index_used = outer_slots, outer_used
        for off in slots:
            first, last = lo + off, hi + off
            if first < 1 or last > self.n:
                sub = f"{self.vector}[{name}{off:+d}]" if off else f"{self.vector}[{name}]"
                raise ExpressionError(
                    f"sum(...) at {where}: {sub} runs over {self.vector}[{first}] .. "
                    f"{self.vector}[{last}] for {name} = {lo}..{hi}; the variables are "
                    f"{self.vector}[1] .. {self.vector}[{self.n}]"
                )
        offsets = sorted(slots)
        part = IndexedSum(
            term,
            tuple(slots[k] for k in offsets),
            tuple(offsets),
            index,
            lo,
            hi,
            sympy.S.One,
            used,
        )
        placeholder = sympy.Dummy(f"sum{len(self.sums)}")
        self.sums.append((placeholder, part))
        return placeholder

    def _bound(self, node: ast.expr, which: str) -> int:
        """A bound of a sum: a whole number written with integers and n."""
        saved = self.index
        self.index = None
        try:
            value = self._convert(node)
        finally:
            self.index = saved
        if not value.is_Integer:
            raise ExpressionError(
                f"the {which} bound {self._segment(node)!r} of sum(...) at {self._where(node)} "
                f"must be a whole number written with integers and n (n = {self.n})"
            )
        return int(value)
