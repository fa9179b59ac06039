"""Builds the fused kernel (adamx/_fast/kernel.cc) with the package.

The kernel is a plain shared library loaded with ctypes and registered with
XLA through ``jax.ffi`` (see adamx/_fast/build.py), compiled against the XLA
FFI headers of the jaxlib that ``pyproject.toml`` puts in the build
environment. It is optional: where it cannot be compiled the install goes on
and adamx builds it on first use (or runs the composed methods, with a warning).
"""

import pathlib
import sys

from setuptools import Extension, setup

sys.path.insert(0, str(pathlib.Path(__file__).parent / "adamx" / "_fast"))
from build_flags import COMPILE_FLAGS  # noqa: E402  (the flags the lazy build uses too)


def _ffi_include() -> str:
  import jaxlib  # the build environment's; only its headers are used

  return str(pathlib.Path(jaxlib.__file__).parent / "include")


setup(ext_modules=[Extension(
    "adamx._fast._kernel", ["adamx/_fast/kernel.cc"], include_dirs=[_ffi_include()],
    extra_compile_args=list(COMPILE_FLAGS), language="c++", optional=True)])
