"""ONNX operators for the sequence and text layers: (n, timesteps, features) tensors.

Recurrent layers map onto ONNX's RNN / GRU / LSTM operators (time-major, so the
input is transposed in and the output out): weights transposed to (gates x units,
inputs), GRU with ``linear_before_reset=1`` (our reset-after GRU), LSTM's gates
reordered from our (Keras's) i, f, c, o to ONNX's i, o, f, c. Attention is MatMul and
Softmax per head; the Transformer block is its parts'. Padding masks
(``Embedding(mask_zero=True)``) reach attention (padded keys get -inf scores, a query
with no key gets zero weights) and GlobalAveragePooling1D (a masked mean); a mask
into a recurrent layer is refused, since ONNX's recurrent operators skip trailing
padding only, where ours carry the state over padding anywhere.
"""

import numpy as np
from onnx import TensorProto

from ..layers import (
    GRU,
    LSTM,
    Bidirectional,
    Conv1D,
    Embedding,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPool1D,
    MultiHeadSelfAttention,
    PositionalEncoding,
    SimpleRNN,
    TransformerEncoder,
)
from ..layers.attention import head_size
from ..layers.base import unprefixed
from ..layers.embedding import sinusoidal_encoding
from ._layers import EMITTERS, _conv2d, _pool2d

#: our SimpleRNN activations as ONNX RNN activations
_RNN_ACTIVATIONS = {"tanh": "Tanh", "relu": "Relu", "logistic": "Sigmoid"}


def _gate_blocks(w, n_gates, order):
    """The last axis of ``w`` cut into gate blocks and put in ``order``."""
    blocks = np.split(w, n_gates, axis=-1)
    return np.concatenate([blocks[i] for i in order], axis=-1)


def _onnx_weights(layer, params):
    """(W, R, B) of one direction: (G u, inputs), (G u, u), (2 G u,)."""
    kernel, recurrent, bias = (
        params["kernel"],
        params["recurrent_kernel"],
        params["bias"],
    )
    recurrent_bias = params.get("recurrent_bias", np.zeros_like(bias))
    if isinstance(layer, LSTM):
        order = (0, 3, 1, 2)  # i, f, c, o -> i, o, f, c
        kernel, recurrent, bias = (
            _gate_blocks(a, 4, order) for a in (kernel, recurrent, bias)
        )
        recurrent_bias = np.zeros_like(bias)
    return kernel.T, recurrent.T, np.concatenate([bias, recurrent_bias])


def _recurrent_op(g, layers_params, x, direction):
    """The ONNX operator over time-major ``x`` for one layer (or a pair of
    directions); returns (Y, Y_h) names."""
    layer = layers_params[0][0]
    weights = [_onnx_weights(lay, p) for lay, p in layers_params]
    W, R, B = (g.const(name, np.stack([w[i] for w in weights]))
               for i, name in enumerate(("W", "R", "B")))  # fmt: skip
    attrs = {"hidden_size": layer.units, "direction": direction}
    if isinstance(layer, GRU):
        op = "GRU"
        attrs["linear_before_reset"] = 1
    elif isinstance(layer, LSTM):
        op = "LSTM"
    else:
        op = "RNN"
        if layer.activation not in _RNN_ACTIVATIONS:
            raise ValueError(
                f"{layer!r}: ONNX's RNN has no {layer.activation!r} activation (it "
                f"has {sorted(_RNN_ACTIVATIONS)})."
            )
        n_dirs = 2 if direction == "bidirectional" else 1
        attrs["activations"] = [_RNN_ACTIVATIONS[layer.activation]] * n_dirs
    y = g.scope.get_unique_variable_name("Y")
    y_h = g.scope.get_unique_variable_name("Y_h")
    outputs = [y, y_h]
    if op == "LSTM":
        outputs.append(g.scope.get_unique_variable_name("Y_c"))
    name = g.scope.get_unique_operator_name(op)
    g.container.add_node(op, [x, W, R, B], outputs, name=name, **attrs)
    return y, y_h


def _recurrent(g, layer, x, shape, params, state):
    time_major = g.op("Transpose", [x], perm=[1, 0, 2])
    y, y_h = _recurrent_op(g, [(layer, params)], time_major, "forward")
    if layer.return_sequences:  # Y (T, 1, n, u) -> (n, T, u)
        return g.op("Transpose", [g.squeeze(y, 1)], perm=[1, 0, 2])
    return g.squeeze(y_h, 0)  # (1, n, u) -> (n, u)


def _bidirectional(g, layer, x, shape, params, state):
    inner = layer.layer
    forward = {
        k[len("forward_") :]: v for k, v in params.items() if k.startswith("forward_")
    }
    backward = {
        k[len("backward_") :]: v for k, v in params.items() if k.startswith("backward_")
    }
    time_major = g.op("Transpose", [x], perm=[1, 0, 2])
    y, y_h = _recurrent_op(g, [(inner, forward), (inner, backward)], time_major,
                           "bidirectional")  # fmt: skip
    if inner.return_sequences:  # (T, 2, n, u) -> (n, T, 2, u) -> (n, T, 2u)
        y = g.op("Transpose", [y], perm=[2, 0, 1, 3])
        return g.op("Reshape", [y, g.shape("width", [0, 0, 2 * inner.units])])
    y_h = g.op("Transpose", [y_h], perm=[1, 0, 2])  # (2, n, u) -> (n, 2, u)
    return g.op("Reshape", [y_h, g.shape("width", [0, 2 * inner.units])])


def _attention(g, layer, x, shape, params, state, mask=None):
    n_steps, width = shape
    heads, key_dim = layer.num_heads, head_size(layer, width)
    qkv = g.op("Add", [g.op("MatMul", [x, g.const("qkv_kernel", params["qkv_kernel"])]),
                       g.const("qkv_bias", params["qkv_bias"])])  # fmt: skip
    # (n, T, 3 H K) -> (n, T, 3, H, K) -> (3, n, H, T, K)
    qkv = g.op("Reshape", [qkv, g.shape("heads", [0, 0, 3, heads, key_dim])])
    qkv = g.op("Transpose", [qkv], perm=[2, 0, 3, 1, 4])
    q, k, v = (g.op("Gather", [qkv, g.shape("which", i)], axis=0) for i in range(3))
    scores = g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])])
    scores = g.op("Mul", [scores, g.const("scale", 1 / np.sqrt(key_dim))])
    if layer.causal:  # no weight on later timesteps
        later = np.triu(np.full((n_steps, n_steps), -np.inf), k=1)
        scores = g.op("Add", [scores, g.const("causal", later)])
    if mask is not None:  # padded keys get no weight: -inf before the softmax
        keys = g.op("Cast", [g.op("Reshape", [mask, g.shape("keys", [0, 1, 1, -1])])],
                    to=TensorProto.BOOL)  # fmt: skip
        scores = g.op("Where", [keys, scores, g.const("minus_inf", -np.inf)])
    weights = g.op("Softmax", [scores], axis=-1)
    if mask is not None or layer.causal:
        # a query with no key to attend to: zero weights (softmax of -inf: NaN)
        weights = g.op("Where", [g.op("IsNaN", [weights]), g.const("zero", 0.0),
                                 weights])  # fmt: skip
    context = g.op("Transpose", [g.op("MatMul", [weights, v])], perm=[0, 2, 1, 3])
    context = g.op("Reshape", [context, g.shape("inner", [0, 0, heads * key_dim])])
    out = g.op("MatMul", [context, g.const("output_kernel", params["output_kernel"])])
    return g.op("Add", [out, g.const("output_bias", params["output_bias"])])


def _transformer(g, layer, x, shape, params, state, mask=None):
    parts = {
        prefix: (part, part_shape)
        for prefix, part, part_shape, _ in layer._parts(shape)
    }

    def run(prefix, inputs):
        part, part_shape = parts[prefix]
        own = unprefixed(params, prefix)
        if prefix == "attention_":  # the one part that reads the padding mask
            return _attention(g, part, inputs, part_shape, own, {}, mask)
        return EMITTERS[type(part)](g, part, inputs, part_shape, own, {})

    y = run("norm1_", g.op("Add", [x, run("attention_", x)]))  # dropout: identity
    ff = run("ff2_", run("ff1_", y))
    return run("norm2_", g.op("Add", [y, ff]))


def _embedding(g, layer, x, shape, params, state):
    ids = g.op("Cast", [x], to=TensorProto.INT64)
    return g.op("Gather", [g.const("embeddings", params["embeddings"]), ids], axis=0)


def _positional_encoding(g, layer, x, shape, params, state):
    encoding = sinusoidal_encoding(*shape, layer.max_wavelength)
    return g.op("Add", [x, g.const("encoding", encoding)])


def _on_image(emit):
    """A 1-D layer as its 2-D layer over 1 x timesteps images."""

    def emitter(g, layer, x, shape, params, state):
        image_shape = (1, *shape)
        images = g.unsqueeze(x, 1)
        own = {k: v.reshape((1, *v.shape)) if k == "kernel" else v
               for k, v in params.items()}  # fmt: skip
        out = emit(g, layer._image, images, image_shape, own, state)
        return g.squeeze(out, 1)

    return emitter


def _reduce(g, op, x, axis, keepdims):
    """A reduction over ``axis``: axes an input from opset 18 (ReduceSum: 13)."""
    since = 13 if op == "ReduceSum" else 18
    if g.container.target_opset < since:
        return g.op(op, [x], axes=[axis], keepdims=keepdims)
    return g.op(op, [x, g.shape("axis", [axis])], keepdims=keepdims)


def _masked_average(g, layer, x, shape, params, state, mask):
    # sum_t mask x / max(sum_t mask, 1): a sequence of padding only pools to 0
    weights = g.unsqueeze(mask, 2)
    total = _reduce(g, "ReduceSum", g.op("Mul", [x, weights]), 1, 0)
    count = _reduce(g, "ReduceSum", mask, 1, 1)
    return g.op("Div", [total, g.op("Max", [count, g.const("one", 1.0)])])


def _global_pool(op):
    def emitter(g, layer, x, shape, params, state):
        return _reduce(g, op, x, 1, 0)

    return emitter


#: the layers that read a padding mask, with it
MASKED_SEQUENCE_EMITTERS = {
    MultiHeadSelfAttention: _attention,
    TransformerEncoder: _transformer,
    GlobalAveragePooling1D: _masked_average,
}

#: the sequence layers onnxruntime runs in double
SEQUENCE_DOUBLE_OK = (
    Embedding,
    PositionalEncoding,
    MultiHeadSelfAttention,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
)

SEQUENCE_EMITTERS = {
    SimpleRNN: _recurrent,
    GRU: _recurrent,
    LSTM: _recurrent,
    Bidirectional: _bidirectional,
    MultiHeadSelfAttention: _attention,
    TransformerEncoder: _transformer,
    Embedding: _embedding,
    PositionalEncoding: _positional_encoding,
    Conv1D: _on_image(_conv2d),
    MaxPool1D: _on_image(_pool2d),
    GlobalAveragePooling1D: _global_pool("ReduceMean"),
    GlobalMaxPooling1D: _global_pool("ReduceMax"),
}
