"""pytest runs the guide's code (``--doctest-glob="*.rst"``), not the built pages."""

import matplotlib

matplotlib.use("Agg")

collect_ignore = ["conf.py", "_intersphinx"]
collect_ignore_glob = ["_build/*", "generated/*", "auto_examples/*"]
