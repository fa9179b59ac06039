"""The C++ flags of the fused kernel, shared by ``setup.py`` and the lazy build.

``-ffp-contract=off``: multiply-adds are fused only where the source says (as
XLA does); ``-fno-math-errno`` and ``-fno-trapping-math`` let the loops
vectorize without changing a value. No ``-march``: the source clones its hot
loop per instruction set (see kernel.cc).
"""

COMPILE_FLAGS = ("-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math",
                 "-std=c++17", "-fPIC", "-pthread")
