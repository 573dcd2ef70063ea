/*
 * layer_data.c — tensors of one layer and its reference output (see
 * layer_data.h).
 */
#include "layer_data.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"

static float *aligned_floats(size_t n)
{
  void *p = NULL;
  size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}

void layer_data_free(layer_data *d)
{
  free(d->in);
  free(d->weights);
  free(d->bias);
  free(d->want);
  free(d->got);
  memset(d, 0, sizeof *d);
}

septune_status layer_data_make(const septune_op *op, layer_data *d, septune_error *err)
{
  size_t nw, nb;
  memset(d, 0, sizeof *d);
  septune_status st = septune_op_tensor_sizes(op, &d->n_in, &d->n_out, &nw, &nb, err);
  if (st != SEPTUNE_OK) return st;
  /* 64-byte aligned like any tensor an inference engine hands over: a
   * 512-bit load that straddles two cache lines costs about twice as much. */
  d->in = aligned_floats(d->n_in);
  d->weights = aligned_floats(nw);
  d->bias = aligned_floats(nb);
  d->want = aligned_floats(d->n_out);
  d->got = aligned_floats(d->n_out + LAYER_DATA_GUARD);
  if (!d->in || !d->weights || !d->bias || !d->want || !d->got) {
    layer_data_free(d);
    return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "layer: out of memory for the layer's tensors");
  }
  unsigned long long seed = 42;
  septune_fill_random(d->in, d->n_in, &seed);
  septune_fill_random(d->weights, nw, &seed);
  septune_fill_random(d->bias, nb, &seed);
  st = septune_reference_execute(op, d->weights, d->bias, d->in, d->want, err);
  if (st != SEPTUNE_OK) layer_data_free(d);
  return st;
}
