"""Sphinx configuration: ``make docs`` builds the site into ``docs/_build/html``.

Pages are Markdown (MyST); the API reference is autodoc over the docstrings;
the notebooks are rendered with the outputs they are stored with (the test
suite executes them); ``_ext/adamx_docs.py`` writes the "coming from" tables
from the tables the compatibility tests use, and fails the build when a public
name has no API entry.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "docs" / "_ext")]

import adamx  # noqa: E402

project = "adamx"
author = "the adamx developers"
copyright = "2026, the adamx developers"
release = version = adamx.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinx-mathjax-offline",
    "sphinx_copybutton",
    "myst_nb",
    "adamx_docs",
]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_generated/*.md", "**.ipynb_checkpoints"]
html_theme = "furo"
html_title = f"adamx {version}"
html_static_path = []

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # stored outputs; tests/test_notebooks.py executes every notebook
nb_merge_streams = True

autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # signatures show defaults; types are in the docstrings
autodoc_member_order = "bysource"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
add_module_names = False

intersphinx_mapping = {}  # built offline: no inventories are fetched
nitpicky = False
