"""Tiny hand-written test surfaces for the optimizer tests (no sympy, no optiviz.surface).

Each provides f / grad / hess / value_and_grad on (..., n) arrays with the ``check`` keyword
the Oracle passes, so optimizers can be tested alone.
"""

from __future__ import annotations

import numpy as np


class Quadratic:
    """f(w) = ½ wᵀAw + bᵀw with A = [[3, 1], [1, 2]] (eigenvalues (5 ± √5)/2); w* = −A⁻¹b."""

    A = np.array([[3.0, 1.0], [1.0, 2.0]])

    def __init__(self, b=(1.0, -2.0)):
        self.b = np.array(b, dtype=float)
        self.x_star = -np.linalg.solve(self.A, self.b)

    def f(self, x, check=True, batch=None):
        x = np.asarray(x, dtype=float)
        Ax = x @ self.A.T
        return 0.5 * np.sum(x * Ax, axis=-1) + x @ self.b

    def grad(self, x, check=True, batch=None):
        return np.asarray(x, dtype=float) @ self.A.T + self.b

    def hess(self, x, check=True, batch=None):
        x = np.asarray(x, dtype=float)
        return np.broadcast_to(self.A, x.shape[:-1] + (2, 2)).copy()

    def value_and_grad(self, x, check=True, batch=None):
        return self.f(x), self.grad(x)


class Rosenbrock:
    """f(x, y) = (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1)."""

    x_star = np.array([1.0, 1.0])

    def f(self, w, check=True, batch=None):
        w = np.asarray(w, dtype=float)
        x, y = w[..., 0], w[..., 1]
        return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2

    def grad(self, w, check=True, batch=None):
        w = np.asarray(w, dtype=float)
        x, y = w[..., 0], w[..., 1]
        r = y - x * x
        return np.stack([-2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r], axis=-1)

    def hess(self, w, check=True, batch=None):
        w = np.asarray(w, dtype=float)
        x, y = w[..., 0], w[..., 1]
        h11 = 1200.0 * x * x - 400.0 * y + 2.0
        h12 = -400.0 * x
        h22 = np.full_like(x, 200.0)
        return np.stack([np.stack([h11, h12], -1), np.stack([h12, h22], -1)], -2)

    def value_and_grad(self, w, check=True, batch=None):
        return self.f(w), self.grad(w)


class ProblemA:
    """Worked problem A: E = 0.05 + (w1−3)²/4 + (w2−4)²/9 − (w1−3)(w2−4)/6."""

    H = np.array([[0.5, -1.0 / 6.0], [-1.0 / 6.0, 2.0 / 9.0]])

    def f(self, w, check=True, batch=None):
        w = np.asarray(w, dtype=float)
        a, b = w[..., 0] - 3.0, w[..., 1] - 4.0
        return 0.05 + a * a / 4.0 + b * b / 9.0 - a * b / 6.0

    def grad(self, w, check=True, batch=None):
        w = np.asarray(w, dtype=float)
        a, b = w[..., 0] - 3.0, w[..., 1] - 4.0
        return np.stack([a / 2.0 - b / 6.0, 2.0 * b / 9.0 - a / 6.0], axis=-1)

    def hess(self, w, check=True, batch=None):
        w = np.asarray(w, dtype=float)
        return np.broadcast_to(self.H, w.shape[:-1] + (2, 2)).copy()

    def value_and_grad(self, w, check=True, batch=None):
        return self.f(w), self.grad(w)


class Negated:
    """−f of another surface: maximizing it retraces minimizing the original."""

    def __init__(self, surface):
        self.s = surface

    def f(self, x, check=True, batch=None):
        return -self.s.f(x)

    def grad(self, x, check=True, batch=None):
        return -self.s.grad(x)

    def hess(self, x, check=True, batch=None):
        return -self.s.hess(x)

    def value_and_grad(self, x, check=True, batch=None):
        f, g = self.s.value_and_grad(x)
        return -f, -g


class Valley:
    """f(x, y) = x²: the Hessian diag(2, 0) is singular everywhere."""

    def f(self, w, check=True, batch=None):
        return np.asarray(w, dtype=float)[..., 0] ** 2

    def grad(self, w, check=True, batch=None):
        w = np.asarray(w, dtype=float)
        return np.stack([2.0 * w[..., 0], 0.0 * w[..., 1]], axis=-1)

    def hess(self, w, check=True, batch=None):
        w = np.asarray(w, dtype=float)
        return np.broadcast_to(np.diag([2.0, 0.0]), w.shape[:-1] + (2, 2)).copy()

    def value_and_grad(self, w, check=True, batch=None):
        return self.f(w), self.grad(w)
