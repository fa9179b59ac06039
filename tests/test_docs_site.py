"""The documentation's own checks: every public name has an API entry, the
"coming from" pages list every tested case, and ``__all__`` is complete."""

import inspect
import pathlib
import re
import sys
import types

import pytest

import adamx
from adamx.compat import keras as adamx_keras
from adamx.compat import torch as adamx_torch
from tests import peers

pytest.importorskip("sphinx")
sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "docs" / "_ext"))
import adamx_docs  # noqa: E402
from sphinx.errors import ExtensionError  # noqa: E402

API = pathlib.Path(__file__).parent.parent / "docs" / "api"


def test_the_api_pages_have_one_entry_per_public_name():
  entries = re.findall(r"^\.\. auto(?!module)\w+:: ([\w.]+)$", "".join(
      p.read_text() for p in sorted(API.glob("*.md"))), flags=re.M)
  assert sorted(entries) == sorted(set(entries)), "a name documented twice"
  assert set(entries) == set(adamx_docs.public_names())


def test_the_build_fails_naming_a_public_name_without_an_entry():
  objects = {name: None for name in adamx_docs.public_names() if name != "adamx.lion"}
  env = types.SimpleNamespace(get_domain=lambda _: types.SimpleNamespace(objects=objects))
  with pytest.raises(ExtensionError, match=r"no entry in the API reference.*: adamx\.lion$"):
    adamx_docs.check_api(None, env)


@pytest.mark.parametrize("module", [adamx, adamx_torch, adamx_keras], ids=lambda m: m.__name__)
def test_all_lists_every_public_name_and_only_those(module):
  """Re-exported (adamx) or defined there or in its submodules (compat): public means
  in ``__all__``.
  Submodules are left out (``adamx.demo`` appears once imported); ``compat`` is listed."""
  def public(name, value):
    if name.startswith("_") or inspect.ismodule(value):
      return False
    home = getattr(value, "__module__", None) or ""
    return module is adamx or home == module.__name__ or home.startswith(module.__name__ + ".")

  expected = {n for n, v in vars(module).items() if public(n, v)}
  assert set(module.__all__) == expected | ({"compat"} if module is adamx else set())


def test_coming_from_pages_list_every_tested_case():
  torch_page, keras_page = adamx_docs.torch_page(), adamx_docs.keras_page()
  for name, kwargs in peers.TORCH_CASES:
    assert f"`{adamx_docs.call(name, kwargs, 'params')}`" in torch_page
  for name, kwargs in peers.KERAS_FLOAT64_CASES + peers.KERAS_FLOAT32_CASES:
    assert f"`{adamx_docs.call(name, kwargs)}`" in keras_page
  for name in peers.DELIBERATE:
    assert f"`optax.{name}`" in adamx_docs.optax_page()


def test_getting_started_code_runs_and_trains(capsys):
  """The page's Python blocks, run in order in one namespace, as a reader would."""
  page = (API.parent / "getting_started.md").read_text()
  blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
  assert len(blocks) == 2
  namespace = {}
  for block in blocks:
    exec(compile(block, "getting_started.md", "exec"), namespace)
  printed = capsys.readouterr().out
  assert float(re.search(r"loss (\S+)", printed).group(1)) < 1e-3
  assert "ratio(" in printed and "running_max" in printed


def test_parameter_group_recipes_run(capsys):
  """The recipes page's blocks, in order in one namespace."""
  page = (API.parent / "param_groups.md").read_text()
  namespace = {}
  for block in re.findall(r"```python\n(.*?)```", page, flags=re.S):
    exec(compile(block, "param_groups.md", "exec"), namespace)
  printed = capsys.readouterr().out
  assert "'weight_decay': Array(0." in printed and "'embed'" in printed
  lines = printed.splitlines()
  assert "1" in lines  # one compilation for both calls of the jitted step
  assert lines[-1] == "1 0"  # accumulation: one step after four micro-steps
