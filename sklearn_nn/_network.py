"""A stack of layer specs over one contiguous parameter buffer.

Layout of the flat buffer: every layer's weights first, then every bias. Each layer's
``(w, b)`` are views into it (and likewise for the gradient buffer), so an optimizer
updates all parameters in one kernel call and the L1/L2 penalty covers exactly the
prefix ``flat[:n_penalized]``.
"""

import numpy as np

from ._threads import run_parts
from .layers import CSRRows


class Network:
    """Shapes and offsets of a layer stack; holds no arrays, so it pickles trivially.

    Parameters
    ----------
    layers : list of layer specs
        From ``sklearn_nn.layers``.
    in_shape : tuple of int
        Shape of one input sample.
    """

    def __init__(self, layers, in_shape):
        self.layers = list(layers)
        self.in_shapes = []
        shape = tuple(in_shape)
        weight_shapes, bias_shapes = [], []
        for layer in self.layers:
            self.in_shapes.append(shape)
            shapes = layer.param_shapes(shape)
            weight_shapes.append(shapes[0] if shapes else None)
            bias_shapes.append(shapes[1] if shapes else None)
            shape = layer.output_shape(shape)
        self.out_shape = shape
        self._slices = [None] * len(self.layers)
        offset = 0
        for i, w_shape in enumerate(weight_shapes):
            if w_shape is not None:
                size = int(np.prod(w_shape))
                self._slices[i] = [(offset, w_shape)]
                offset += size
        self.n_penalized = offset
        for i, b_shape in enumerate(bias_shapes):
            if b_shape is not None:
                size = int(np.prod(b_shape))
                self._slices[i].append((offset, b_shape))
                offset += size
        self.n_params = offset
        self._runs = self._segments()
        # a layer needs its input gradient only if some layer below it has parameters
        # (e.g. not the first convolution after the channels-first transpose)
        self._wants_d_x = [
            any(self._slices[j] is not None for j in range(i))
            for i in range(len(self.layers))
        ]

    @property
    def splits_batch(self):
        """Whether some layer runs its batch in parts on threads."""
        return any(getattr(layer, "splits_batch", False) for layer in self.layers)

    @property
    def param_layers(self):
        """Indices of the layers that have parameters."""
        return [i for i, s in enumerate(self._slices) if s is not None]

    def views(self, flat):
        """Per-layer ``(w, b)`` views into ``flat``; ``(None, None)`` without params."""
        out = []
        for slices in self._slices:
            if slices is None:
                out.append((None, None))
                continue
            out.append(
                tuple(
                    flat[start : start + int(np.prod(s))].reshape(s)
                    for start, s in slices
                )
            )
        return out

    def init_params(self, random_state, dtype, factor=6.0):
        """Glorot-uniform weights and biases, drawn as scikit-learn's MLP draws them.

        Each layer draws its weights then its bias from ``U(-r, r)``,
        ``r = sqrt(factor / (fan_in + fan_out))``, in layer order.
        """
        flat = np.zeros(self.n_params, dtype=dtype)
        views = self.views(flat)
        for i in self.param_layers:
            w, b = views[i]
            fan_in, fan_out = self.layers[i].fans(self.in_shapes[i])
            bound = np.sqrt(factor / (fan_in + fan_out))
            w[...] = random_state.uniform(-bound, bound, w.shape)
            if b.size:
                b[...] = random_state.uniform(-bound, bound, b.shape)
        return flat

    def allocate(self, n_rows, dtype, n_threads=1):
        """Per-layer buffers (activations, their gradients) for ``n_rows`` samples,
        and the number of threads the layers may split their loop kernels over."""
        buffers = [
            layer.allocate(shape, n_rows, dtype)
            for layer, shape in zip(self.layers, self.in_shapes, strict=True)
        ]
        for buf in buffers:
            buf["threads"] = n_threads
        return buffers

    def _segments(self):
        """The layer indices cut into runs: consecutive split layers (see
        ``sklearn_nn._threads``) form one run, any other layer is a run alone."""
        segments = []
        for i, layer in enumerate(self.layers):
            split = getattr(layer, "splits_batch", False)
            if split and segments and segments[-1][0]:
                segments[-1][1].append(i)
            else:
                segments.append((split, [i]))
        return segments

    def forward(self, views, x, buffers, n, training=False, rng=None):
        """Outputs of the last layer (its raw scores z) for ``n`` samples of ``x``.

        A run of split layers goes part by part in one parallel region: each part
        of the batch passes through all of them on one thread.
        """
        for split, run in self._runs:
            if not split:
                i = run[0]
                w, b = views[i]
                x = self.layers[i].forward(x, w, b, buffers[i], n, training, rng)
                # remembered for backward: a layer may return its input (dropout)
                buffers[i]["out"] = x
                continue
            x_run = x

            def forward_part(k, lo, hi, run=run, x_run=x_run):
                x_part = x_run
                for i in run:
                    w, b = views[i]
                    self.layers[i].forward_part(x_part, w, b, buffers[i], n, lo, hi)
                    x_part = buffers[i]["a"][:n]

            run_parts(n, buffers[run[0]]["threads"], forward_part)
            for i in run:
                buffers[i]["out"] = buffers[i]["a"][:n]
            x = buffers[run[-1]]["out"]
        return x

    def backward(self, views, grad_views, x, buffers, n):
        """Fill the gradient views from the output gradient in ``buffers[-1]["d"]``.

        ``x`` is the network's input; each layer reads its own input as the previous
        layer's output buffer, and writes its input gradient into the previous
        layer's ``"d"`` buffer, unless no layer below has parameters (``d_x`` None).
        A run of split layers goes part by part, as in ``forward``.
        """
        inputs = [x] + [buf["out"] for buf in buffers[:-1]]

        def input_gradient(i):
            return buffers[i - 1]["d"][:n] if self._wants_d_x[i] else None

        for split, run in reversed(self._runs):
            if not split:
                i = run[0]
                w, b = views[i]
                d_w, d_b = grad_views[i]
                self.layers[i].backward(
                    inputs[i], w, b, buffers[i], n, d_w, d_b, input_gradient(i)
                )
                continue

            def backward_part(k, lo, hi, run=run):
                for i in reversed(run):
                    self.layers[i].backward_part(
                        k, views[i][0], buffers[i], n, lo, hi, input_gradient(i)
                    )

            run_parts(n, buffers[run[0]]["threads"], backward_part)
            for i in run:
                d_w, d_b = grad_views[i]
                self.layers[i].backward_reduce(buffers[i], n, d_w, d_b)


def take_rows(X, rows, out):
    """Rows ``rows`` of X as the network's input: a copy into ``out`` for dense X, a
    row-index view for CSR X (never densified)."""
    if isinstance(X, CSRRows):
        return CSRRows(X.data, X.indices, X.indptr, rows)
    n = rows.shape[0]
    np.take(X, rows, axis=0, out=out[:n])
    return out[:n]
