"""Size limits shared by the modules that take user input (no heavy imports here)."""

#: Most variables a symbolic surface may have: gradients and Hessians are derived and
#: compiled symbolically, which costs about 6 s at n = 100 (n-D Rosenbrock, measured).
MAX_VARIABLES = 100
