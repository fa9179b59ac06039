"""Compiles the fused kernel on first use and registers it with XLA.

The kernel is one C++ file compiled against the XLA FFI headers that jaxlib
ships (``jax.ffi.include_dir()``). It is built lazily, once per machine and
source version, into ``$ADAMX_CACHE_DIR`` (default ``~/.cache/adamx``), so
``pip install -e .`` needs no compiler and a missing one is reported only when
the fused path is used.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import pathlib
import platform
import shutil
import subprocess
import tempfile

import jax

SOURCE = pathlib.Path(__file__).with_name("adam_kernel.cc")
TARGET_NAME = "adamx_fused_adam"
# -ffp-contract=off: multiply-adds are fused only where the source says (as XLA does).
FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-fno-math-errno",
         "-std=c++17", "-shared", "-fPIC", "-pthread")


class KernelBuildError(RuntimeError):
  """The fused kernel could not be compiled; the message says why and what to do."""


def _cpu_model() -> str:
  try:
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
      if line.startswith(("model name", "flags")):
        return line
  except OSError:
    pass
  return platform.processor()


def _compiler() -> str:
  compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
  if compiler is None:
    raise KernelBuildError(
        "adamx's fused Adam needs a C++17 compiler to build its kernel on first"
        " use, and none was found (set CXX, or install g++). Use adamx.adam,"
        " which needs no compiler and gives the same numbers."
    )
  return compiler


@functools.cache
def library_path() -> pathlib.Path:
  """Path of the compiled kernel, building it if this version is not cached."""
  if not SOURCE.exists():
    raise KernelBuildError(f"adamx's kernel source {SOURCE} is missing from the install.")
  compiler = _compiler()
  include = jax.ffi.include_dir()
  key = hashlib.sha256("\n".join([
      SOURCE.read_text(), compiler, " ".join(FLAGS), include, jax.__version__,
      platform.machine(), _cpu_model(),
  ]).encode()).hexdigest()[:16]
  cache = pathlib.Path(os.environ.get("ADAMX_CACHE_DIR", pathlib.Path.home() / ".cache" / "adamx"))
  target = cache / f"{TARGET_NAME}-{key}.so"
  if target.exists():
    return target
  cache.mkdir(parents=True, exist_ok=True)
  with tempfile.TemporaryDirectory(dir=cache) as tmp:
    partial = pathlib.Path(tmp) / target.name
    command = [compiler, *FLAGS, f"-I{include}", str(SOURCE), "-o", str(partial)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
      raise KernelBuildError(
          "adamx's fused Adam kernel failed to compile:\n  " + " ".join(command)
          + "\n" + result.stderr[-4000:]
      )
    os.replace(partial, target)  # atomic: concurrent builders never see half a file
  return target


@functools.cache
def library() -> ctypes.CDLL:
  """The loaded kernel library, with its XLA FFI handler registered for CPU."""
  lib = ctypes.cdll.LoadLibrary(str(library_path()))
  jax.ffi.register_ffi_target(
      TARGET_NAME, jax.ffi.pycapsule(lib.AdamxFusedAdam), platform="cpu"
  )
  lib.adamx_bandwidth_reference.restype = None
  lib.adamx_bandwidth_reference.argtypes = [
      ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
      ctypes.c_size_t, ctypes.c_int,
  ]
  return lib
