/*
 * desc.c — operator descriptors: defaults, TensorFlow same/valid padding,
 * validation, output and tensor sizes, flop counts.
 *
 * Validation is the one place that decides whether an op is well formed;
 * every other function of the library calls it first. It guarantees, for a
 * valid op, that
 *   - the output-size formula evaluates without int64 overflow and gives
 *     oh, ow >= 1;
 *   - the byte count (elements * sizeof(float)) of every tensor fits size_t,
 *     so element counts and offsets fit size_t and int64 alike.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

/* Checked arithmetic on the non-negative values used here: 1 on overflow. */
#if defined(__GNUC__) || defined(__clang__)
#define mul_i64(a, b, r) __builtin_mul_overflow(a, b, r)
#define add_i64(a, b, r) __builtin_add_overflow(a, b, r)
#define mul_size(a, b, r) __builtin_mul_overflow(a, b, r)
#else /* e.g. tcc */
static int mul_i64(int64_t a, int64_t b, int64_t *r)
{
  if (a != 0 && b > INT64_MAX / a) return 1;
  *r = a * b;
  return 0;
}
static int add_i64(int64_t a, int64_t b, int64_t *r)
{
  if (a > INT64_MAX - b) return 1;
  *r = a + b;
  return 0;
}
static int mul_size(size_t a, size_t b, size_t *r)
{
  if (b != 0 && a > SIZE_MAX / b) return 1;
  *r = a * b;
  return 0;
}
#endif

void septune_depthwise_desc_init(septune_depthwise_desc *desc)
{
  if (desc == NULL) return;
  memset(desc, 0, sizeof(*desc));
  desc->n = desc->h = desc->w = desc->c = 1;
  desc->kh = desc->kw = 1;
  desc->stride_h = desc->stride_w = 1;
  desc->dilation_h = desc->dilation_w = 1;
  desc->multiplier = 1;
  desc->has_bias = 0;
  desc->act = SEPTUNE_ACT_NONE;
  desc->act_min = 0.0f;
  desc->act_max = 0.0f;
}

void septune_pointwise_desc_init(septune_pointwise_desc *desc)
{
  if (desc == NULL) return;
  memset(desc, 0, sizeof(*desc));
  desc->n = desc->h = desc->w = desc->ci = desc->co = 1;
  desc->has_bias = 0;
  desc->act = SEPTUNE_ACT_NONE;
  desc->act_min = 0.0f;
  desc->act_max = 0.0f;
}

/* ------------------------------------------------------------------------ */
/* Padding                                                                   */

/* TensorFlow "same" along one axis: *lo gets the smaller half. Returns 0 if
 * the dilated kernel extent overflows int64. */
static int same_axis(int64_t in, int64_t k, int64_t stride, int64_t dilation, int64_t *lo,
                     int64_t *hi)
{
  int64_t out = in / stride + (in % stride != 0);   /* ceil(in/stride) */
  int64_t extent, covered, total;
  if (mul_i64(dilation, k - 1, &extent)) return 0;
  if (add_i64(extent, 1, &extent)) return 0;
  /* (out-1)*stride <= in-1, so `covered` is in [1, stride]. */
  covered = in - (out - 1) * stride;
  total = extent - covered;
  if (total < 0) total = 0;
  *lo = total / 2;
  *hi = total - total / 2;
  return 1;
}

#define CHECK_POSITIVE(err, desc, field)                                                  \
  if ((desc)->field < 1)                                                                  \
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,                           \
                             "depthwise: " #field " must be >= 1 (got %lld)",             \
                             (long long)(desc)->field)

septune_status septune_depthwise_pad_same(septune_depthwise_desc *desc, septune_error *err)
{
  int64_t top, bottom, left, right;
  if (desc == NULL)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "depthwise: desc is NULL");
  CHECK_POSITIVE(err, desc, h);
  CHECK_POSITIVE(err, desc, w);
  CHECK_POSITIVE(err, desc, kh);
  CHECK_POSITIVE(err, desc, kw);
  CHECK_POSITIVE(err, desc, stride_h);
  CHECK_POSITIVE(err, desc, stride_w);
  CHECK_POSITIVE(err, desc, dilation_h);
  CHECK_POSITIVE(err, desc, dilation_w);
  if (!same_axis(desc->h, desc->kh, desc->stride_h, desc->dilation_h, &top, &bottom))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "depthwise: dilation_h*(kh-1) overflows int64 (kh=%lld, "
                             "dilation_h=%lld)",
                             (long long)desc->kh, (long long)desc->dilation_h);
  if (!same_axis(desc->w, desc->kw, desc->stride_w, desc->dilation_w, &left, &right))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "depthwise: dilation_w*(kw-1) overflows int64 (kw=%lld, "
                             "dilation_w=%lld)",
                             (long long)desc->kw, (long long)desc->dilation_w);
  desc->pad_top = top;
  desc->pad_bottom = bottom;
  desc->pad_left = left;
  desc->pad_right = right;
  return septune_error_clear(err);
}

septune_status septune_depthwise_pad_valid(septune_depthwise_desc *desc, septune_error *err)
{
  if (desc == NULL)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "depthwise: desc is NULL");
  desc->pad_top = desc->pad_left = desc->pad_bottom = desc->pad_right = 0;
  return septune_error_clear(err);
}

/* ------------------------------------------------------------------------ */
/* Validation                                                                */

/* Output size along one axis of a depthwise op whose fields are already
 * known to be in range (dims >= 1, pads >= 0). Returns 0 on int64 overflow,
 * else 1 with *out set; *out is 0 when the dilated kernel does not fit in
 * the padded input. */
static int output_axis(int64_t in, int64_t pad_lo, int64_t pad_hi, int64_t k, int64_t stride,
                       int64_t dilation, int64_t *out)
{
  int64_t padded, extent;
  if (add_i64(in, pad_lo, &padded)) return 0;
  if (add_i64(padded, pad_hi, &padded)) return 0;
  if (mul_i64(dilation, k - 1, &extent)) return 0;
  if (add_i64(extent, 1, &extent)) return 0;
  /* Both operands are positive, so the difference cannot overflow. */
  *out = padded < extent ? 0 : (padded - extent) / stride + 1;
  return 1;
}

/* The output size along one axis (`axis` "height", key 'h'), or an error
 * naming the axis when it overflows int64 or would be 0. */
static septune_status axis_size(const char *axis, char key, int64_t in, int64_t pad_lo, int64_t pad_hi, int64_t k,
                                int64_t stride, int64_t dilation, int64_t *out, septune_error *err)
{
  int fits = output_axis(in, pad_lo, pad_hi, k, stride, dilation, out);
  if (fits && *out >= 1) return SEPTUNE_OK;
  return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                           "depthwise: output %s %s (%c=%lld, k%c=%lld, dilation_%c=%lld, pads %lld+%lld)", axis,
                           fits ? "would be 0" : "overflows int64", key, (long long)in, key, (long long)k, key,
                           (long long)dilation, (long long)pad_lo, (long long)pad_hi);
}

/* *bytes = a*b*c*d*e * sizeof(float) in size_t; returns 0 on overflow. The
 * factors are >= 1 here. */
static int tensor_bytes(size_t *bytes, int64_t a, int64_t b, int64_t c, int64_t d, int64_t e)
{
  const int64_t f[5] = {a, b, c, d, e};
  size_t p = sizeof(float);
  int i;
  for (i = 0; i < 5; i++) {
#if SIZE_MAX < UINT64_MAX
    if ((uint64_t)f[i] > (uint64_t)SIZE_MAX) return 0;
#endif
    if (mul_size(p, (size_t)f[i], &p)) return 0;
  }
  *bytes = p;
  return 1;
}

static septune_status validate_act(const char *op, int has_bias, septune_activation act,
                                   float act_min, float act_max, septune_error *err)
{
  if (has_bias != 0 && has_bias != 1)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "%s: has_bias must be 0 or 1 (got %d)", op, has_bias);
  switch (act) {
    case SEPTUNE_ACT_NONE:
    case SEPTUNE_ACT_RELU:
    case SEPTUNE_ACT_RELU6:
    case SEPTUNE_ACT_HSWISH:
    case SEPTUNE_ACT_HSIGMOID:
    case SEPTUNE_ACT_SIGMOID:
    case SEPTUNE_ACT_SILU:
    case SEPTUNE_ACT_GELU:
    case SEPTUNE_ACT_GELU_TANH:
      return SEPTUNE_OK;
    case SEPTUNE_ACT_CLAMP:
      if (isnan(act_min))
        return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                                 "%s: act_min of clamp is NaN", op);
      if (isnan(act_max))
        return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                                 "%s: act_max of clamp is NaN", op);
      if (act_min > act_max)
        return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                                 "%s: clamp needs act_min <= act_max (got act_min=%g, "
                                 "act_max=%g)",
                                 op, (double)act_min, (double)act_max);
      return SEPTUNE_OK;
  }
  return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "%s: act %d is not an activation",
                           op, (int)act);
}

#define DIM_CHECK(err, op, desc, field)                                                   \
  if ((desc)->field < 1)                                                                  \
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,                           \
                             op ": " #field " must be >= 1 (got %lld)",                   \
                             (long long)(desc)->field)

#define PAD_CHECK(err, desc, field)                                                       \
  if ((desc)->field < 0)                                                                  \
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,                           \
                             "depthwise: " #field " must be >= 0 (got %lld)",             \
                             (long long)(desc)->field)

/* Validates a depthwise op and sets its output size. */
static septune_status validate_dw(const septune_depthwise_desc *d, int64_t *oh, int64_t *ow,
                                  septune_error *err)
{
  septune_status st;
  size_t bytes;
  DIM_CHECK(err, "depthwise", d, n);
  DIM_CHECK(err, "depthwise", d, h);
  DIM_CHECK(err, "depthwise", d, w);
  DIM_CHECK(err, "depthwise", d, c);
  DIM_CHECK(err, "depthwise", d, kh);
  DIM_CHECK(err, "depthwise", d, kw);
  DIM_CHECK(err, "depthwise", d, stride_h);
  DIM_CHECK(err, "depthwise", d, stride_w);
  DIM_CHECK(err, "depthwise", d, dilation_h);
  DIM_CHECK(err, "depthwise", d, dilation_w);
  PAD_CHECK(err, d, pad_top);
  PAD_CHECK(err, d, pad_left);
  PAD_CHECK(err, d, pad_bottom);
  PAD_CHECK(err, d, pad_right);
  DIM_CHECK(err, "depthwise", d, multiplier);
  st = validate_act("depthwise", d->has_bias, d->act, d->act_min, d->act_max, err);
  if (st != SEPTUNE_OK) return st;
  st = axis_size("height", 'h', d->h, d->pad_top, d->pad_bottom, d->kh, d->stride_h, d->dilation_h, oh, err);
  if (st != SEPTUNE_OK) return st;
  st = axis_size("width", 'w', d->w, d->pad_left, d->pad_right, d->kw, d->stride_w, d->dilation_w, ow, err);
  if (st != SEPTUNE_OK) return st;
  if (!tensor_bytes(&bytes, d->n, d->h, d->w, d->c, 1))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "depthwise: input tensor n*h*w*c*4 bytes overflows size_t "
                             "(n=%lld, h=%lld, w=%lld, c=%lld)",
                             (long long)d->n, (long long)d->h, (long long)d->w,
                             (long long)d->c);
  if (!tensor_bytes(&bytes, d->n, *oh, *ow, d->c, d->multiplier))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "depthwise: output tensor n*oh*ow*c*multiplier*4 bytes overflows "
                             "size_t (n=%lld, oh=%lld, ow=%lld, c=%lld, multiplier=%lld)",
                             (long long)d->n, (long long)*oh, (long long)*ow, (long long)d->c,
                             (long long)d->multiplier);
  if (!tensor_bytes(&bytes, d->kh, d->kw, d->c, d->multiplier, 1))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "depthwise: weights kh*kw*c*multiplier*4 bytes overflow size_t "
                             "(kh=%lld, kw=%lld, c=%lld, multiplier=%lld)",
                             (long long)d->kh, (long long)d->kw, (long long)d->c,
                             (long long)d->multiplier);
  /* The bias, c*multiplier, is no larger than the weights. */
  return SEPTUNE_OK;
}

static septune_status validate_pw(const septune_pointwise_desc *p, septune_error *err)
{
  septune_status st;
  size_t bytes;
  DIM_CHECK(err, "pointwise", p, n);
  DIM_CHECK(err, "pointwise", p, h);
  DIM_CHECK(err, "pointwise", p, w);
  DIM_CHECK(err, "pointwise", p, ci);
  DIM_CHECK(err, "pointwise", p, co);
  st = validate_act("pointwise", p->has_bias, p->act, p->act_min, p->act_max, err);
  if (st != SEPTUNE_OK) return st;
  if (!tensor_bytes(&bytes, p->n, p->h, p->w, p->ci, 1))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "pointwise: input tensor n*h*w*ci*4 bytes overflows size_t "
                             "(n=%lld, h=%lld, w=%lld, ci=%lld)",
                             (long long)p->n, (long long)p->h, (long long)p->w,
                             (long long)p->ci);
  if (!tensor_bytes(&bytes, p->n, p->h, p->w, p->co, 1))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "pointwise: output tensor n*h*w*co*4 bytes overflows size_t "
                             "(n=%lld, h=%lld, w=%lld, co=%lld)",
                             (long long)p->n, (long long)p->h, (long long)p->w,
                             (long long)p->co);
  if (!tensor_bytes(&bytes, p->ci, p->co, 1, 1, 1))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "pointwise: weights ci*co*4 bytes overflow size_t (ci=%lld, "
                             "co=%lld)",
                             (long long)p->ci, (long long)p->co);
  return SEPTUNE_OK;
}

/* Validates op and returns its output size. */
static septune_status validate(const septune_op *op, int64_t *oh, int64_t *ow,
                               septune_error *err)
{
  if (op == NULL) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "op is NULL");
  switch (op->kind) {
    case SEPTUNE_OP_DEPTHWISE:
      return validate_dw(&op->u.dw, oh, ow, err);
    case SEPTUNE_OP_POINTWISE:
      *oh = op->u.pw.h;
      *ow = op->u.pw.w;
      return validate_pw(&op->u.pw, err);
  }
  return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                           "op: kind %d is not an operator kind", (int)op->kind);
}

septune_status septune_op_validate(const septune_op *op, septune_error *err)
{
  int64_t oh, ow;
  septune_status st = validate(op, &oh, &ow, err);
  if (st != SEPTUNE_OK) return st;
  return septune_error_clear(err);
}

septune_status septune_op_output_size(const septune_op *op, int64_t *oh, int64_t *ow,
                                      septune_error *err)
{
  int64_t h, w;
  septune_status st = validate(op, &h, &w, err);
  if (st != SEPTUNE_OK) return st;
  if (oh != NULL) *oh = h;
  if (ow != NULL) *ow = w;
  return septune_error_clear(err);
}

septune_status septune_op_tensor_sizes(const septune_op *op, size_t *input, size_t *output,
                                       size_t *weights, size_t *bias, septune_error *err)
{
  int64_t oh, ow;
  size_t in_n, out_n, w_n, b_n;
  septune_status st = validate(op, &oh, &ow, err);
  if (st != SEPTUNE_OK) return st;
  /* Validation proved every byte count fits size_t: plain products are safe. */
  if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    const septune_depthwise_desc *d = &op->u.dw;
    size_t channels = (size_t)d->c * (size_t)d->multiplier;
    in_n = (size_t)d->n * (size_t)d->h * (size_t)d->w * (size_t)d->c;
    out_n = (size_t)d->n * (size_t)oh * (size_t)ow * channels;
    w_n = (size_t)d->kh * (size_t)d->kw * channels;
    b_n = channels;
  } else {
    const septune_pointwise_desc *p = &op->u.pw;
    size_t pixels = (size_t)p->n * (size_t)p->h * (size_t)p->w;
    in_n = pixels * (size_t)p->ci;
    out_n = pixels * (size_t)p->co;
    w_n = (size_t)p->ci * (size_t)p->co;
    b_n = (size_t)p->co;
  }
  if (input != NULL) *input = in_n;
  if (output != NULL) *output = out_n;
  if (weights != NULL) *weights = w_n;
  if (bias != NULL) *bias = b_n;
  return septune_error_clear(err);
}

double septune_op_flops(const septune_op *op)
{
  int64_t oh, ow;
  if (validate(op, &oh, &ow, NULL) != SEPTUNE_OK) return 0.0;
  if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    const septune_depthwise_desc *d = &op->u.dw;
    return 2.0 * (double)d->n * (double)oh * (double)ow * (double)d->c *
           (double)d->multiplier * (double)d->kh * (double)d->kw;
  } else {
    const septune_pointwise_desc *p = &op->u.pw;
    return 2.0 * (double)p->n * (double)p->h * (double)p->w * (double)p->ci * (double)p->co;
  }
}

void septune_op_one_image(const septune_op *op, septune_op *one)
{
  *one = *op;
  if (one->kind == SEPTUNE_OP_DEPTHWISE) one->u.dw.n = 1;
  else one->u.pw.n = 1;
}
