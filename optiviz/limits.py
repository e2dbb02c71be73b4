"""Size limits shared by the modules that take user input (no heavy imports here)."""

#: Most variables a symbolic surface may have: gradients and Hessians are derived and
#: compiled symbolically (a sum of squares of 100 variables takes about 0.4 CPU s; the
#: surface's derivation size and CPU budget bound the rest, see optiviz.surface).
MAX_VARIABLES = 100

#: Most variables of a structured surface (optiviz.structured: a quadratic in matrix form,
#: a sum of one term over an index): nothing is expanded, so the limit is memory (one
#: dense n x n Hessian of 10,000 variables is 800 MB; a run's records are bounded by the
#: config's memory limit).
MAX_STRUCTURED_VARIABLES = 10_000
