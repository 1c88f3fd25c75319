"""Geometry shared by the image layers: window sizes, padding, output shapes.

Images are channels-last ``(height, width, channels)``; a ``(height, width)`` input
is one channel.
"""

from numbers import Integral


def pair(value, name, layer):
    """``value`` as a (height, width) pair of positive ints."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or not all(
        isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in values
    ):
        raise ValueError(
            f"{layer} {name} must be a positive int or a pair of them, got {value!r}."
        )
    return tuple(int(v) for v in values)


def store_hashable(spec, attribute, layer):
    """Store ``spec.attribute`` validated, lists as tuples: specs stay hashable."""
    value = getattr(spec, attribute)
    as_pair = pair(value, attribute, layer)
    object.__setattr__(
        spec, attribute, int(value) if isinstance(value, Integral) else as_pair
    )


def check_padding(padding, layer):
    if padding not in ("valid", "same"):
        raise ValueError(f"{layer} padding must be 'valid' or 'same', got {padding!r}.")


def image_shape(layer, in_shape):
    """``in_shape`` as (height, width, channels): (h, w) is one channel."""
    if len(in_shape) == 2:
        return (in_shape[0], in_shape[1], 1)
    if len(in_shape) != 3:
        raise ValueError(
            f"{layer!r} expects images of shape (height, width, channels), got "
            f"samples of shape {tuple(in_shape)}."
        )
    return tuple(in_shape)


def window_geometry(layer, in_shape, window, strides, padding):
    """Output (height, width) and the (top, left) padding of a sliding window.

    "valid": windows inside the image only; "same": ``ceil(size / stride)`` windows,
    padded evenly (the extra cell at the bottom/right), as TensorFlow and Keras do.
    """
    in_shape = image_shape(layer, in_shape)
    out, pads = [], []
    for size, k, s in zip(in_shape[:2], window, strides, strict=True):
        if padding == "valid":
            n_out = (size - k) // s + 1 if size >= k else 0
            pad = 0
        else:
            n_out = -(-size // s)
            pad = max((n_out - 1) * s + k - size, 0) // 2
        out.append(n_out)
        pads.append(pad)
    if min(out) < 1:
        raise ValueError(
            f"{layer!r} cannot slide a {window[0]}x{window[1]} window over images of "
            f"shape {tuple(in_shape)}: the output would be smaller than 1x1. Use "
            "padding='same', smaller windows or fewer layers."
        )
    return (out[0], out[1]), (pads[0], pads[1])


def images(x, n, in_shape, lo, hi):
    """Images ``[lo, hi)`` of the ``n`` samples in x, as (hi - lo, h, w, c): a view."""
    return x.reshape((n,) + tuple(in_shape))[lo:hi]
