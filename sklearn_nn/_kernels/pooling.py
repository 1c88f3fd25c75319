"""2-D max and average pooling over NHWC images, forward and backward.

A window of ``pool_h x pool_w`` cells moves by ``stride_h, stride_w``; with padding
(``pad_top``, ``pad_left`` cells before the image) the padded cells take no part: max
pooling ignores them and average pooling divides by the count of real cells (as
TensorFlow's "same" pooling does). Layer specs choose paddings with at least one real
cell in every window.
"""

import numpy as np

from ._jit import inline, jit


def argmax_dtype(height, width):
    """The integer dtype of max pooling's ``argmax`` for images of ``height x width``.

    int32 while the flat index fits: half the bytes of intp, which max pooling's
    forward writes and its backward reads for every output (the reference CNN's
    first pooling: forward 137 -> 121 us, backward 91 -> 64 us a part of 8 images).
    """
    return np.int32 if int(height) * int(width) < 2**31 else np.intp


@inline
def _window(out_index, stride, pad, pool, size):
    """[start, stop) of the real cells of window ``out_index`` along one axis."""
    start = out_index * stride - pad
    return max(start, 0), min(start + pool, size)


@jit
def max_pool2d_forward(
    x, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left, out, argmax
):
    """``out[i, oh, ow, c]`` = max of x over the window; ``argmax`` its flat h*w + w.

    Shapes: x (n, h, w, c); out and argmax (n, out_h, out_w, c); argmax of any
    integer dtype that holds ``h * w`` (``argmax_dtype``). A NaN in a window wins,
    so it reaches the loss.
    """
    n, height, width, channels = x.shape
    out_h, out_w = out.shape[1], out.shape[2]
    for i in range(n):
        for oh in range(out_h):
            h_start, h_stop = _window(oh, stride_h, pad_top, pool_h, height)
            for ow in range(out_w):
                w_start, w_stop = _window(ow, stride_w, pad_left, pool_w, width)
                for c in range(channels):
                    out[i, oh, ow, c] = x[i, h_start, w_start, c]
                    argmax[i, oh, ow, c] = h_start * width + w_start
                for h in range(h_start, h_stop):
                    for w in range(w_start, w_stop):
                        for c in range(channels):
                            value = x[i, h, w, c]
                            # a NaN wins and stays, so it reaches the loss
                            if value > out[i, oh, ow, c] or value != value:
                                out[i, oh, ow, c] = value
                                argmax[i, oh, ow, c] = h * width + w


@jit
def _max_pool2d_backward_tiles(d_out, argmax, pool_h, pool_w, d_x):
    # disjoint windows from the top-left corner: write each cell once, no zero fill
    # (a separate pass over d_x, the larger array); only the rows and columns no
    # window reaches (a "valid" remainder) are zeroed
    n, out_h, out_w, channels = d_out.shape
    height, width = d_x.shape[1], d_x.shape[2]
    for i in range(n):
        for oh in range(out_h):
            for ow in range(out_w):
                for h in range(oh * pool_h, (oh + 1) * pool_h):
                    for w in range(ow * pool_w, (ow + 1) * pool_w):
                        cell = h * width + w
                        for c in range(channels):
                            hit = argmax[i, oh, ow, c] == cell
                            d_x[i, h, w, c] = d_out[i, oh, ow, c] if hit else 0
            for h in range(oh * pool_h, (oh + 1) * pool_h):
                for w in range(out_w * pool_w, width):
                    for c in range(channels):
                        d_x[i, h, w, c] = 0
        for h in range(out_h * pool_h, height):
            for w in range(width):
                for c in range(channels):
                    d_x[i, h, w, c] = 0


@jit
def _max_pool2d_backward_scatter(d_out, argmax, d_x):
    # overlapping or partial windows: zero d_x, then add each gradient at its max
    n, out_h, out_w, channels = d_out.shape
    width = d_x.shape[2]
    d_x[...] = 0
    for i in range(n):
        for oh in range(out_h):
            for ow in range(out_w):
                for c in range(channels):
                    flat = argmax[i, oh, ow, c]
                    d_x[i, flat // width, flat % width, c] += d_out[i, oh, ow, c]


def max_pool2d_backward(
    d_out, argmax, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left, d_x
):
    """Route each ``d_out`` entry to its window's max.

    Shapes: d_out and argmax (n, out_h, out_w, c); d_x (n, h, w, c), overwritten.
    Python choosing between two kernels, so that a fit compiles only the one its
    geometry needs: disjoint windows inside the image from its top-left corner
    (``stride == pool``, no padding, no window past the bottom or right edge: each
    cell in at most one window), or any other.
    """
    out_h, out_w = d_out.shape[1], d_out.shape[2]
    disjoint = (
        stride_h == pool_h
        and stride_w == pool_w
        and pad_top == 0
        and pad_left == 0
        and out_h * pool_h <= d_x.shape[1]
        and out_w * pool_w <= d_x.shape[2]
    )
    if disjoint:
        _max_pool2d_backward_tiles(d_out, argmax, pool_h, pool_w, d_x)
    else:
        _max_pool2d_backward_scatter(d_out, argmax, d_x)


@jit
def avg_pool2d_forward(x, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left, out):
    """``out[i, oh, ow, c]`` = mean of x over the window's real cells.

    Shapes: x (n, h, w, c); out (n, out_h, out_w, c).
    """
    n, height, width, channels = x.shape
    out_h, out_w = out.shape[1], out.shape[2]
    for i in range(n):
        for oh in range(out_h):
            h_start, h_stop = _window(oh, stride_h, pad_top, pool_h, height)
            for ow in range(out_w):
                w_start, w_stop = _window(ow, stride_w, pad_left, pool_w, width)
                scale = x.dtype.type(1.0 / ((h_stop - h_start) * (w_stop - w_start)))
                for c in range(channels):
                    out[i, oh, ow, c] = 0
                for h in range(h_start, h_stop):
                    for w in range(w_start, w_stop):
                        for c in range(channels):
                            out[i, oh, ow, c] += x[i, h, w, c]
                for c in range(channels):
                    out[i, oh, ow, c] *= scale


@jit
def avg_pool2d_backward(
    d_out, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left, d_x
):
    """Spread each ``d_out`` entry evenly over its window's real cells.

    Shapes: d_out (n, out_h, out_w, c); d_x (n, h, w, c), overwritten.
    """
    n, out_h, out_w, channels = d_out.shape
    height, width = d_x.shape[1], d_x.shape[2]
    d_x[...] = 0
    for i in range(n):
        for oh in range(out_h):
            h_start, h_stop = _window(oh, stride_h, pad_top, pool_h, height)
            for ow in range(out_w):
                w_start, w_stop = _window(ow, stride_w, pad_left, pool_w, width)
                scale = d_out.dtype.type(
                    1.0 / ((h_stop - h_start) * (w_stop - w_start))
                )
                for h in range(h_start, h_stop):
                    for w in range(w_start, w_stop):
                        for c in range(channels):
                            d_x[i, h, w, c] += d_out[i, oh, ow, c] * scale
