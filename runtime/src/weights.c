/*
 * weights.c — conversion of PyTorch weight tensors to the canonical layouts.
 *   depthwise: PyTorch [c*m][1][kh][kw]  ->  canonical [kh][kw][c*m]
 *   pointwise: PyTorch [co][ci][1][1]    ->  canonical [ci][co]
 *   a block: each stage's tensor in turn, at the same offset in src and dst
 */
#include <stdint.h>

#include "internal.h"

septune_status septune_weights_from_pytorch(const septune_op *op, const float *src, float *dst,
                                            septune_error *err)
{
  size_t count, i;
  septune_status st;
  if (src == NULL || dst == NULL)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "weights: %s is NULL",
                             src == NULL ? "src" : "dst");
  st = septune_op_tensor_sizes(op, NULL, NULL, &count, NULL, err);
  if (st != SEPTUNE_OK) return st;
  {
    /* Both ranges are `count` floats; they must be disjoint. */
    uintptr_t s = (uintptr_t)src, d = (uintptr_t)dst, bytes = count * sizeof(float);
    if (s < d + bytes && d < s + bytes)
      return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                               "weights: src and dst overlap");
  }
  if (op->kind == SEPTUNE_OP_SEPARABLE || op->kind == SEPTUNE_OP_INVERTED_RESIDUAL) {
    septune_op stage[SEPTUNE_MAX_STAGES];
    int stages = septune_op_stages(op, stage);
    size_t at = 0;
    for (int k = 0; k < stages; k++) {
      size_t n = 0;
      septune_op_tensor_sizes(&stage[k], NULL, NULL, &n, NULL, NULL);
      septune_weights_from_pytorch(&stage[k], src + at, dst + at, NULL);
      at += n;
    }
  } else if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    const septune_depthwise_desc *dw = &op->u.dw;
    size_t kh = (size_t)dw->kh, kw = (size_t)dw->kw;
    size_t channels = (size_t)dw->c * (size_t)dw->multiplier;
    size_t o, y, x;
    for (o = 0; o < channels; o++)
      for (y = 0; y < kh; y++)
        for (x = 0; x < kw; x++)
          dst[(y * kw + x) * channels + o] = src[(o * kh + y) * kw + x];
  } else {
    const septune_pointwise_desc *pw = &op->u.pw;
    size_t ci = (size_t)pw->ci, co = (size_t)pw->co, o;
    for (o = 0; o < co; o++)
      for (i = 0; i < ci; i++)
        dst[i * co + o] = src[o * ci + i];
  }
  return septune_error_clear(err);
}
