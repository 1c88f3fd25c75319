"""Write ``numpy.inv``, and add to ``sklearn.inv`` what Debian's copy lacks.

The doc build reads its intersphinx inventories from this folder (it runs where
only package registries are reachable, and a ``-W`` build must not change when a
site does); the links still point at the projects' sites.
``sklearn.inv``, ``scipy.inv`` and ``python.inv`` are the projects' own inventories,
from Debian's ``python-sklearn-doc`` 1.2.1, ``python-scipy-doc`` 1.10.1 and
``python3.11-doc`` packages. This script writes what Debian does not ship:

- ``numpy.inv``: numpy's public API, from the installed numpy, with the URL scheme
  of numpy's site (``reference/generated/numpy.<name>.html``);
- in ``sklearn.inv``: the scikit-learn labels newer than 1.2 that the docstrings we
  inherit from scikit-learn's base classes refer to (intersphinx takes one
  inventory per site, so they join scikit-learn's own).

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
# numpy.random has pages of its own
RANDOM = "reference/random/generated/numpy.random.{name}.html#numpy.random.{name}"
RANDOM_PAGES = {
    "Generator": "reference/random/generator.html#numpy.random.Generator",
    "default_rng": "reference/random/generator.html#numpy.random.default_rng",
    "RandomState": "reference/random/legacy.html#numpy.random.RandomState",
}
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
            role = "py:class" if inspect.isclass(obj) else "py:function"
            if module is np.random and (inspect.isclass(obj) or callable(obj)):
                uri = RANDOM_PAGES.get(attr, RANDOM.format(name=attr))
                yield f"{name} {role} 1 {uri} -"
            elif inspect.isclass(obj) and issubclass(obj, np.generic):
                uri = SCALARS.format(name=name[len("numpy.") :])
                yield f"{name} py:class 1 {uri} -"
            elif inspect.isclass(obj):
                yield f"{name} py:class 1 {GENERATED.format(name=name[6:])} -"
            elif callable(obj):
                yield f"{name} py:function 1 {GENERATED.format(name=name[6:])} -"
    yield "array_like std:term -1 glossary.html#term-array_like array_like"


def sklearn_entries():
    """``sklearn.inv``'s lines, with the labels of ``SKLEARN_LABELS`` (once each)."""
    data = (HERE / "sklearn.inv").read_bytes()
    header_end = 0
    for _ in range(4):  # four header lines, then the zlib stream
        header_end = data.index(b"\n", header_end) + 1
    lines = zlib.decompress(data[header_end:]).decode().splitlines()
    labels = {f"{label} std:label" for label in SKLEARN_LABELS}
    kept = [line for line in lines if " ".join(line.split(" ", 2)[:2]) not in labels]
    added = [
        f"{label} std:label -1 {page} {title}"
        for label, (page, title) in SKLEARN_LABELS.items()
    ]
    return kept + added


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
    write(
        "sklearn.inv",
        "scikit-learn",
        "1.2.1 (Debian) + newer labels",
        sklearn_entries(),
    )
