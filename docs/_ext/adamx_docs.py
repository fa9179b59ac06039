"""The adamx site's own Sphinx extension.

* Writes the "coming from" tables (``docs/_generated/*.md``) from the rows the
  compatibility tests run (``tests/peers.py``): a page lists only tested settings.
* Copies ``notebooks/*.ipynb`` into ``docs/_generated/notebooks`` for the gallery
  (rendered with their stored outputs).
* Fails the build when a public name (``__all__`` of ``adamx`` and of its compat
  modules) has no entry in the API reference.
"""

from __future__ import annotations

import inspect
import pathlib
import shutil

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

import adamx
from adamx.compat import keras as adamx_keras
from adamx.compat import torch as adamx_torch
from tests import peers

DOCS = pathlib.Path(__file__).resolve().parent.parent
GENERATED = DOCS / "_generated"
NOTEBOOKS = DOCS.parent / "notebooks"


def public_names() -> list[str]:
  """Every public name a user can reach, dotted from ``adamx``."""
  names = [f"adamx.{n}" for n in adamx.__all__ if n != "compat"]
  for module in (adamx_torch, adamx_keras):
    names += [f"{module.__name__}.{n}" for n in module.__all__]
  return names


def call(owner: str, kwargs: dict, first: str = "") -> str:
  args = [first] if first else []
  args += [f"{k}={'schedule' if callable(v) else repr(v)}" for k, v in kwargs.items()]
  return f"{owner}({', '.join(args)})"


def defaults(factory) -> str:
  """The keyword defaults of a compat class, as torch or Keras documents them."""
  shown = [f"{p.name}={p.default!r}" for p in inspect.signature(factory).parameters.values()
           if p.name != "params" and p.default is not p.empty]
  return ", ".join(shown)


def torch_page() -> str:
  lines = ["| torch.optim | adamx | settings tested in float64 (≤ 1e-10 over 200 steps) |",
           "|---|---|---|"]
  cases = [(n, kw) for n, kw in peers.TORCH_CASES]
  cases += [(n, dict(kw, lr=lr_at) if lr_at else kw)
            for n, _, kw, lr_at in peers.TORCH_FACTORED_CASES]
  for name in adamx_torch.__all__:
    tested = "<br>".join(f"`{call(name, kw, 'params')}`" for n, kw in cases if n == name)
    lines.append(f"| `torch.optim.{name}` | {{py:func}}`adamx.compat.torch.{name}` | {tested} |")
  lines += ["", "Defaults, as torch's:", ""]
  lines += [f"- `{name}`: `{defaults(getattr(adamx_torch, name))}`" for name in adamx_torch.__all__]
  lines += ["", "## adamx's own methods with torch's numbers", "",
            "The same maths under adamx's (Optax's) names, with the switches that give torch's "
            "arrangement, each tested against torch in float64:", "",
            "| torch.optim | adamx |", "|---|---|"]
  lines += [f"| `{call('torch.optim.' + cls, tkw, 'params')}` | `{call('adamx.' + m, kw)}` |"
            for m, kw, cls, tkw in peers.TORCH_EQUIVALENTS]
  return "\n".join(lines) + "\n"


def keras_page() -> str:
  lines = ["| Keras 3 | adamx | float64 settings tested (≤ 1e-10, 100 steps) | float32 (≤ 1e-6) |",
           "|---|---|---|---|"]
  for name in adamx_keras.__all__:
    f64 = "<br>".join(f"`{call(name, kw)}`" for n, kw in peers.KERAS_FLOAT64_CASES if n == name)
    f32 = "<br>".join(f"`{call(name, kw)}`" for n, kw in peers.KERAS_FLOAT32_CASES if n == name)
    lines.append(f"| `keras.optimizers.{name}` | {{py:func}}`adamx.compat.keras.{name}` "
                 f"| {f64} | {f32} |")
  lines += ["", "Defaults, as Keras's:", ""]
  lines += [f"- `{name}`: `{defaults(getattr(adamx_keras, name))}`" for name in adamx_keras.__all__]
  return "\n".join(lines) + "\n"


def optax_page() -> str:
  import optax

  shared = [n for n in adamx.__all__ if hasattr(optax, n)]
  lines = ["| Optax | adamx | arguments and numbers |", "|---|---|---|"]
  for name in shared:
    differs = peers.DELIBERATE.get(name)
    note = f"differs on purpose: {differs}".replace("|", "\\|") if differs else "Optax's"
    lines.append(f"| `optax.{name}` | {{py:func}}`adamx.{name}` | {note} |")
  lines += ["", f"{len(shared)} names shared with Optax; adamx's other public names are its own "
            "(see the API reference)."]
  return "\n".join(lines) + "\n"


def write_if_changed(path: pathlib.Path, text: str) -> None:
  """Rewrites only on change, so incremental builds stay incremental."""
  if not path.exists() or path.read_text() != text:
    path.write_text(text)


def generate(app: Sphinx) -> None:
  (GENERATED / "notebooks").mkdir(parents=True, exist_ok=True)
  write_if_changed(GENERATED / "torch_table.md", torch_page())
  write_if_changed(GENERATED / "keras_table.md", keras_page())
  write_if_changed(GENERATED / "optax_table.md", optax_page())
  for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
    target = GENERATED / "notebooks" / notebook.name
    if not target.exists() or target.read_bytes() != notebook.read_bytes():
      shutil.copyfile(notebook, target)


def check_api(app: Sphinx, env) -> None:
  documented = set(env.get_domain("py").objects)
  missing = [name for name in public_names() if name not in documented]
  if missing:
    raise ExtensionError("public names with no entry in the API reference (docs/api/): "
                         + ", ".join(missing))


def setup(app: Sphinx) -> dict:
  app.connect("builder-inited", generate)
  app.connect("env-check-consistency", check_api)
  return {"parallel_read_safe": True, "parallel_write_safe": True}
