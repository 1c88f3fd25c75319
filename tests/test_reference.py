"""The five estimators give the models they gave before the Engine v2 refactor.

``tests/reference/engine_v1.npz`` holds parameters and raw outputs written by
``tests/reference/make_reference.py`` at commit 6eaac6e (the dropout cases since
re-recorded, as ``engine_v1.json`` says: issue 15 keyed dropout masks by row
content). On the machine and library
versions recorded beside them (``engine_v1.json``) they must match bit for bit; on
another CPU or BLAS the rounding of a GEMM may differ in the last bit, so there they
are compared to a tolerance that a real change of behaviour would still exceed.
"""

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent / "reference"
_spec = importlib.util.spec_from_file_location(
    "make_reference", HERE / "make_reference.py"
)
make_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_reference)

SAVED = np.load(HERE / "engine_v1.npz")
_RECORDED = json.loads((HERE / "engine_v1.json").read_text())
_RECORDED.pop("re-recorded", None)  # cases re-recorded on purpose, and why
SAME_MACHINE = _RECORDED == make_reference.fingerprint()
CASES = {case[0]: case for case in make_reference.cases()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_reference_models_unchanged(name):
    _, est, X, y, X_test, method = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make_reference.fit_case(name, est, X, y)
    if not SAME_MACHINE:
        warnings.warn(
            "another CPU, BLAS or library version than the saved reference's: "
            "compared to a tolerance, not bit for bit",
            stacklevel=1,
        )
    got = {
        "output": est.decision_function(X_test)
        if method == "df"
        else est.predict(X_test),
        "n_iter": np.asarray(est.n_iter_),
    }
    for i, (w, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        got[f"coef{i}"], got[f"intercept{i}"] = w, b
    expected = {
        k.split("/", 1)[1]: SAVED[k] for k in SAVED.files if k.startswith(name + "/")
    }
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        assert got[key].dtype == value.dtype, key
        if SAME_MACHINE:
            np.testing.assert_array_equal(got[key], value, err_msg=key)
        else:
            rtol = 1e-3 if value.dtype == np.float32 else 1e-8
            np.testing.assert_allclose(
                got[key], value, rtol=rtol, atol=rtol, err_msg=key
            )
