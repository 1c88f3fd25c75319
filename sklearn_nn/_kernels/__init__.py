"""All Numba code of sklearn_nn. Imports only numpy and numba; one file per op.

=================== ================== ============================================
op                  file               kernels
=================== ================== ============================================
activations         activations.py     <name>_forward, <name>_backward per
                                       activation (FORWARD_KERNELS,
                                       BACKWARD_KERNELS by code); dispatchers
                                       activation_forward, activation_backward
                                       for kernels (helpers: logistic,
                                       row_logsumexp)
dense layer         dense.py           _add_bias, _bias_gradient,
                                       csr_affine_forward, csr_affine_backward;
                                       Python: as_matrix, affine_forward,
                                       affine_backward
                                       (numpy's np.dot, then the bias kernel),
                                       dense_forward, dense_backward,
                                       csr_dense_forward, csr_dense_backward
                                       (affine, then the activation)
2-D convolution     conv2d.py          im2col, col2im; conv2d_forward,
                                       conv2d_backward (Python: reshape, then
                                       the dense layer's)
image layout        layout.py          channels_first_to_last
2-D pooling         pooling.py         max_pool2d_forward, avg_pool2d_forward,
                                       avg_pool2d_backward; max_pool2d_backward
                                       (Python over _max_pool2d_backward_tiles /
                                       _max_pool2d_backward_scatter)
1-D global pooling  pooling1d.py       global_avg_pool1d_forward,
                                       global_avg_pool1d_backward,
                                       global_max_pool1d_forward,
                                       global_max_pool1d_backward
recurrent (shared,   recurrent.py       _simple_rnn_steps, _simple_rnn_backward_steps
  SimpleRNN)                           (the time loops); Python: simple_rnn_forward,
                                       simple_rnn_backward and the shared helpers
                                       (numpy's copies and GEMMs around the loops)
GRU                 gru.py             _gru_steps, _gru_backward_steps; Python:
                                       gru_forward, gru_backward
LSTM                lstm.py            _lstm_steps, _lstm_backward_steps (cell
                                       helpers _lstm_cell, _lstm_cell_backward);
                                       Python: lstm_forward, lstm_backward
fast float32 math  fastmath.py        tanh, sigmoid, exp_nonpositive (vectorisable
                                       in float32, libm in float64)
self-attention      attention.py       attention_forward, attention_backward
embedding           embedding.py       embedding_forward, embedding_backward,
                                       embedding_mask, count_bad_ids
normalization       normalization.py   batch_norm_forward_train,
                                       batch_norm_forward_infer,
                                       batch_norm_backward, layer_norm_forward,
                                       layer_norm_backward
dropout             dropout.py         dropout_forward, dropout_backward
losses              losses.py          softmax_log_loss, sigmoid_log_loss,
                                       squared_error, poisson (value + d_z)
optimizer updates   optim.py           sgd_update, adam_update (Python over the
                                       loop kernels), penalty_value,
                                       add_penalty_gradient, clip_by_global_norm
int8 GEMM (VNNI)    vnni.py            int8_gemm, pack_weights (HAS_VNNI)
int8 dense layer    quantized.py       quantized_dense_forward, quantize_rows,
                                       int8_scratch (inference only)
=================== ================== ============================================

Conventions: inputs first, outputs last; gradients are named ``d_<name>``; data is
(n_samples, n_features), sequences (n_samples, timesteps, features), images
(n_samples, height, width, channels); every kernel compiles for float32 and
float64, but the int8 ones (float32 models only). The Python functions named above
are marked; ``identity_backward`` is a no-op in Python. The decorator policy is in
``_jit.py``.
"""
