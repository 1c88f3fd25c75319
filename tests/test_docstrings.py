"""Every public class and function has a numpydoc ``Examples`` section that runs.

The examples themselves run as doctests (``--doctest-modules``); this test makes sure
none is missing, so that a new public object cannot ship without one.
"""

import importlib
import inspect
import re

import pytest

MODULES = [
    "sklearn_nn",
    "sklearn_nn.layers",
    "sklearn_nn.compression",
    "sklearn_nn.preprocessing",
    "sklearn_nn.exceptions",
    "sklearn_nn.onnx",
]

# a numpydoc section header: its name, then a line of dashes
_HEADER = re.compile(r"^(\w[\w ]*)\n-{3,}$", re.MULTILINE)


def _public_objects():
    """(name, object) of every class and function in the modules' ``__all__``."""
    found = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                found.append((name, obj))
    return found


PUBLIC = _public_objects()


def _own_doc(obj):
    """The object's own docstring: ``inspect.getdoc`` would fall back to a parent's."""
    return inspect.cleandoc(obj.__doc__ or "")


def _sections(doc):
    """The docstring's numpydoc sections, ``{name: body}``, in order."""
    headers = list(_HEADER.finditer(doc))
    ends = [m.start() for m in headers[1:]] + [len(doc)]
    return {
        m.group(1): doc[m.end() : end] for m, end in zip(headers, ends, strict=True)
    }


def test_public_objects_are_found():
    names = [name for name, _ in PUBLIC]
    assert {"NeuralNetClassifier", "Dense", "Layer", "dequantize"} <= set(names)
    assert {"TokenSequencer", "DivergenceWarning", "register"} <= set(names)


@pytest.mark.parametrize("obj", [obj for _, obj in PUBLIC], ids=[n for n, _ in PUBLIC])
def test_docstring_has_examples_section(obj):
    sections = _sections(_own_doc(obj))
    assert "Examples" in sections, f"{obj.__qualname__} has no Examples section"
    assert ">>>" in sections["Examples"], f"{obj.__qualname__}'s Examples run nothing"


@pytest.mark.parametrize("obj", [obj for _, obj in PUBLIC], ids=[n for n, _ in PUBLIC])
def test_docstring_examples_section_is_last(obj):
    sections = list(_sections(_own_doc(obj)))
    assert sections[-1:] == ["Examples"], f"{obj.__qualname__}: sections {sections}"
