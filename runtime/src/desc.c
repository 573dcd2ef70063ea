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
#include <stdio.h>
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

/* ------------------------------------------------------------------------ */
/* Blocks: each stage on its own, then how they chain                        */

/* A stage's own error again, prefixed with the block and the stage
 * ("inverted residual: dw: h must be >= 1"), the op name that the stage's
 * validation put first dropped. */
static septune_status stage_error(const char *block, const char *stage, const septune_error *why,
                                  septune_error *err)
{
  const char *m = why->message;
  if (strncmp(m, "depthwise: ", 11) == 0) m += 11;
  else if (strncmp(m, "pointwise: ", 11) == 0) m += 11;
  return septune_error_set(err, why->status, "%s: %s: %s", block, stage, m);
}

static septune_status dw_stage(const char *block, const char *stage, const septune_depthwise_desc *d, int64_t *oh,
                               int64_t *ow, septune_error *err)
{
  septune_error why;
  if (validate_dw(d, oh, ow, &why) != SEPTUNE_OK) return stage_error(block, stage, &why, err);
  return SEPTUNE_OK;
}

static septune_status pw_stage(const char *block, const char *stage, const septune_pointwise_desc *p,
                               septune_error *err)
{
  septune_error why;
  if (validate_pw(p, &why) != SEPTUNE_OK) return stage_error(block, stage, &why, err);
  return SEPTUNE_OK;
}

/* field `what` (value `got`) must equal `want`, described by `of`. */
#define CHAIN_CHECK(err, block, what, got, want, of)                                              \
  if ((got) != (want))                                                                            \
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "%s: %s (%lld) must equal %s (%lld)", block, \
                             what, (long long)(got), of, (long long)(want))

/* The pointwise stage `p` named `name` reads the depthwise stage's output
 * (oh x ow pixels of c*multiplier channels). */
static septune_status chain_dw_to_pw(const char *block, const char *name, const septune_depthwise_desc *d,
                                     int64_t oh, int64_t ow, const septune_pointwise_desc *p, septune_error *err)
{
  char what[32];
  snprintf(what, sizeof what, "%s.n", name);
  CHAIN_CHECK(err, block, what, p->n, d->n, "dw.n");
  snprintf(what, sizeof what, "%s.h", name);
  CHAIN_CHECK(err, block, what, p->h, oh, "dw's output height");
  snprintf(what, sizeof what, "%s.w", name);
  CHAIN_CHECK(err, block, what, p->w, ow, "dw's output width");
  snprintf(what, sizeof what, "%s.ci", name);
  CHAIN_CHECK(err, block, what, p->ci, d->c * d->multiplier, "dw.c * dw.multiplier");
  return SEPTUNE_OK;
}

/* The weights (or bias) of all stages together fit size_t bytes. */
static septune_status block_bytes(const char *block, const size_t *counts, int stages, septune_error *err)
{
  size_t total = 0;
  for (int i = 0; i < stages; i++)
    if (counts[i] > SIZE_MAX / sizeof(float) - total)
      return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                               "%s: the stages' weights together overflow size_t bytes", block);
    else
      total += counts[i];
  return SEPTUNE_OK;
}

static septune_status validate_sep(const septune_separable_desc *b, int64_t *oh, int64_t *ow, septune_error *err)
{
  const char *block = "separable";
  septune_status st = dw_stage(block, "dw", &b->dw, oh, ow, err);
  if (st == SEPTUNE_OK) st = pw_stage(block, "pw", &b->pw, err);
  if (st == SEPTUNE_OK) st = chain_dw_to_pw(block, "pw", &b->dw, *oh, *ow, &b->pw, err);
  if (st != SEPTUNE_OK) return st;
  size_t counts[2] = { (size_t)(b->dw.kh * b->dw.kw * b->dw.c * b->dw.multiplier), (size_t)(b->pw.ci * b->pw.co) };
  return block_bytes(block, counts, 2, err);
}

static septune_status validate_ir(const septune_inverted_residual_desc *b, int64_t *oh, int64_t *ow,
                                  septune_error *err)
{
  const char *block = "inverted residual";
  septune_status st = pw_stage(block, "expand", &b->expand, err);
  if (st == SEPTUNE_OK) st = dw_stage(block, "dw", &b->dw, oh, ow, err);
  if (st == SEPTUNE_OK) st = pw_stage(block, "project", &b->project, err);
  if (st != SEPTUNE_OK) return st;
  CHAIN_CHECK(err, block, "dw.n", b->dw.n, b->expand.n, "expand.n");
  CHAIN_CHECK(err, block, "dw.h", b->dw.h, b->expand.h, "expand.h");
  CHAIN_CHECK(err, block, "dw.w", b->dw.w, b->expand.w, "expand.w");
  CHAIN_CHECK(err, block, "dw.c", b->dw.c, b->expand.co, "expand.co");
  st = chain_dw_to_pw(block, "project", &b->dw, *oh, *ow, &b->project, err);
  if (st != SEPTUNE_OK) return st;
  if (b->residual != 0 && b->residual != 1)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "%s: residual must be 0 or 1 (got %d)", block,
                             b->residual);
  if (b->residual) {
    if (b->dw.stride_h != 1 || b->dw.stride_w != 1)
      return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                               "%s: residual=1 needs stride 1 (dw.stride_h is %lld, dw.stride_w %lld): the output "
                               "must be shaped like the input",
                               block, (long long)b->dw.stride_h, (long long)b->dw.stride_w);
    if (*oh != b->expand.h || *ow != b->expand.w)
      return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                               "%s: residual=1 needs the output %lldx%lld to be the input's %lldx%lld (dw's padding)",
                               block, (long long)*oh, (long long)*ow, (long long)b->expand.h,
                               (long long)b->expand.w);
    if (b->project.co != b->expand.ci)
      return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                               "%s: residual=1 needs project.co (%lld) to equal expand.ci (%lld)", block,
                               (long long)b->project.co, (long long)b->expand.ci);
  }
  size_t counts[3] = { (size_t)(b->expand.ci * b->expand.co),
                       (size_t)(b->dw.kh * b->dw.kw * b->dw.c * b->dw.multiplier),
                       (size_t)(b->project.ci * b->project.co) };
  return block_bytes(block, counts, 3, err);
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
    case SEPTUNE_OP_SEPARABLE:
      return validate_sep(&op->u.sep, oh, ow, err);
    case SEPTUNE_OP_INVERTED_RESIDUAL:
      return validate_ir(&op->u.ir, oh, ow, err);
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
  if (op->kind == SEPTUNE_OP_SEPARABLE || op->kind == SEPTUNE_OP_INVERTED_RESIDUAL) {
    septune_op stage[SEPTUNE_MAX_STAGES];
    int stages = septune_op_stages(op, stage);
    size_t wi, bi, sum_w = 0, sum_b = 0;
    for (int i = 0; i < stages; i++) {
      septune_op_tensor_sizes(&stage[i], NULL, NULL, &wi, &bi, NULL);
      sum_w += wi;
      if (septune_op_has_bias(&stage[i])) sum_b += bi;
    }
    septune_op_tensor_sizes(&stage[0], &in_n, NULL, NULL, NULL, NULL);
    septune_op_tensor_sizes(&stage[stages - 1], NULL, &out_n, NULL, NULL, NULL);
    w_n = sum_w;
    b_n = sum_b;
  } else if (op->kind == SEPTUNE_OP_DEPTHWISE) {
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
  if (op->kind == SEPTUNE_OP_SEPARABLE || op->kind == SEPTUNE_OP_INVERTED_RESIDUAL) {
    septune_op stage[SEPTUNE_MAX_STAGES];
    int stages = septune_op_stages(op, stage);
    double sum = 0;
    for (int i = 0; i < stages; i++) sum += septune_op_flops(&stage[i]);
    return sum;
  } else if (op->kind == SEPTUNE_OP_DEPTHWISE) {
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
  switch (one->kind) {
    case SEPTUNE_OP_DEPTHWISE:
      one->u.dw.n = 1;
      break;
    case SEPTUNE_OP_POINTWISE:
      one->u.pw.n = 1;
      break;
    case SEPTUNE_OP_SEPARABLE:
      one->u.sep.dw.n = one->u.sep.pw.n = 1;
      break;
    case SEPTUNE_OP_INVERTED_RESIDUAL:
      one->u.ir.expand.n = one->u.ir.dw.n = one->u.ir.project.n = 1;
      break;
  }
}

int septune_op_stages(const septune_op *op, septune_op stage[SEPTUNE_MAX_STAGES])
{
  memset(stage, 0, SEPTUNE_MAX_STAGES * sizeof *stage);
  switch (op->kind) {
    case SEPTUNE_OP_SEPARABLE:
      stage[0].kind = SEPTUNE_OP_DEPTHWISE;
      stage[0].u.dw = op->u.sep.dw;
      stage[1].kind = SEPTUNE_OP_POINTWISE;
      stage[1].u.pw = op->u.sep.pw;
      return 2;
    case SEPTUNE_OP_INVERTED_RESIDUAL:
      stage[0].kind = SEPTUNE_OP_POINTWISE;
      stage[0].u.pw = op->u.ir.expand;
      stage[1].kind = SEPTUNE_OP_DEPTHWISE;
      stage[1].u.dw = op->u.ir.dw;
      stage[2].kind = SEPTUNE_OP_POINTWISE;
      stage[2].u.pw = op->u.ir.project;
      return 3;
    case SEPTUNE_OP_DEPTHWISE:
    case SEPTUNE_OP_POINTWISE:
      break;
  }
  stage[0] = *op;
  return 1;
}

int septune_op_has_bias(const septune_op *op)
{
  switch (op->kind) {
    case SEPTUNE_OP_DEPTHWISE:
      return op->u.dw.has_bias;
    case SEPTUNE_OP_POINTWISE:
      return op->u.pw.has_bias;
    case SEPTUNE_OP_SEPARABLE:
      return op->u.sep.dw.has_bias || op->u.sep.pw.has_bias;
    case SEPTUNE_OP_INVERTED_RESIDUAL:
      return op->u.ir.expand.has_bias || op->u.ir.dw.has_bias || op->u.ir.project.has_bias;
  }
  return 0;
}

int64_t septune_op_batch(const septune_op *op)
{
  septune_op stage[SEPTUNE_MAX_STAGES];
  septune_op_stages(op, stage);
  return stage[0].kind == SEPTUNE_OP_DEPTHWISE ? stage[0].u.dw.n : stage[0].u.pw.n;
}
