"""Sphinx configuration of the mfzoo documentation site (``sphinx-build -W -b html docs docs/_build/html``).

Sphinx + MyST Markdown + furo: the stack of the Farama projects (PettingZoo, Gymnasium) and TorchRL, so the
site reads like the ones our users know; pages are Markdown like the README, BENCHMARKS.md and
REPRODUCTION.md (which the site includes rather than copies), and autodoc reads the Google-style docstrings
(napoleon) the code already has. No extension fetches anything: the build needs no network.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import mfenvs  # noqa: E402

# autosummary writes the API pages into api/_generated/ on every build; stale ones (a module removed or
# renamed) would be pages outside any toctree, so the folder starts empty.
shutil.rmtree(DOCS / "api" / "_generated", ignore_errors=True)

project = "Mean Field Zoo"
author = "mfzoo contributors"
copyright = "2026, mfzoo contributors"
try:
    from importlib.metadata import version as _version

    release = _version("mfzoo")
except Exception:  # pragma: no cover - not installed: the docs still build from the tree
    release = ""

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "mfdocs",
]
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "scripts", "README.md"]
# BENCHMARKS.md / REPRODUCTION.md are included from their level-2 headings; "ref.python" is a name that
# several documented objects share (a dataclass field ``seed`` of three configs): Sphinx links the first
# and says so. A reference to nothing still fails (myst.xref_missing, docutils errors).
suppress_warnings = ["myst.header", "ref.python"]

autosummary_generate = True
autosummary_imported_members = False
# ``ignore-module-all``: a package that re-exports (``mfenvs.battle.BattleConfig``) is not a second home of
# the object, which is documented once, in its own module.
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True, "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
# The optional extras' packages (compat, benchmarl, ray): mocked where not installed, so that
# `pip install -e ".[docs]"` alone builds the whole API reference.
autodoc_mock_imports: list[str] = []
for _name in ("torchrl", "tensordict", "benchmarl", "tianshou", "ray"):
    try:
        __import__(_name)
    except ImportError:
        autodoc_mock_imports.append(_name)
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_attr_annotations = True
napoleon_custom_sections = ["Version history"]  # the environments' doc-page docstrings (PettingZoo style)
napoleon_use_ivar = True  # a class's "Attributes:" section beside its fields' own docstrings: one entry each

html_theme = "furo"
html_title = f"Mean Field Zoo {release}".strip()
html_static_path = ["_static"]
templates_path = ["_templates"]  # module pages: the module's docstring and members, then its submodules
html_theme_options = {"sidebar_hide_name": False}
nitpicky = False
