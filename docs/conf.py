"""Sphinx configuration of the nalr_theory documentation.

Built with warnings as errors (``python -m sphinx -W --keep-going -b html docs docs/_build/html``);
myst-nb executes every notebook of ``../notebooks`` at build time and a cell error fails the
build.
"""

import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import nalr_theory  # noqa: E402

project = "nalr_theory"
author = "nalr_theory developers"
copyright = "2026, nalr_theory developers"
release = version = nalr_theory.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]

# notebooks: copies of ../notebooks (stored without outputs), executed at build time. "auto"
# executes every page that has no outputs, which is every notebook and code page of this
# repository; the test suite, which has just executed the notebooks, hands their executed
# copies over through NALR_EXECUTED_NOTEBOOKS so they are not run twice. "auto" alone does not
# see that: a notebook whose code cells include one without output (a function definition)
# counts as unexecuted, so the executed copies are excluded from execution by name.
nb_execution_mode = "auto"
nb_execution_excludepatterns = ["notebooks/*"] if os.environ.get("NALR_EXECUTED_NOTEBOOKS") else []
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = False
napoleon_numpy_docstring = True

html_theme = "pydata_sphinx_theme"
html_title = f"nalr_theory {release}"
html_static_path = ["_static"]
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}


def _copy_notebooks() -> None:
    # Sphinx reads sources below docs/ only: bring the notebooks in (docs/notebooks is ignored by git)
    source = os.environ.get("NALR_EXECUTED_NOTEBOOKS") or os.path.join(os.path.dirname(HERE), "notebooks")
    target = os.path.join(HERE, "notebooks")
    os.makedirs(target, exist_ok=True)
    for name in sorted(os.listdir(source)):
        if name.endswith(".ipynb"):
            shutil.copyfile(os.path.join(source, name), os.path.join(target, name))


_copy_notebooks()
