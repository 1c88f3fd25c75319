"""Parameter and attribute docs shared by every network estimator's docstring."""

_TRAINING_DOC = """\
    solver : {"lbfgs", "sgd", "adam"}, default="adam"
        The optimizer: L-BFGS-B (full batch, scipy), SGD with momentum, or Adam.

    alpha : float, default=0.0001
        Strength of the L2 penalty ``alpha / 2 ||W||^2``, divided by the total
        sample weight of the batch, as in scikit-learn. Biases are not penalised.

    l1 : float, default=0.0
        Strength of the L1 penalty ``l1 ||W||_1``, with the same normalisation,
        applied so that weights reach exact zeros: "sgd" uses the cumulative penalty
        of scikit-learn's ``SGDClassifier`` (Tsuruoka et al., 2009), "adam" a
        proximal step. Needs "sgd" or "adam".

    batch_size : int or "auto", default="auto"
        Mini-batch size of the stochastic solvers; "auto" is ``min(200, n_samples)``.

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule of the "sgd" learning rate, as in scikit-learn's MLP.

    learning_rate_init : float, default=0.001
        Initial learning rate of "sgd" and "adam".

    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (L-BFGS).

    shuffle : bool, default=True
        Whether to shuffle the samples at each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the validation split, the shuffling and the
        dropout masks. The same value gives the same model, bit for bit.

    tol : float, default=1e-4
        Tolerance on the loss or validation-score improvement.

    verbose : bool, default=False
        Print one line per epoch: loss, validation score, seconds.

    warm_start : bool, default=False
        Reuse the previous fit's parameters as the starting point.

    momentum : float, default=0.9
        Momentum of "sgd".

    nesterovs_momentum : bool, default=True
        Whether "sgd" uses Nesterov's momentum.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its score stops
        improving, and restore the parameters of the best validation score.

    validation_fraction : float, default=0.1
        Fraction of the data held out for early stopping (unless ``fit`` gets
        ``X_val`` / ``y_val``).

    scoring : str, callable or None, default=None
        The validation score early stopping watches (higher is better): None is
        the estimator's ``score`` (accuracy, R^2); "loss" is minus the validation
        loss; any other string is a scikit-learn scorer name (e.g.
        "neg_log_loss", "roc_auc"), a callable a scorer ``scorer(estimator, X, y)``.

    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's decay rates for the first and second moment estimates.

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping (or, for "adaptive",
        dividing the learning rate by 5).

    max_fun : int, default=15000
        Maximum number of loss evaluations of "lbfgs"."""

_ATTRIBUTES_DOC = """\
    loss_ : float
        Loss at the end of training (data loss plus penalty).

    best_loss_ : float or None
        Lowest training loss seen; None with early stopping.

    loss_curve_ : list of float
        Loss after each epoch (stochastic solvers).

    validation_scores_ : list of float or None
        Validation score after each epoch, with early stopping.

    validation_loss_curve_ : list of float
        Validation loss after each epoch, with early stopping.

    best_validation_score_ : float or None
        Best validation score, with early stopping.

    t_ : int
        Number of training samples seen by the stochastic solver.

    coefs_ : list of ndarray
        The parameter named ``kernel`` of each layer that has one:
        ``(n_units_in, n_units_out)`` for dense layers,
        ``(kernel_h, kernel_w, in_channels, filters)`` for Conv2D,
        ``(kernel_size, features, filters)`` for Conv1D, the input kernel
        ``(features, gates * units)`` for SimpleRNN, GRU and LSTM. Layers whose
        weights have other names (Bidirectional, attention, Transformer, Embedding)
        are not listed; all parameters are in the fitted model either way.

    intercepts_ : list of ndarray
        Bias vectors, ``intercepts_[i]`` of shape (n_units_out,).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    n_iter_ : int
        Number of epochs (or L-BFGS iterations) run.

    n_layers_ : int
        Number of layers listed in ``coefs_`` plus one (the input), as
        scikit-learn counts an MLP's layers.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Output activation: "softmax", "logistic", "identity" or "exp"."""

_NETWORK_DOC = """\
    weight_init : {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal", \
"lecun_normal", "orthogonal"}, default="glorot_uniform"
        Initialiser of the weights of every layer that names none
        (``kernel_initializer=None``). "glorot_uniform" draws weights and biases
        from U(-r, r), r = sqrt(6 / (fan_in + fan_out)), as scikit-learn's MLP
        (whose factor 2 for logistic networks the MLP and CNN presets keep); with
        the others, biases start at zero.

    clip_norm : float, default=None
        Largest global L2 norm of the data-loss gradient of a "sgd" / "adam" step;
        a larger gradient is scaled down to it (the L2/L1 terms are added after).
        None: no clipping. Refused with "lbfgs".

    pretrained : Pretrained, default=None
        Start the layers this network shares with a fitted one from its weights
        (see ``sklearn_nn.Pretrained``); the other layers are drawn as usual."""

_CNN_ARCHITECTURE_DOC = """\
    conv_filters : array-like of int, default=(32, 64)
        Filters of each convolution block; a block is
        ``Conv2D(filters, kernel_size, activation)`` then ``MaxPool2D(pool_size)``.

    kernel_size : int or tuple of (int, int), default=3
        Height and width of every convolution kernel.

    pool_size : int, tuple of (int, int) or None, default=2
        Window of the max pooling after each convolution; None for no pooling.

    hidden_layer_sizes : array-like of int, default=(128,)
        Units of the dense layers between the flattened convolution output and the
        output layer.

    activation : {"identity", "logistic", "tanh", "relu", "leaky_relu", "gelu"}, \
default="relu"
        Activation of the convolution and hidden dense layers.

    padding : {"same", "valid"}, default="same"
        Padding of the convolutions and poolings. "same" keeps ``ceil(size /
        stride)`` pixels, so the default architecture fits any image, even 1x1;
        "valid" (Keras' default) shrinks each convolution's output by
        ``kernel_size - 1``.

    dropout : float, default=0.5
        Fraction of each hidden dense layer's units dropped at random in training
        (inverted dropout); off at predict time. Needs "sgd" or "adam".

    layers : list of layer specs, default=None
        Another architecture, from ``sklearn_nn.layers`` (``Conv2D``,
        ``MaxPool2D``, ``BatchNormalization``, ``Dense``, ...): every layer but the
        output layer, which is added for the targets (with a
        ``Flatten`` before it if needed). When given, the parameters above are
        ignored.

    input_shape : tuple of (int, int) or (int, int, int), default=None
        Shape of one image, ``(height, width)`` for one channel or ``(height,
        width, channels)``. None: taken from 3-D ``(n, height, width)`` or 4-D X,
        or else inferred from n_features: a square single-channel image when
        n_features is a perfect square, one row of pixels otherwise.

    data_format : {"channels_last", "channels_first"}, default="channels_last"
        How a row of X (or the trailing axes of 4-D X) stores an image:
        ``(height, width, channels)`` as in Keras and PIL, or ``(channels, height,
        width)`` as CIFAR-10's raw rows."""

_CNN_ATTRIBUTES_DOC = """\
    input_shape_ : tuple of (int, int, int)
        The image shape ``(height, width, channels)`` the network was built for."""
