"""Write ``numpy.inv`` and ``sklearn-labels.inv``, the inventories Debian lacks.

The doc build runs where only package registries are reachable, so it reads its
intersphinx inventories from this folder when the projects' sites cannot be reached.
``sklearn.inv``, ``scipy.inv`` and ``python.inv`` are the projects' own inventories,
from Debian's ``python-sklearn-doc`` 1.2.1, ``python-scipy-doc`` 1.10.1 and
``python3.11-doc`` packages. This script writes the two that Debian does not ship:

- numpy's public API, from the installed numpy, with the URL scheme of numpy's site
  (``reference/generated/numpy.<name>.html``);
- the scikit-learn labels newer than 1.2 that the docstrings we inherit from
  scikit-learn's base classes refer to.

Run it again after a numpy upgrade::

    python doc/_intersphinx/make_inventories.py
"""

import inspect
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
SCALARS = "reference/arrays.scalars.html#numpy.{name}"
GENERATED = "reference/generated/numpy.{name}.html#numpy.{name}"
SKLEARN_LABELS = {
    # label: (page, title), as on scikit-learn.org/stable
    "metadata_routing": ("metadata_routing.html", "Metadata Routing"),
    "df_output_transform": (
        "auto_examples/miscellaneous/plot_set_output.html",
        "Introducing the set_output API",
    ),
}


def numpy_entries():
    """Yield inventory lines for numpy's documented public objects."""
    for module, prefix in [(np, ""), (np.random, "random."), (np.linalg, "linalg.")]:
        for attr in sorted(getattr(module, "__all__", dir(module))):
            if attr.startswith("_"):
                continue
            obj = getattr(module, attr, None)
            name = f"numpy.{prefix}{attr}"
            if inspect.isclass(obj) and issubclass(obj, np.generic):
                uri = SCALARS.format(name=name[len("numpy.") :])
                yield f"{name} py:class 1 {uri} -"
            elif inspect.isclass(obj):
                yield f"{name} py:class 1 {GENERATED.format(name=name[6:])} -"
            elif callable(obj):
                yield f"{name} py:function 1 {GENERATED.format(name=name[6:])} -"
    yield "array_like std:term -1 glossary.html#term-array_like array_like"


def sklearn_label_entries():
    """Yield inventory lines for the scikit-learn labels in ``SKLEARN_LABELS``."""
    for label, (page, title) in SKLEARN_LABELS.items():
        yield f"{label} std:label -1 {page} {title}"


def write(filename, project, version, lines):
    """Write an intersphinx (version 2) inventory of ``lines``."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = "".join(line + "\n" for line in lines)
    (HERE / filename).write_bytes(header.encode() + zlib.compress(body.encode()))
    print(f"wrote {filename} ({body.count(chr(10))} entries)")


if __name__ == "__main__":
    write("numpy.inv", "NumPy", np.__version__, numpy_entries())
    write("sklearn-labels.inv", "scikit-learn", "stable", sklearn_label_entries())
