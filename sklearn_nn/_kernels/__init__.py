"""All Numba code of sklearn_nn. Imports only numpy and numba; one file per op.

=================== ================ ==============================================
op                  file             kernels
=================== ================ ==============================================
activations         activations.py   activation_forward, activation_backward,
                                     softmax_forward, log_softmax_forward,
                                     logistic_forward
dense layer         dense.py         dense_forward, dense_backward,
                                     csr_dense_forward, csr_dense_backward
dropout             dropout.py       dropout_forward, dropout_backward
losses              losses.py        softmax_log_loss, sigmoid_log_loss,
                                     squared_error, poisson (value + d_z)
optimizer updates   optim.py         sgd_update, adam_update, penalty_value,
                                     add_penalty_gradient
=================== ================ ==============================================

Conventions: inputs first, outputs last; gradients are named ``d_<name>``; data is
(n_samples, n_features); every kernel compiles for float32 and float64.
"""
