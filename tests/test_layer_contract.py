"""The custom layer of ``doc/layers.rst``, written on the public contract only,
trains inside an estimator, and its backward pass matches finite differences."""

from dataclasses import dataclass

import numpy as np
from _engine import central_differences, objective_trainer

from sklearn_nn import NeuralNetRegressor
from sklearn_nn.layers import Dense, Layer, ParamSpec


# --- the example of doc/layers.rst, verbatim ---------------------------------
@dataclass(frozen=True)
class Scale(Layer):
    """Multiply each feature by a learned factor (initialised at 1, penalised)."""

    def output_shape(self, in_shape):
        return tuple(in_shape)

    def param_specs(self, in_shape):
        return [ParamSpec("scale", (in_shape[-1],), "ones", penalized=True)]

    def allocate(self, in_shape, n_rows, dtype):
        a = np.empty((n_rows,) + tuple(in_shape), dtype=dtype)
        return {"a": a, "d": np.empty_like(a)}

    def forward(self, x, arrays, batch):
        out = arrays.buffers["a"][: batch.n]
        np.multiply(x.reshape(out.shape), arrays.params["scale"], out=out)
        return out

    def backward(self, x, arrays, batch, d_x):
        d = arrays.buffers["d"][: batch.n]
        features = d.shape[-1]
        products = d * x.reshape(d.shape)
        arrays.grads["scale"][...] = products.reshape(-1, features).sum(axis=0)
        if d_x is not None:
            np.multiply(d, arrays.params["scale"], out=d_x.reshape(d.shape))


# ------------------------------------------------------------------------------


def test_custom_layer_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 4))
    Y = rng.standard_normal((6, 2))
    trainer = objective_trainer(
        [Dense(3, "tanh"), Scale(), Dense(2, "identity")],
        (4,),
        X,
        Y,
        alpha=0.2,
        loss="squared_error",
    )
    # the scale is penalised: it sits in the prefix with the kernels
    assert trainer.network.n_penalized == 4 * 3 + 3 + 3 * 2
    x0 = trainer.params.copy()
    x0[12:15] = rng.uniform(0.5, 2, 3)  # away from the initial ones
    _, grad = trainer.objective(x0)
    np.testing.assert_allclose(
        grad, central_differences(trainer.objective, x0), rtol=1e-6, atol=1e-8
    )


def test_custom_layer_trains_in_an_estimator():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    reg = NeuralNetRegressor([Scale()], solver="lbfgs", random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.999
    scale = reg._network.views(reg._params)[0]["scale"]
    assert not np.allclose(scale, 1)
