/*
 * layer_data.c — tensors of one layer and its reference output (see
 * layer_data.h).
 */
#include "layer_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The bytes running op takes (layer_data_check_memory). */
static double layer_data_bytes(const septune_op *op)
{
  size_t ni, no, nw, nb;
  if (septune_op_tensor_sizes(op, &ni, &no, &nw, &nb, NULL) != SEPTUNE_OK) return 0;
  /* In doubles: the sum of sizes that each fit size_t may not. */
  return sizeof(float) * ((double)ni + 2.0 * (double)nw + 2.0 * (double)nb + 2.0 * (double)no + LAYER_DATA_GUARD);
}

/* Bytes of memory available now; 0 when unknown. */
static double available_bytes(void)
{
  FILE *f = fopen("/proc/meminfo", "r");
  if (f) {
    char line[256];
    unsigned long long kib;
    while (fgets(line, sizeof line, f)) {
      if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1) {
        fclose(f);
        return 1024.0 * (double)kib;
      }
    }
    fclose(f);
  }
  long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? (double)pages * (double)size : 0;
}

static void format_bytes(double b, char *buf, size_t n)
{
  static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  int u = 0;
  while (b >= 1024 && u < 6) {
    b /= 1024;
    u++;
  }
  snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

septune_status layer_data_check_memory(const septune_op *op, septune_error *err)
{
  double need = layer_data_bytes(op), have = available_bytes();
  if (have <= 0 || need <= have) return SEPTUNE_OK;
  char a[32], b[32];
  format_bytes(need, a, sizeof a);
  format_bytes(have, b, sizeof b);
  return septune_error_set(err, SEPTUNE_ERR_UNSUPPORTED,
                           "layer: its tensors need %s, more than the %s of memory available", a, b);
}

septune_status layer_data_make(const septune_op *op, layer_data *d, septune_error *err)
{
  return layer_data_make_with(op, NULL, NULL, d, err);
}

septune_status layer_data_make_with(const septune_op *op, const float *weights, const float *bias, layer_data *d,
                                    septune_error *err)
{
  size_t nw, nb;
  memset(d, 0, sizeof *d);
  septune_status st = septune_op_tensor_sizes(op, &d->n_in, &d->n_out, &nw, &nb, err);
  if (st == SEPTUNE_OK) st = layer_data_check_memory(op, err);
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
  if (weights) memcpy(d->weights, weights, nw * sizeof *weights);
  if (bias) memcpy(d->bias, bias, nb * sizeof *bias);
  st = septune_reference_execute(op, d->weights, d->bias, d->in, d->want, err);
  if (st != SEPTUNE_OK) layer_data_free(d);
  return st;
}
