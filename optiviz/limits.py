"""Size limits shared by the modules that take user input (no heavy imports here)."""

#: Most variables a symbolic surface may have: gradients and Hessians are derived and
#: compiled symbolically (a sum of squares of 100 variables takes about 0.4 CPU s; the
#: surface's derivation size and CPU budget bound the rest, see optiviz.surface).
MAX_VARIABLES = 100
