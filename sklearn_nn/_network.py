"""A stack of layer specs over one flat parameter buffer and one flat state buffer.

``Network`` holds shapes and offsets only (it pickles trivially); ``BoundNetwork`` is a
network with the arrays of one fit or predict (views into the buffers, the layers'
scratch buffers) and runs forward and backward passes over them.

Layout of the parameter buffer, from the layers' ``ParamSpec`` declarations: the
penalised parameters of trainable layers first, then their other parameters, then
those of frozen layers (``trainable=False``). So the L1/L2 penalty covers exactly the
prefix ``flat[:n_penalized]`` and the optimizer updates exactly ``flat[:n_trainable]``,
each in one kernel call. (For Dense layers: every weight matrix, then every bias, as
scikit-learn orders ``coefs_`` and ``intercepts_``.)
"""

import math
import warnings

import numpy as np

from ._initializers import draw
from ._threads import run_parts
from .layers.base import Batch, LayerArrays


def layer_shapes(layers, in_shape):
    """Each layer's input sample shape, and the last layer's output shape.

    A ValueError names the layer that cannot take its input, the layer below it and
    the shape.
    """
    in_shapes = []
    shape = tuple(in_shape)
    for i, layer in enumerate(layers):
        in_shapes.append(shape)
        try:
            shape = tuple(layer.output_shape(shape))
        except ValueError as exc:
            below = (
                f"the output of layer {i - 1}, {layers[i - 1]!r},"
                if i
                else "the network's input,"
            )
            raise ValueError(
                f"Layer {i}, {layer!r}, cannot take {below} samples of shape "
                f"{shape}: {exc}"
            ) from None
    return in_shapes, shape


class Network:
    """Shapes and offsets of a layer stack; holds no arrays.

    Parameters
    ----------
    layers : list of Layer
        From ``sklearn_nn.layers``.
    in_shape : tuple of int
        Shape of one input sample.
    """

    def __init__(self, layers, in_shape):
        self.layers = list(layers)
        self.in_shapes, self.out_shape = layer_shapes(self.layers, in_shape)
        self._param_specs = [
            _checked_specs(layer, layer.param_specs(s), "param_specs")
            for layer, s in zip(self.layers, self.in_shapes, strict=True)
        ]
        self._state_specs = [
            _checked_specs(layer, layer.state_specs(s), "state_specs")
            for layer, s in zip(self.layers, self.in_shapes, strict=True)
        ]
        for layer in self.layers:
            if layer.needs_rng and layer.splits_batch:
                raise ValueError(
                    f"{layer!r} both needs random numbers and splits its batch over "
                    "threads, which would share one generator: use one or the other."
                )
        self._param_slices, sizes = _layout(
            self.layers,
            self._param_specs,
            groups=[
                lambda layer, spec: layer.trainable and spec.penalized,
                lambda layer, spec: layer.trainable and not spec.penalized,
                lambda layer, spec: not layer.trainable,
            ],
        )
        self.n_penalized = sizes[0]
        self.n_trainable = sizes[0] + sizes[1]
        self.n_params = sum(sizes)
        self._state_slices, (self.n_state,) = _layout(
            self.layers, self._state_specs, groups=[lambda layer, spec: True]
        )
        self._runs = self._segments()
        self._mask_source = _mask_sources(self.layers)
        trained = [
            bool(s) and layer.trainable
            for layer, s in zip(self.layers, self._param_specs, strict=True)
        ]
        # a layer needs its input gradient only if a trainable layer is below it
        # (not the first convolution, nor anything above frozen layers only)
        self._wants_d_x = [any(trained[:i]) for i in range(len(self.layers))]
        self._needs_backward = [
            t or w for t, w in zip(trained, self._wants_d_x, strict=True)
        ]

    def __setstate__(self, state):
        # networks pickled before padding masks existed have no _mask_source
        self.__dict__.update(state)
        if "_mask_source" not in state:
            self._mask_source = _mask_sources(self.layers)

    @property
    def splits_batch(self):
        """Whether some layer runs its batch in parts on threads."""
        return any(layer.splits_batch for layer in self.layers)

    @property
    def kernel_layers(self):
        """Indices of the layers with a ``kernel`` (``coefs_`` / ``intercepts_``)."""
        return [
            i
            for i, specs in enumerate(self._param_specs)
            if any(spec.name == "kernel" for spec in specs)
        ]

    def views(self, flat):
        """Per layer, a dict of parameter views into ``flat`` by name."""
        return _views(flat, self._param_slices)

    def state_views(self, state):
        """Per layer, a dict of state views into ``state`` by name."""
        return _views(state, self._state_slices)

    def init_params(
        self, random_state, dtype, weight_init="glorot_uniform", glorot_factor=6.0
    ):
        """A new parameter buffer, drawn layer by layer (see ``_initializers``).

        ``weight_init`` is the initialiser of kernels whose layer names none;
        ``glorot_factor`` is glorot_uniform's ``f`` (scikit-learn: 2 for logistic
        networks, 6 otherwise). Biases of glorot_uniform kernels are drawn from the
        kernel's uniform, as scikit-learn draws them; others start at zero.
        """
        flat = np.zeros(self.n_params, dtype=dtype)
        for specs, views in zip(self._param_specs, self.views(flat), strict=True):
            kernel_init = next(
                (s.init or weight_init for s in specs if s.name == "kernel"), None
            )
            for spec in specs:
                init = spec.init or weight_init
                if init == "bias" and kernel_init != "glorot_uniform":
                    init = "zeros"
                views[spec.name][...] = draw(
                    init, spec.shape, spec.fans, random_state, glorot_factor
                )
        return flat

    def init_state(self, dtype):
        """A new state buffer, each array at its ``StateSpec.fill``."""
        state = np.zeros(self.n_state, dtype=dtype)
        for specs, views in zip(
            self._state_specs, self.state_views(state), strict=True
        ):
            for spec in specs:
                views[spec.name][...] = spec.fill
        return state

    def allocate(self, n_rows, dtype):
        """Per-layer buffers (activations, their gradients) for ``n_rows`` samples;
        each layer's ``"d"`` must hold ``n_rows`` output samples (the layer above
        writes them)."""
        buffers = []
        for i, layer in enumerate(self.layers):
            buf = layer.allocate(self.in_shapes[i], n_rows, dtype)
            out = self.in_shapes[i + 1] if i + 1 < len(self.layers) else self.out_shape
            d = buf.get("d")
            if d is None or d.size != n_rows * math.prod(out) or d.dtype != dtype:
                raise ValueError(
                    f"{layer!r}.allocate must return a {np.dtype(dtype).name} 'd' "
                    f"buffer of {n_rows} x {out} values, got "
                    f"{None if d is None else (d.shape, d.dtype.name)}."
                )
            buffers.append(buf)
        return buffers

    def bind(self, params, state, n_rows, grads=None, n_threads=1, constants=None):
        """This network with arrays for batches of up to ``n_rows`` samples."""
        return BoundNetwork(self, params, state, n_rows, grads, n_threads, constants)

    def _segments(self):
        """The layer indices cut into runs: consecutive split layers (see
        ``sklearn_nn._threads``) form one run, any other layer is a run alone."""
        segments = []
        for i, layer in enumerate(self.layers):
            split = layer.splits_batch
            if split and segments and segments[-1][0]:
                segments[-1][1].append(i)
            else:
                segments.append((split, [i]))
        return segments


def _mask_sources(layers):
    """Per layer, the index of the layer whose padding mask it gets, or None: the
    nearest layer below that makes one, if every layer between passes it on."""
    sources, source = [], None
    for layer in layers:
        sources.append(source)
        if source is not None and not (layer.uses_mask or layer.passes_mask):
            warnings.warn(
                f"{layer!r} does not support the padding mask of "
                f"{layers[source]!r}: padded timesteps take part in its output, and "
                "the layers above see no mask. Put a layer that uses masks (a "
                "recurrent layer, GlobalAveragePooling1D, attention) first.",
                UserWarning,
                stacklevel=2,
            )
        if layer.makes_mask:
            source = len(sources) - 1
        elif not layer.passes_mask:
            source = None
    return sources


def _checked_specs(layer, specs, method):
    """A layer's declarations, refused if names repeat or a shape is not positive."""
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"{layer!r}.{method} declares a name twice: {names}.")
    for spec in specs:
        shape = tuple(spec.shape)
        if not all(isinstance(v, (int, np.integer)) and v >= 1 for v in shape):
            raise ValueError(
                f"{layer!r}.{method}: {spec.name!r} has shape {shape}; every "
                "dimension must be a positive int."
            )
    return list(specs)


def _layout(layers, specs_per_layer, groups):
    """Offsets of every declared array: group by group, then layer by layer.

    Returns, per layer, ``{name: (offset, shape)}``, and the size of each group.
    """
    slices = [{} for _ in layers]
    sizes = []
    offset = 0
    for belongs in groups:
        start = offset
        for i, (layer, specs) in enumerate(zip(layers, specs_per_layer, strict=True)):
            for spec in specs:
                if belongs(layer, spec):
                    slices[i][spec.name] = (offset, tuple(spec.shape))
                    offset += math.prod(spec.shape)
        sizes.append(offset - start)
    return slices, sizes


def _views(flat, slices):
    return [
        {
            name: flat[start : start + math.prod(shape)].reshape(shape)
            for name, (start, shape) in layer_slices.items()
        }
        for layer_slices in slices
    ]


class BoundNetwork:
    """A network with the arrays of one fit or predict.

    Parameters
    ----------
    network : Network
    params, state : ndarray of shape (n_params,), (n_state,)
        The flat buffers (read; updated in place by the caller's optimizer, and
        the state by layers in training).
    n_rows : int
        The largest batch; buffers are allocated for it, once.
    grads : ndarray of shape (n_params,), default=None
        Gradient buffer, for ``backward``.
    n_threads : int, default=1
        Threads for the layers that split their batch.
    constants : list of dict, default=None
        Per layer, what a compressed model predicts with besides its parameters
        (see ``LayerArrays.constants``).
    """

    def __init__(
        self, network, params, state, n_rows, grads=None, n_threads=1, constants=None
    ):
        self.network = network
        self.n_threads = n_threads
        self._training = False
        self._rng = None
        grad_views = (
            network.views(grads) if grads is not None else [{}] * len(network.layers)
        )
        if constants is None:
            constants = [None] * len(network.layers)
        self.arrays = [
            LayerArrays(p, g, s, b, shape, c)
            for p, g, s, b, shape, c in zip(
                network.views(params),
                grad_views,
                network.state_views(state),
                network.allocate(n_rows, params.dtype),
                network.in_shapes,
                constants,
                strict=True,
            )
        ]

    def output_gradient(self, n):
        """Where the loss writes its gradient w.r.t. the outputs: (n, *out_shape)."""
        return self.arrays[-1].buffers["d"][:n]

    def forward(self, x, n, training=False, rng=None):
        """Outputs of the last layer (its raw scores z) for ``n`` samples of ``x``.

        A run of split layers goes part by part in one parallel region: each part
        of the batch passes through all of them on one thread.
        """
        layers, arrays = self.network.layers, self.arrays
        self._training = training  # backward runs in the mode of the last forward
        self._rng = rng
        for split, run in self.network._runs:
            if not split:
                i = run[0]
                batch = self._batch(i, n, 0, n, 0)
                x = arrays[i].out = layers[i].forward(x, arrays[i], batch)
                continue

            def forward_part(k, lo, hi, run=run, x_run=x):
                x_part = x_run
                for i in run:
                    batch = self._batch(i, n, lo, hi, k)
                    x_part = arrays[i].out = layers[i].forward(x_part, arrays[i], batch)

            run_parts(n, self.n_threads, forward_part)
            x = arrays[run[-1]].out
        return x

    def _batch(self, i, n, lo, hi, part):
        """Layer ``i``'s ``Batch``: rows, mode, random numbers and padding mask."""
        source = self.network._mask_source[i]
        mask = None if source is None else self.arrays[source].buffers["mask"][:n]
        return Batch(n, lo, hi, part, self._training, self._rng, mask, self.n_threads)

    def backward(self, x, n):
        """Fill the gradient buffer from ``output_gradient(n)``.

        ``x`` is the network's input; each layer reads its own input as the previous
        layer's output, and writes its input gradient into the previous layer's
        ``"d"`` buffer, unless no trainable layer is below (``d_x`` None). Layers
        with nothing to compute (frozen, nothing trainable below) are skipped.
        """
        network, layers, arrays = self.network, self.network.layers, self.arrays
        inputs = [x] + [a.out for a in arrays[:-1]]
        needed = network._needs_backward

        def input_gradient(i):
            return arrays[i - 1].buffers["d"][:n] if network._wants_d_x[i] else None

        self._rng = None
        for split, run in reversed(network._runs):
            if not split:
                i = run[0]
                if needed[i]:
                    batch = self._batch(i, n, 0, n, 0)
                    layers[i].backward(inputs[i], arrays[i], batch, input_gradient(i))
                continue

            def backward_part(k, lo, hi, run=run):
                for i in reversed(run):
                    if needed[i]:
                        batch = self._batch(i, n, lo, hi, k)
                        layers[i].backward(
                            inputs[i], arrays[i], batch, input_gradient(i)
                        )

            run_parts(n, self.n_threads, backward_part)
            for i in run:
                if needed[i]:
                    layers[i].reduce_gradients(arrays[i], n)
