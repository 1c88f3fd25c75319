"""The CNN workload of ``bench_cnn.py``: the reference network, its data and FLOPs.

Conv2D(32, 3x3, relu, valid) - MaxPool(2) - Conv2D(64, 3x3, relu, valid) -
MaxPool(2) - Flatten - Dense(128, relu) - Dropout(0.5) - Dense(10, softmax), Adam at
lr 1e-3 (no L2 penalty, no weight decay), batch 64, in ``sklearn_nn`` (rows of X,
``data_format="channels_first"``) and in PyTorch (the same rows viewed as NCHW
tensors, cross-entropy, a shuffled mini-batch loop).

sklearn_nn, numba and torch are imported lazily: the Numba cache directory must be
chosen before numba is imported, and the torch part runs without sklearn_nn.
"""

from dataclasses import dataclass, field

import numpy as np
from _harness import import_torch, log

N_CLASSES = 10
CONV_FILTERS = (32, 64)
KERNEL_SIZE = 3
POOL_SIZE = 2
HIDDEN = (128,)
DROPOUT = 0.5
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
#: Images per forward call of the PyTorch ``predict_proba`` (sklearn_nn chunks its
#: input itself, by a memory budget). A short sweep on the 2-core machine (CIFAR
#: shape, 32 to 1000 images per call) found 64 to 128 fastest at 1 and 2 threads, and
#: 1000 about 2x slower: PyTorch gets its best chunk here.
TORCH_PREDICT_CHUNK = 128
PEER_NAMES = ("sklearn_nn", "torch")


@dataclass(frozen=True)
class ImageSet:
    """Shape of the images of one synthetic data set.

    Attributes
    ----------
    name : str
        Short name, as given to ``--datasets``.
    channels, height, width : int
        Image shape; a row of X stores it channels-first, ``(c, h, w)``.
    """

    name: str
    channels: int
    height: int
    width: int

    @property
    def n_features(self):
        """Values per row of X."""
        return self.channels * self.height * self.width

    @property
    def label(self):
        """Name and shape, for the report."""
        return f"{self.name} {self.channels}x{self.height}x{self.width}"


IMAGE_SETS = {
    "cifar": ImageSet("cifar", 3, 32, 32),
    "mnist": ImageSet("mnist", 1, 28, 28),
}


def layer_gemms(image):
    """The forward GEMM of each convolution and dense layer, per image.

    A valid 3x3 convolution of a (c, h, w) input into f filters is, by im2col, a
    GEMM ``(positions, c * 9) @ (c * 9, f)`` with ``(h - 2) * (w - 2)`` positions;
    a 2x2 max pooling then floors each side to half. A dense layer is ``(1, in) @
    (in, out)``. Returns ``[(layer name, positions p, k, n)]`` for an `ImageSet`: a
    layer's forward pass is ``p * k * n`` multiply-adds per image.
    """
    channels, height, width = image.channels, image.height, image.width
    gemms = []
    for index, filters in enumerate(CONV_FILTERS):
        height, width = height - KERNEL_SIZE + 1, width - KERNEL_SIZE + 1
        gemms.append(
            (f"conv{index + 1}", height * width, channels * KERNEL_SIZE**2, filters)
        )
        channels = filters
        height, width = height // POOL_SIZE, width // POOL_SIZE
    n_in = channels * height * width
    for index, units in enumerate((*HIDDEN, N_CLASSES)):
        gemms.append((f"dense{index + 1}", 1, n_in, units))
        n_in = units
    return gemms


def forward_flops_per_image(image):
    """Forward FLOPs per image: ``sum over conv/dense layers of 2 * p * k * n``."""
    return sum(2 * p * k * n for _, p, k, n in layer_gemms(image))


def train_flops_per_image(image):
    """Training FLOPs per image: forward plus backward.

    ``train = forward + backward``, ``backward = 2 * forward - forward(conv1)``: each
    layer's backward pass is a weight-gradient GEMM and an input-gradient GEMM of the
    same size as its forward GEMM, except the first convolution's, whose input
    gradient (w.r.t. X) nobody computes. Hence::

        train = 3 * forward - 2 * MACs(conv1)
    """
    _, p, k, n = layer_gemms(image)[0]
    return 3 * forward_flops_per_image(image) - 2 * p * k * n


def step_gemms(image, batch):
    """The GEMMs of one im2col training step at ``batch``.

    Per layer: forward ``(batch * p, k) @ (k, n)``, weight gradient ``(k, batch * p)
    @ (batch * p, n)`` (left operand transposed) and, except for the first layer,
    input gradient ``(batch * p, n) @ (n, k)``.

    Returns
    -------
    gemms : list of tuple
        ``(role, m, k, n, transpose_a)``, role "forward", "weight" or "input".
    """
    gemms = []
    for index, (_, p, k, n) in enumerate(layer_gemms(image)):
        m = batch * p
        gemms.append(("forward", m, k, n, False))
        gemms.append(("weight", k, m, n, True))
        if index > 0:
            gemms.append(("input", m, n, k, False))
    return gemms


def make_data(image, n_images):
    """Synthetic images of an `ImageSet`, with learnable labels.

    Returns
    -------
    X : ndarray of shape (n_images, c * h * w), float32, C-contiguous
        Uniform pixels on [0, 1), each row an image stored channels-first.
    y : ndarray of shape (n_images,), int64
        ``argmax((X - 0.5) @ W)`` for a standard-normal W of shape
        (n_features, 10): a linear function of the pixels, so learnable.
    """
    rng = np.random.default_rng(0)
    X = rng.random((n_images, image.n_features), dtype=np.float32)
    W = rng.standard_normal((image.n_features, N_CLASSES), dtype=np.float32)
    y = np.argmax((X - np.float32(0.5)) @ W, axis=1).astype(np.int64)
    return X, y


class SklearnNNPeer:
    """``sklearn_nn.CNNClassifier``, trained one epoch per ``partial_fit``."""

    name = "sklearn_nn"

    @staticmethod
    def new_model(image):
        """An unfitted ``CNNClassifier`` of the reference architecture."""
        from sklearn_nn import CNNClassifier

        return CNNClassifier(
            conv_filters=CONV_FILTERS,
            kernel_size=KERNEL_SIZE,
            pool_size=POOL_SIZE,
            padding="valid",
            hidden_layer_sizes=HIDDEN,
            activation="relu",
            dropout=DROPOUT,
            input_shape=(image.height, image.width, image.channels),
            data_format="channels_first",
            solver="adam",
            learning_rate_init=LEARNING_RATE,
            alpha=0.0,
            batch_size=BATCH_SIZE,
            random_state=0,
            shuffle=True,
        )

    @staticmethod
    def first_epoch(model, X, y):
        """The first epoch: ``partial_fit`` with ``classes`` (pays the JIT compile)."""
        model.partial_fit(X, y, classes=np.arange(N_CLASSES))

    @staticmethod
    def epoch(model, X, y):
        """One more epoch: one ``partial_fit`` call."""
        model.partial_fit(X, y)

    @staticmethod
    def predict_proba(model, X):
        """Class probabilities."""
        return model.predict_proba(X)


@dataclass
class TorchModel:
    """A PyTorch network with its optimizer and shuffling generator."""

    net: object
    optimizer: object
    loss_fn: object
    generator: object
    shape: tuple = field(default=())


class TorchPeer:
    """The same network in PyTorch (CPU, NCHW), a plain mini-batch loop."""

    name = "torch"

    @staticmethod
    def new_model(image):
        """Conv-ReLU-Pool x2, Flatten, Linear-ReLU-Dropout, Linear; Adam."""
        torch = import_torch()
        nn = torch.nn
        torch.manual_seed(0)
        layers = []
        channels = image.channels
        for filters in CONV_FILTERS:
            layers += [
                nn.Conv2d(channels, filters, KERNEL_SIZE),  # padding 0: "valid"
                nn.ReLU(),
                nn.MaxPool2d(POOL_SIZE),  # floor: "valid"
            ]
            channels = filters
        layers.append(nn.Flatten())
        n_in = layer_gemms(image)[len(CONV_FILTERS)][2]
        for units in HIDDEN:
            layers += [nn.Linear(n_in, units), nn.ReLU(), nn.Dropout(DROPOUT)]
            n_in = units
        layers.append(nn.Linear(n_in, N_CLASSES))
        net = nn.Sequential(*layers)
        optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
        generator = torch.Generator().manual_seed(0)
        shape = (image.channels, image.height, image.width)
        return TorchModel(net, optimizer, nn.CrossEntropyLoss(), generator, shape)

    @staticmethod
    def epoch(model, X, y):
        """One epoch over a random permutation of the rows, batch 64."""
        torch = import_torch()
        X_t = torch.from_numpy(X).view(-1, *model.shape)  # no copy
        y_t = torch.from_numpy(y)
        n_images = X_t.shape[0]
        model.net.train()
        order = torch.randperm(n_images, generator=model.generator)
        for start in range(0, n_images, BATCH_SIZE):
            idx = order[start : start + BATCH_SIZE]
            model.optimizer.zero_grad(set_to_none=True)
            loss = model.loss_fn(model.net(X_t[idx]), y_t[idx])
            loss.backward()
            model.optimizer.step()

    first_epoch = epoch

    @staticmethod
    def predict_proba(model, X):
        """Softmax of the outputs: eval mode, no autograd, chunks of 128 images."""
        torch = import_torch()
        X_t = torch.from_numpy(X).view(-1, *model.shape)
        out = np.empty((X.shape[0], N_CLASSES), dtype=np.float32)
        model.net.eval()
        with torch.no_grad():
            for start in range(0, X.shape[0], TORCH_PREDICT_CHUNK):
                stop = start + TORCH_PREDICT_CHUNK
                logits = model.net(X_t[start:stop])
                out[start:stop] = torch.softmax(logits, dim=1).numpy()
        return out


def available_peers(notes, errors):
    """The peers that can run here, ``{name: peer}``.

    ``notes`` says why torch cannot; ``errors[("import", "sklearn_nn")]`` holds why
    sklearn_nn, the subject of the benchmark, cannot.
    """
    peers = {}
    try:
        from sklearn_nn import CNNClassifier  # noqa: F401
    except Exception as exc:
        errors[("import", "sklearn_nn")] = f"{type(exc).__name__}: {exc}"
        log(f"ERROR: cannot import sklearn_nn.CNNClassifier: {exc}")
    else:
        peers["sklearn_nn"] = SklearnNNPeer()
    if import_torch(notes) is not None:
        peers["torch"] = TorchPeer()
    return peers
