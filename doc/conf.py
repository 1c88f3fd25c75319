"""Sphinx configuration; the command that builds the pages is in ``doc/index.rst``.

Set ``SKLEARN_NN_EXAMPLES_FAST=1`` to run the gallery on less data and fewer epochs,
as CI does.
"""

import os
from pathlib import Path

import sklearn_nn

HERE = Path(__file__).parent
project = "sklearn_nn"
author = "the sklearn_nn developers"
copyright = "2026, the sklearn_nn developers"
release = version = sklearn_nn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
exclude_patterns = ["_build", "README.md", "_intersphinx"]
templates_path = ["_templates"]
default_role = "py:obj"
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}

numpydoc_show_class_members = False
numpydoc_xref_param_type = True
numpydoc_xref_ignore = {"of", "or", "shape", "default", "optional", "instance", "and"}
numpydoc_xref_aliases = {
    "array-like": ":term:`array-like <array_like>`",
    "estimator": ":term:`estimator <sklearn:estimators>`",
    "sparse matrix": "scipy.sparse.spmatrix",
    "RandomState": "numpy.random.RandomState",
    "Layer": "sklearn_nn.layers.Layer",
}


def _inventory(name, url):
    """The copy in ``_intersphinx/`` (so that a ``-W`` build does not change when
    a site does), the site's own inventory if the copy is missing."""
    return url, (str(HERE / "_intersphinx" / f"{name}.inv"), None)


intersphinx_mapping = {
    "python": _inventory("python", "https://docs.python.org/3/"),
    "numpy": _inventory("numpy", "https://numpy.org/doc/stable/"),
    "scipy": _inventory("scipy", "https://docs.scipy.org/doc/scipy/"),
    "sklearn": _inventory("sklearn", "https://scikit-learn.org/stable/"),
}
intersphinx_timeout = 5

FAST = os.environ.get("SKLEARN_NN_EXAMPLES_FAST") == "1"
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("sklearn_nn",),
    "reference_url": {"sklearn_nn": None},
    "backreferences_dir": "generated/backreferences",
    "abort_on_example_error": True,
    "min_reported_time": 1,
    "remove_config_comments": True,
}

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_nn {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
