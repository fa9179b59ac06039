"""Executes every notebook top to bottom; a failing assertion cell fails the build.

Each notebook runs in a fresh ``python3`` kernel from the notebooks directory,
on an in-memory copy: stored outputs are never rewritten by the test.
"""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path):
  notebook = nbformat.read(path, as_version=4)
  client = NotebookClient(
      notebook, timeout=120, kernel_name="python3",
      resources={"metadata": {"path": str(path.parent)}},
  )
  client.execute()  # raises CellExecutionError on the first failing cell
