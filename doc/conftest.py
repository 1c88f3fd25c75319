"""pytest runs the guide's code (``--doctest-glob="*.rst"``), not the built pages."""

import matplotlib

matplotlib.use("Agg")

collect_ignore = ["conf.py", "_intersphinx"]
collect_ignore_glob = ["_build/*", "generated/*", "auto_examples/*"]

try:
    import sklearn.callback  # noqa: F401
except ImportError:  # the callback samples need scikit-learn >= 1.9
    collect_ignore.append("user_guide/training.rst")
