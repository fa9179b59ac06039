"""Sharded optimizer state on a simulated 8-device CPU mesh (2 x 4).

The checks live in tests/sharding_checks.py and run in a subprocess, because
the device count is fixed by ``XLA_FLAGS`` when JAX starts.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("sharding_checks.py")


@pytest.mark.slow
def test_sharding_checks():
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
         "JAX_PLATFORMS": "cpu"}
  result = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True,
                          text=True, timeout=600)
  assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-4000:]}"
  for check in ("init on jax.ShapeDtypeStruct", "state sharded like parameters",
                "explicit mesh", "ZeRO-1"):
    assert check in result.stdout, result.stdout
