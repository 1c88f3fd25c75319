"""ONNX operators for each layer of ``sklearn_nn.layers``, in our layout.

Tensors keep our layout through the graph: (n, features) vectors and channels-last
(n, height, width, channels) images; the image operators of ONNX are channels-first,
so Conv2D and the pooling layers transpose in and out around them (onnxruntime's
optimizer cancels the transposes between consecutive ones). Weights come from the
fitted parameter views: HWIO kernels become OIHW, our "same" padding (the extra cell
at the bottom/right) is written as explicit pads, and AvgPool2D leaves padded cells
out of its means, as ours does.
"""

import math

import numpy as np

from .._kernels.activations import LEAKY_SLOPE
from ..layers import (
    Activation,
    AvgPool2D,
    BatchNormalization,
    ChannelsFirstToLast,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    LayerNormalization,
    MaxPool2D,
    Reshape,
)

TO_CHANNELS_FIRST, TO_CHANNELS_LAST = [0, 3, 1, 2], [0, 2, 3, 1]


class Graph:
    """A thin builder over skl2onnx's scope and container.

    Parameters
    ----------
    scope, container : skl2onnx Scope and ModelComponentContainer
    proto_dtype : int
        The ONNX element type of the float tensors (float or double).
    """

    def __init__(self, scope, container, proto_dtype, np_dtype):
        self.scope, self.container = scope, container
        self.proto_dtype, self.np_dtype = proto_dtype, np_dtype

    def const(self, hint, values, proto_dtype=None, dtype=None):
        """An initializer holding ``values``; returns its name."""
        values = np.asarray(values, dtype=dtype or self.np_dtype)
        name = self.scope.get_unique_variable_name(hint)
        self.container.add_initializer(
            name, proto_dtype or self.proto_dtype, list(values.shape), values.ravel()
        )
        return name

    def shape(self, hint, dims):
        """An int64 initializer, for Reshape."""
        from onnx import TensorProto

        return self.const(hint, dims, TensorProto.INT64, np.int64)

    def squeeze(self, x, axis, op_type="Squeeze"):
        """Squeeze (or Unsqueeze) one axis: an input from opset 13, an attribute
        before."""
        if self.container.target_opset < 13:
            return self.op(op_type, [x], axes=[axis])
        return self.op(op_type, [x, self.shape("axis", [axis])])

    def unsqueeze(self, x, axis):
        """Add an axis of size 1 at ``axis``."""
        return self.squeeze(x, axis, "Unsqueeze")

    def op(self, op_type, inputs, output=None, domain=None, **attrs):
        """Add one node; returns its output's name."""
        output = output or self.scope.get_unique_variable_name(op_type.lower())
        kwargs = {"op_domain": domain} if domain else {}
        self.container.add_node(
            op_type,
            list(inputs),
            output,
            name=self.scope.get_unique_operator_name(op_type),
            **kwargs,
            **attrs,
        )
        return output


def activation(g, x, name):
    """``f(x)`` for one of our activation names."""
    if name == "identity":
        return x
    if name == "logistic":
        return g.op("Sigmoid", [x])
    if name == "tanh":
        return g.op("Tanh", [x])
    if name == "relu":
        return g.op("Relu", [x])
    if name == "leaky_relu":
        return g.op("LeakyRelu", [x], alpha=LEAKY_SLOPE)
    # gelu, the exact form: x / 2 (1 + erf(x / sqrt 2))
    scaled = g.op("Mul", [x, g.const("inv_sqrt2", 1 / math.sqrt(2))])
    one_plus = g.op("Add", [g.op("Erf", [scaled]), g.const("one", 1.0)])
    return g.op("Mul", [g.op("Mul", [x, one_plus]), g.const("half", 0.5)])


def _dense(g, layer, x, shape, params, state):
    z = g.op("MatMul", [x, g.const("kernel", params["kernel"])])
    if layer.use_bias:
        z = g.op("Add", [z, g.const("bias", params["bias"])])
    return activation(g, z, layer.activation)


def _window_pads(layer, shape):
    """ONNX (kernel, strides, pads [top, left, bottom, right]) of a 2-D window."""
    window, strides, (out_h, out_w), (top, left) = layer._geometry(shape)
    bottom = max((out_h - 1) * strides[0] + window[0] - shape[0] - top, 0)
    right = max((out_w - 1) * strides[1] + window[1] - shape[1] - left, 0)
    if layer.padding == "valid":
        bottom = right = 0
    return list(window), list(strides), [top, left, bottom, right]


def _channels(g, x, shape):
    """Images of shape (h, w) are one channel: (n, h, w) -> (n, h, w, 1)."""
    return g.unsqueeze(x, 3) if len(shape) == 2 else x


def _conv2d(g, layer, x, shape, params, state):
    window, strides, pads = _window_pads(layer, shape)
    x = _channels(g, x, shape)
    inputs = [
        g.op("Transpose", [x], perm=TO_CHANNELS_FIRST),
        g.const("kernel", params["kernel"].transpose(3, 2, 0, 1)),  # HWIO -> OIHW
    ]
    if layer.use_bias:
        inputs.append(g.const("bias", params["bias"]))
    z = g.op("Conv", inputs, kernel_shape=window, strides=strides, pads=pads)
    z = g.op("Transpose", [z], perm=TO_CHANNELS_LAST)
    return activation(g, z, layer.activation)


def _pool2d(g, layer, x, shape, params, state):
    window, strides, pads = _window_pads(layer, shape)
    x = g.op("Transpose", [_channels(g, x, shape)], perm=TO_CHANNELS_FIRST)
    attrs = {"kernel_shape": window, "strides": strides, "pads": pads}
    if isinstance(layer, AvgPool2D):
        z = g.op("AveragePool", [x], count_include_pad=0, **attrs)
    else:
        z = g.op("MaxPool", [x], **attrs)
    return g.op("Transpose", [z], perm=TO_CHANNELS_LAST)


def _batch_norm(g, layer, x, shape, params, state):
    # inference: one scale and shift per feature (the last axis)
    scale = params["gamma"] / np.sqrt(
        state["moving_variance"].astype(np.float64) + layer.epsilon
    )
    shift = params["beta"] - state["moving_mean"] * scale
    return g.op(
        "Add", [g.op("Mul", [x, g.const("scale", scale)]), g.const("shift", shift)]
    )


def _layer_norm(g, layer, x, shape, params, state):
    if g.container.target_opset < 17:
        raise ValueError(
            "LayerNormalization needs target_opset >= 17 (ONNX's LayerNormalization)."
        )
    gamma, beta = g.const("gamma", params["gamma"]), g.const("beta", params["beta"])
    return g.op("LayerNormalization", [x, gamma, beta], axis=-1, epsilon=layer.epsilon)


def _flatten(g, layer, x, shape, params, state):
    return g.op("Flatten", [x], axis=1)


def _reshape(g, layer, x, shape, params, state):
    target = g.shape("shape", [-1, *layer.output_shape(shape)])
    return g.op("Reshape", [x, target])


def _to_channels_last(g, layer, x, shape, params, state):
    return g.op("Transpose", [x], perm=TO_CHANNELS_LAST)


def _identity(g, layer, x, shape, params, state):
    return x


def _activation(g, layer, x, shape, params, state):
    return activation(g, x, layer.activation)


#: layer class -> emitter(graph, layer, input name, input sample shape, params, state)
EMITTERS = {
    Dense: _dense,
    Activation: _activation,
    Dropout: _identity,  # inference
    Flatten: _flatten,
    Reshape: _reshape,
    Conv2D: _conv2d,
    MaxPool2D: _pool2d,
    AvgPool2D: _pool2d,
    BatchNormalization: _batch_norm,
    LayerNormalization: _layer_norm,
    ChannelsFirstToLast: _to_channels_last,
}


#: layers onnxruntime runs in double (it has no double Conv, AveragePool,
#: RNN/GRU/LSTM or Erf: networks with those compute in float32)
DOUBLE_OK = (
    Dense,
    Activation,
    Dropout,
    Flatten,
    Reshape,
    BatchNormalization,
    LayerNormalization,
)


#: layer class -> emitter taking the padding mask too (filled by the sequence module)
MASKED_EMITTERS = {}


def check_exportable(network):
    """A ValueError naming the first layer that has no ONNX converter."""
    for i, layer in enumerate(network.layers):
        if type(layer) not in EMITTERS:
            supported = ", ".join(sorted(cls.__name__ for cls in EMITTERS))
            raise ValueError(
                f"Layer {i}, {layer!r}, has no ONNX converter (converters exist for "
                f"{supported})."
            )


def network_outputs(g, network, params, state, x):
    """The network's raw outputs (n, n_outputs) for the graph's input ``x``."""
    check_exportable(network)
    in_shape = network.in_shapes[0]
    if len(in_shape) > 1:  # rows -> samples of their shape
        x = g.op("Reshape", [x, g.shape("in_shape", [-1, *in_shape])])
    views, state_views = network.views(params), network.state_views(state)
    masks = {}  # padding masks (n, T), 1.0 for real steps, by the layer making them
    for i, (layer, shape, p, s) in enumerate(
        zip(network.layers, network.in_shapes, views, state_views, strict=True)
    ):
        source = network._mask_source[i]
        if layer.makes_mask:  # Embedding(mask_zero=True): id 0 is padding
            zero = g.const("zero", 0.0)
            masks[i] = g.op("Cast", [g.op("Not", [g.op("Equal", [x, zero])])],
                            to=g.proto_dtype)  # fmt: skip
        if source is not None and layer.uses_mask:
            if type(layer) not in MASKED_EMITTERS:
                raise ValueError(
                    f"{layer!r} gets a padding mask, which ONNX's recurrent "
                    "operators cannot skip (only trailing padding): export a "
                    "network whose Embedding has mask_zero=False."
                )
            x = MASKED_EMITTERS[type(layer)](g, layer, x, shape, p, s, masks[source])
            continue
        x = EMITTERS[type(layer)](g, layer, x, shape, p, s)
    if len(network.out_shape) > 1:
        x = g.op("Flatten", [x], axis=1)
    return x
