/*
 * layer_data.h — the tensors one layer is run on by `septune run` and the
 * tuner: reproducible random input, weights and bias, the reference output,
 * and an output buffer for the kernel under test.
 */
#ifndef SEPTUNE_LAYER_DATA_H
#define SEPTUNE_LAYER_DATA_H

#include <stddef.h>

#include "septune.h"

/* Floats of slack after `got`, so that a kernel writing past the end of its
 * output hits memory the tuner checks instead of the heap's bookkeeping. */
#define LAYER_DATA_GUARD 64

typedef struct layer_data {
  float *in, *weights, *bias;
  float *want;     /* the reference output (filled by layer_data_make) */
  float *got;      /* n_out + LAYER_DATA_GUARD floats for the kernel under test */
  size_t n_in, n_out;
} layer_data;

/* Checks that running op (its tensors here, the reference output and the
 * kernel's packed copy of the weights and bias) fits in the memory this
 * machine has available now
 * (MemAvailable of /proc/meminfo, else sysconf's available physical pages):
 * a layer that does not is refused before anything is allocated, instead of
 * driving the machine into swap or the OOM killer. Returns SEPTUNE_OK, or
 * SEPTUNE_ERR_UNSUPPORTED with err giving both sizes. */
septune_status layer_data_check_memory(const septune_op *op, septune_error *err);

/* Allocates the tensors of a valid op (64-byte aligned), fills input, weights
 * and bias from a fixed seed and computes the reference output into want.
 * Returns SEPTUNE_OK, SEPTUNE_ERR_UNSUPPORTED (layer_data_check_memory),
 * SEPTUNE_ERR_OUT_OF_MEMORY, or the reference's error; err names the
 * problem. On failure *d holds nothing to free. */
septune_status layer_data_make(const septune_op *op, layer_data *d, septune_error *err);

/* As layer_data_make, with the given weights and bias (the canonical
 * layout, as septune_op_tensor_sizes counts them; copied) instead of random
 * ones: a model's own weights. weights NULL: random ones, as
 * layer_data_make; bias NULL: random ones when the op has a bias. */
septune_status layer_data_make_with(const septune_op *op, const float *weights, const float *bias, layer_data *d,
                                    septune_error *err);

/* Frees what layer_data_make allocated; *d is zeroed. */
void layer_data_free(layer_data *d);

#endif
