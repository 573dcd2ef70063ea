/*
 * reference.c — the plain-C reference kernels: obviously correct, slow.
 *
 * Every output element is computed on its own, in float:
 *   depthwise  acc = 0; for ky in 0..kh-1, kx in 0..kw-1 (this order):
 *                acc += in[n][iy][ix][ci] * w[ky][kx][o]
 *              where o = ci*multiplier + m, iy = oy*stride_h - pad_top + ky*dilation_h,
 *              ix likewise, taps falling in the padding skipped (zero padding);
 *   pointwise  acc = 0; for ci ascending: acc += in[p][ci] * w[ci][o];
 * then acc += bias[o] (if any), then the activation, in double rounded to
 * float (septune_activation_exact). A block is its stages in turn through
 * full-size intermediates, then out += in for a residual. The compiler may fuse
 * a multiply and an add into an FMA on targets that have one by default; the
 * tests compare with a tolerance.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

/* Computed in double with libm from forms that do not cancel
 * (x / (1 + e^-x), x * erfc(-x / sqrt 2) / 2), so the value is the exact
 * function of x to within a few units of 2^-52; exact where it is a
 * min/max. */
static double sigmoid_d(double x)
{
  return 1.0 / (1.0 + exp(-x));
}

double septune_activation_exact(septune_activation act, float lo, float hi, double x)
{
  double t;
  switch (act) {
    case SEPTUNE_ACT_NONE:
      return x;
    case SEPTUNE_ACT_RELU:
      return x < 0.0 ? 0.0 : x;
    case SEPTUNE_ACT_RELU6:
      return x < 0.0 ? 0.0 : (x > 6.0 ? 6.0 : x);
    case SEPTUNE_ACT_CLAMP:
      return x < lo ? lo : (x > hi ? hi : x);
    case SEPTUNE_ACT_HSWISH:
      t = x + 3.0;
      t = t < 0.0 ? 0.0 : (t > 6.0 ? 6.0 : t);
      return x * t / 6.0;
    case SEPTUNE_ACT_HSIGMOID:
      t = x + 3.0;
      t = t < 0.0 ? 0.0 : (t > 6.0 ? 6.0 : t);
      return t / 6.0;
    case SEPTUNE_ACT_SIGMOID:
      return sigmoid_d(x);
    case SEPTUNE_ACT_SILU:
      if (isinf(x) && x < 0) return -0.0;
      return x * sigmoid_d(x);
    case SEPTUNE_ACT_GELU:
      if (isinf(x) && x < 0) return -0.0;
      return 0.5 * x * erfc(-x * 0.70710678118654752440);
    case SEPTUNE_ACT_GELU_TANH:
      /* 0.5 (1 + tanh(u)) = sigmoid(2u) */
      if (isinf(x) && x < 0) return -0.0;
      return x * sigmoid_d(2.0 * 0.79788456080286535588 * (x + 0.044715 * x * x * x));
  }
  return x; /* not reached for a valid op */
}

static void depthwise(const septune_depthwise_desc *d, int64_t oh, int64_t ow, const float *wt,
                      const float *bias, const float *in, float *out)
{
  const int64_t channels = d->c * d->multiplier;
  int64_t b, oy, ox, ci, m, ky, kx;
  for (b = 0; b < d->n; b++)
    for (oy = 0; oy < oh; oy++)
      for (ox = 0; ox < ow; ox++)
        for (ci = 0; ci < d->c; ci++)
          for (m = 0; m < d->multiplier; m++) {
            const int64_t o = ci * d->multiplier + m;
            float acc = 0.0f;
            for (ky = 0; ky < d->kh; ky++) {
              const int64_t iy = oy * d->stride_h - d->pad_top + ky * d->dilation_h;
              if (iy < 0 || iy >= d->h) continue;
              for (kx = 0; kx < d->kw; kx++) {
                const int64_t ix = ox * d->stride_w - d->pad_left + kx * d->dilation_w;
                if (ix < 0 || ix >= d->w) continue;
                acc += in[((b * d->h + iy) * d->w + ix) * d->c + ci] *
                       wt[(ky * d->kw + kx) * channels + o];
              }
            }
            if (d->has_bias) acc += bias[o];
            out[((b * oh + oy) * ow + ox) * channels + o] =
                (float)septune_activation_exact(d->act, d->act_min, d->act_max, acc);
          }
}

/* Each output row doubles as its accumulators: out[px][o] starts at 0 and
 * gets in[px][i] * w[i][o] added for i ascending, so every element is still
 * summed on its own, in float, in ci order (the order the header comment
 * states); only the loop nest is turned around so the weights are read
 * along their contiguous rows instead of striding by co. Nothing is
 * allocated. */
static void pointwise(const septune_pointwise_desc *p, const float *wt, const float *bias,
                      const float *in, float *out)
{
  const int64_t pixels = p->n * p->h * p->w;
  int64_t px, o, i;
  for (px = 0; px < pixels; px++) {
    const float *x = in + px * p->ci;
    float *acc = out + px * p->co;
    for (o = 0; o < p->co; o++) acc[o] = 0.0f;
    for (i = 0; i < p->ci; i++) {
      const float xi = x[i];
      const float *wrow = wt + i * p->co;
      for (o = 0; o < p->co; o++) acc[o] += xi * wrow[o];
    }
    for (o = 0; o < p->co; o++) {
      float a = acc[o];
      if (p->has_bias) a += bias[o];
      acc[o] = (float)septune_activation_exact(p->act, p->act_min, p->act_max, a);
    }
  }
}

/* A block: its stages' references one after the other, each intermediate
 * a full-size tensor (only the reference does that), then the residual
 * added to the last stage's output (after its activation). */
static septune_status block(const septune_op *op, const float *weights, const float *bias,
                            const float *input, float *output, septune_error *err)
{
  septune_op stage[SEPTUNE_MAX_STAGES];
  int stages = septune_op_stages(op, stage);
  float *mid[SEPTUNE_MAX_STAGES] = { NULL, NULL, NULL };
  const float *in = input;
  septune_status st = SEPTUNE_OK;
  size_t wat = 0, bat = 0, out_n = 0;
  for (int i = 0; i < stages && st == SEPTUNE_OK; i++) {
    size_t nw = 0, nb = 0;
    septune_op_tensor_sizes(&stage[i], NULL, &out_n, &nw, &nb, NULL);
    float *out = output;
    if (i + 1 < stages && !(out = mid[i] = malloc(out_n * sizeof(float))))
      st = septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY,
                             "reference: out of memory for a block's intermediate of %zu floats", out_n);
    else
      st = septune_reference_execute(&stage[i], weights + wat, septune_op_has_bias(&stage[i]) ? bias + bat : NULL,
                                     in, out, err);
    wat += nw;
    if (septune_op_has_bias(&stage[i])) bat += nb;
    in = out;
  }
  if (st == SEPTUNE_OK && op->kind == SEPTUNE_OP_INVERTED_RESIDUAL && op->u.ir.residual)
    for (size_t i = 0; i < out_n; i++) output[i] += input[i];
  for (int i = 0; i < stages; i++) free(mid[i]);
  return st;
}

septune_status septune_reference_execute(const septune_op *op, const float *weights,
                                         const float *bias, const float *input, float *output,
                                         septune_error *err)
{
  int64_t oh, ow;
  septune_status st = septune_op_output_size(op, &oh, &ow, err);
  if (st != SEPTUNE_OK) return st;
  if (weights == NULL)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "reference: weights is NULL");
  if (input == NULL)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "reference: input is NULL");
  if (output == NULL)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "reference: output is NULL");
  if (septune_op_has_bias(op) && bias == NULL)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "reference: bias is NULL but has_bias is 1");
  if (op->kind == SEPTUNE_OP_SEPARABLE || op->kind == SEPTUNE_OP_INVERTED_RESIDUAL) {
    septune_status st = block(op, weights, bias, input, output, err);
    if (st != SEPTUNE_OK) return st;
  } else if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    depthwise(&op->u.dw, oh, ow, weights, bias, input, output);
  } else {
    pointwise(&op->u.pw, weights, bias, input, output);
  }
  return septune_error_clear(err);
}
