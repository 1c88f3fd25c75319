"""Every gallery example runs, in its fast mode, without a warning escaping it.

The examples are the gallery of the docs (sphinx-gallery); running them here keeps
them from rotting between doc builds. ``SKLEARN_NN_EXAMPLES_FAST=1`` makes each one
train on less data for fewer epochs, as the CI doc build does.
"""

import runpy
import warnings
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))


def test_examples_gallery_has_twelve_or_more():
    assert len(EXAMPLES) >= 12, [path.name for path in EXAMPLES]


def _python_default_filters():
    """The warnings ``python example.py`` prints: Python's filters, not pytest's."""
    warnings.resetwarnings()
    warnings.simplefilter("default")
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("ignore", category=ResourceWarning)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs_without_warnings(path, monkeypatch, capsys):
    monkeypatch.setenv("SKLEARN_NN_EXAMPLES_FAST", "1")
    monkeypatch.chdir(path.parent)
    plt.close("all")  # figures another test left open would count as this one's
    try:
        with warnings.catch_warnings(record=True) as caught:
            _python_default_filters()
            runpy.run_path(str(path), run_name="__main__")
        figures = plt.get_fignums()
    finally:
        plt.close("all")
    assert not [f"{w.category.__name__}: {w.message}" for w in caught]
    assert figures, "an example of the gallery draws at least one figure"
    assert capsys.readouterr().out, "an example prints its results"
