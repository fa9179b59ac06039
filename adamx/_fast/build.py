"""Finds the fused kernel's shared library and registers it with XLA.

The kernel (``kernel.cc``) is built when the package is built (``setup.py``
compiles it against the XLA FFI headers of the jaxlib in the build
environment), for a baseline instruction set with clones of the hot loop for
newer ones chosen when it is loaded. No compiler is needed at run time.

Where the package was installed without it (a platform with no compiler at
build time, or a source checkout used without installing) the kernel is
compiled once on first use with the system C++ compiler into
``$ADAMX_CACHE_DIR`` (default ``~/.cache/adamx``), keyed by the source, the
flags, jax's version and the machine architecture only: a cached kernel is
used without looking for a compiler.
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

from adamx._fast.build_flags import COMPILE_FLAGS

HERE = pathlib.Path(__file__).parent
SOURCE = HERE / "kernel.cc"
TARGET_NAME = "adamx_fused_step"


class KernelBuildError(RuntimeError):
  """The fused kernel is neither installed nor buildable; the message says why."""


def packaged() -> pathlib.Path | None:
  """The kernel built with the package (``adamx/_fast/_kernel*.so``), if any."""
  return next(iter(sorted(HERE.glob("_kernel*.so"))), None)


def _cached() -> pathlib.Path:
  key = hashlib.sha256("\n".join([
      SOURCE.read_text(), " ".join(COMPILE_FLAGS), jax.__version__, platform.machine(),
  ]).encode()).hexdigest()[:16]
  cache = pathlib.Path(os.environ.get("ADAMX_CACHE_DIR", pathlib.Path.home() / ".cache" / "adamx"))
  return cache / f"{TARGET_NAME}-{key}.so"


def _compile(target: pathlib.Path) -> None:
  compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
  if compiler is None:
    raise KernelBuildError(
        "it was not built with the package and no C++17 compiler was found to build it"
        " (set CXX or install g++, then reinstall adamx or use it once)")
  target.parent.mkdir(parents=True, exist_ok=True)
  with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
    partial = pathlib.Path(tmp) / target.name
    command = [compiler, *COMPILE_FLAGS, "-shared", f"-I{jax.ffi.include_dir()}", str(SOURCE),
               "-o", str(partial)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
      raise KernelBuildError("it failed to compile:\n  " + " ".join(command) + "\n"
                             + result.stderr[-4000:])
    os.replace(partial, target)  # atomic: concurrent builders never see half a file


def library_path() -> pathlib.Path:
  """The kernel library: the packaged one, else the cached one, else built now."""
  found = packaged()
  if found is not None:
    return found
  if not SOURCE.exists():
    raise KernelBuildError(f"its source {SOURCE} is missing from the install")
  target = _cached()
  if not target.exists():
    _compile(target)
  return target


@functools.cache
def _load() -> ctypes.CDLL | KernelBuildError:
  try:
    lib = ctypes.cdll.LoadLibrary(str(library_path()))
  except (KernelBuildError, OSError) as error:  # tried once per process
    return error if isinstance(error, KernelBuildError) else KernelBuildError(str(error))
  jax.ffi.register_ffi_target(TARGET_NAME, jax.ffi.pycapsule(lib.AdamxFusedStep), platform="cpu")
  lib.adamx_bandwidth_reference.restype = None
  lib.adamx_bandwidth_reference.argtypes = [
      ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
      ctypes.c_size_t, ctypes.c_int,
  ]
  return lib


def library() -> ctypes.CDLL:
  """The loaded kernel library, with its XLA FFI handler registered for CPU.

  Raises :class:`KernelBuildError` (the same one on every call) where there is none.
  """
  lib = _load()
  if isinstance(lib, KernelBuildError):
    raise lib
  return lib
