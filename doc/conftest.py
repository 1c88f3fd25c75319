"""pytest runs the guide's code (``--doctest-glob="*.rst"``); built pages are skipped."""

import matplotlib

matplotlib.use("Agg")

collect_ignore = ["conf.py", "_intersphinx"]
collect_ignore_glob = ["_build/*", "generated/*", "auto_examples/*"]
