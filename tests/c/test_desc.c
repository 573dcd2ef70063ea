/*
 * test_desc.c — descriptors: validation (every bad field of the header's
 * list), TensorFlow "same" padding against values computed by hand, output
 * and tensor sizes, flops, status and activation names.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "septune.h"
#include "test_ops.h"


/* Asserts op is rejected with a message containing each of the words. */
static void expect_invalid(const septune_op *op, const char *word1, const char *word2)
{
  septune_error err;
  septune_status st;
  memset(&err, 0, sizeof(err));
  st = septune_op_validate(op, &err);
  if (st != SEPTUNE_ERR_INVALID_ARGUMENT || err.status != st ||
      strstr(err.message, word1) == NULL || (word2 != NULL && strstr(err.message, word2) == NULL))
    fail_msg("status %d, message '%s', wanted words '%s' '%s'", (int)st, err.message, word1,
             word2 != NULL ? word2 : "");
  /* Every other entry point rejects it the same way. */
  assert_int_equal(septune_op_validate(op, NULL), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_int_equal(septune_op_output_size(op, NULL, NULL, NULL), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_int_equal(septune_op_tensor_sizes(op, NULL, NULL, NULL, NULL, NULL),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_true(septune_op_flops(op) == 0.0);
}

static void expect_valid(const septune_op *op)
{
  septune_error err;
  memset(&err, 0x55, sizeof(err));
  if (septune_op_validate(op, &err) != SEPTUNE_OK) fail_msg("unexpected: %s", err.message);
  assert_int_equal(err.status, SEPTUNE_OK);
  assert_string_equal(err.message, "");
}

static void test_init_defaults_valid(void **state)
{
  septune_op dw, pw;
  (void)state;
  memset(&dw, 0x7f, sizeof(dw));
  dw.kind = SEPTUNE_OP_DEPTHWISE;
  septune_depthwise_desc_init(&dw.u.dw);
  assert_int_equal(dw.u.dw.n, 1);
  assert_int_equal(dw.u.dw.kh, 1);
  assert_int_equal(dw.u.dw.stride_w, 1);
  assert_int_equal(dw.u.dw.dilation_h, 1);
  assert_int_equal(dw.u.dw.pad_right, 0);
  assert_int_equal(dw.u.dw.multiplier, 1);
  assert_int_equal(dw.u.dw.has_bias, 0);
  assert_int_equal(dw.u.dw.act, SEPTUNE_ACT_NONE);
  expect_valid(&dw);
  memset(&pw, 0x7f, sizeof(pw));
  pw.kind = SEPTUNE_OP_POINTWISE;
  septune_pointwise_desc_init(&pw.u.pw);
  assert_int_equal(pw.u.pw.ci, 1);
  assert_int_equal(pw.u.pw.co, 1);
  assert_int_equal(pw.u.pw.has_bias, 0);
  expect_valid(&pw);
  septune_depthwise_desc_init(NULL);   /* no crash */
  septune_pointwise_desc_init(NULL);
}

#define DW_FIELD_CASE(field)                                  \
  do {                                                        \
    septune_op op = make_dw(8, 8, 4, 3, 1);                   \
    op.u.dw.field = 0;                                        \
    expect_invalid(&op, "depthwise", #field);                 \
    op.u.dw.field = -3;                                       \
    expect_invalid(&op, #field, "-3");                        \
  } while (0)

static void test_dw_dimension_fields(void **state)
{
  (void)state;
  DW_FIELD_CASE(n);
  DW_FIELD_CASE(h);
  DW_FIELD_CASE(w);
  DW_FIELD_CASE(c);
  DW_FIELD_CASE(kh);
  DW_FIELD_CASE(kw);
  DW_FIELD_CASE(stride_h);
  DW_FIELD_CASE(stride_w);
  DW_FIELD_CASE(dilation_h);
  DW_FIELD_CASE(dilation_w);
  DW_FIELD_CASE(multiplier);
  {
    septune_op op = make_dw(8, 8, 4, 3, 1);
    op.u.dw.c = INT64_MIN;
    expect_invalid(&op, "c must be >= 1", "-9223372036854775808");
  }
}

static void test_dw_negative_pads(void **state)
{
  static const char *const names[4] = {"pad_top", "pad_left", "pad_bottom", "pad_right"};
  int i;
  (void)state;
  for (i = 0; i < 4; i++) {
    septune_op op = make_dw(8, 8, 4, 3, 1);
    int64_t *pads[4] = {&op.u.dw.pad_top, &op.u.dw.pad_left, &op.u.dw.pad_bottom,
                        &op.u.dw.pad_right};
    *pads[i] = 0;
    expect_valid(&op);
    *pads[i] = -1;
    expect_invalid(&op, names[i], "-1");
  }
}

static void test_dw_output_size_zero(void **state)
{
  septune_error err;
  septune_op op = make_dw(2, 8, 4, 5, 1);
  (void)state;
  expect_invalid(&op, "output height", "h=2");
  septune_op_validate(&op, &err);
  assert_non_null(strstr(err.message, "kh=5"));
  /* Padding can make it fit: 2 + 3 = 5. */
  op.u.dw.pad_top = 1;
  op.u.dw.pad_bottom = 2;
  expect_valid(&op);
  /* Width, through dilation: extent 2*(3-1)+1 = 5 > 4. */
  op = make_dw(8, 4, 4, 3, 1);
  op.u.dw.dilation_w = 2;
  expect_invalid(&op, "output width", "w=4");
  op.u.dw.pad_right = 1;
  expect_valid(&op);
}

static void test_dw_int64_overflow(void **state)
{
  septune_op op = make_dw(INT64_MAX, 8, 4, 3, 1);
  (void)state;
  op.u.dw.pad_top = 1;
  expect_invalid(&op, "output height", "int64");
  op = make_dw(8, 8, 4, 3, 1);
  op.u.dw.dilation_w = INT64_MAX;
  expect_invalid(&op, "output width", "dilation_w");
  op = make_dw(8, 8, 4, INT64_MAX, 1);
  op.u.dw.pad_bottom = INT64_MAX;
  expect_invalid(&op, "output height", "int64");
}

static void test_dw_byte_overflow(void **state)
{
  septune_op op = make_dw(1 << 20, 1 << 20, (int64_t)1 << 20, 1, 1);
  (void)state;
  op.u.dw.n = 1 << 20;   /* 2^80 elements */
  expect_invalid(&op, "input", "size_t");
  /* 2^62 elements fit size_t; 2^62 * 4 bytes do not. */
  op = make_dw(1, 1, (int64_t)1 << 62, 1, 1);
  expect_invalid(&op, "input", "n*h*w*c*4");
  /* Output: input small, c*multiplier huge. */
  op = make_dw(1, 1, 1, 1, 1);
  op.u.dw.multiplier = (int64_t)1 << 62;
  expect_invalid(&op, "output", "multiplier");
  /* Weights: 1x1 output from a 2^31 x 2^31 kernel over a padded 1x1 input. */
  op = make_dw(1, 1, 1, (int64_t)1 << 31, 1);
  op.u.dw.pad_top = op.u.dw.pad_left = ((int64_t)1 << 31) - 1;
  expect_invalid(&op, "weights", "kh*kw");
  /* The largest that fits: 2^61 bytes of input, output and weights. */
  op = make_dw(1, 1, (int64_t)1 << 59, 1, 1);
  expect_valid(&op);
}

static void test_bias_act_kind(void **state)
{
  septune_op dw = make_dw(8, 8, 4, 3, 1), pw = make_pw(4, 4, 8, 8);
  septune_op op;
  (void)state;
  op = dw;
  op.u.dw.has_bias = 2;
  expect_invalid(&op, "has_bias", "2");
  op.u.dw.has_bias = -1;
  expect_invalid(&op, "has_bias", "-1");
  op = pw;
  op.u.pw.has_bias = 2;
  expect_invalid(&op, "pointwise", "has_bias");
  op.u.pw.has_bias = 1;
  expect_valid(&op);

  op = dw;
  op.u.dw.act = (septune_activation)99;
  expect_invalid(&op, "act", "99");
  op = pw;
  op.u.pw.act = (septune_activation)-1;
  expect_invalid(&op, "act", "-1");

  op = dw;
  op.u.dw.act = SEPTUNE_ACT_CLAMP;
  op.u.dw.act_min = 2.0f;
  op.u.dw.act_max = 1.0f;
  expect_invalid(&op, "act_min", "act_max");
  op.u.dw.act_min = op.u.dw.act_max = 1.0f;
  expect_valid(&op);
  op.u.dw.act_min = -INFINITY;
  op.u.dw.act_max = INFINITY;
  expect_valid(&op);
  op.u.dw.act_min = NAN;
  expect_invalid(&op, "act_min", "NaN");
  op.u.dw.act_min = 0.0f;
  op.u.dw.act_max = NAN;
  expect_invalid(&op, "act_max", "NaN");
  /* The bounds are ignored for other activations. */
  op.u.dw.act = SEPTUNE_ACT_RELU;
  expect_valid(&op);

  op = pw;
  op.u.pw.act = SEPTUNE_ACT_CLAMP;
  op.u.pw.act_min = 1.0f;
  op.u.pw.act_max = -1.0f;
  expect_invalid(&op, "pointwise", "act_min");

  op = dw;
  op.kind = (septune_op_kind)7;
  expect_invalid(&op, "kind", "7");
  op.kind = (septune_op_kind)0;
  expect_invalid(&op, "kind", "0");
}

#define PW_FIELD_CASE(field)                                  \
  do {                                                        \
    septune_op op = make_pw(4, 4, 8, 8);                      \
    op.u.pw.field = 0;                                        \
    expect_invalid(&op, "pointwise", #field);                 \
    op.u.pw.field = -5;                                       \
    expect_invalid(&op, #field, "-5");                        \
  } while (0)

static void test_pw_fields(void **state)
{
  septune_op op;
  (void)state;
  PW_FIELD_CASE(n);
  PW_FIELD_CASE(h);
  PW_FIELD_CASE(w);
  PW_FIELD_CASE(ci);
  PW_FIELD_CASE(co);
  op = make_pw((int64_t)1 << 31, (int64_t)1 << 31, 8, 1);
  expect_invalid(&op, "input", "n*h*w*ci*4");
  op = make_pw((int64_t)1 << 30, (int64_t)1 << 30, 1, 8);
  expect_invalid(&op, "output", "co");
  op = make_pw(1, 1, (int64_t)1 << 31, (int64_t)1 << 31);
  expect_invalid(&op, "weights", "ci*co");
  op = make_pw(1, 1, (int64_t)1 << 30, (int64_t)1 << 31);
  expect_valid(&op);
}

/* Pointwise clamp bounds and a tensor whose size overflows: what
 * test_bias_act_kind and test_pw_fields check for depthwise or other sizes. */
static void test_pw_clamp_and_overflow(void **state)
{
  septune_op op = make_pw(4, 4, 8, 8);
  (void)state;
  op.u.pw.act = SEPTUNE_ACT_CLAMP;
  op.u.pw.act_min = NAN;
  op.u.pw.act_max = 1.0f;
  expect_invalid(&op, "act_min", "NaN");
  op.u.pw.act_min = 0.0f;
  op.u.pw.act_max = NAN;
  expect_invalid(&op, "act_max", "NaN");
  op.u.pw.act_min = op.u.pw.act_max = 0.5f;
  expect_valid(&op);
  op.u.pw.act_min = -INFINITY;
  op.u.pw.act_max = INFINITY;
  expect_valid(&op);
  op.u.pw.act = SEPTUNE_ACT_HSWISH;   /* bounds ignored */
  op.u.pw.act_min = NAN;
  expect_valid(&op);
  /* 2^62 pixels: n*h*w*ci elements overflow before any byte count. */
  op = make_pw((int64_t)1 << 31, (int64_t)1 << 31, (int64_t)1 << 20, (int64_t)1 << 20);
  expect_invalid(&op, "pointwise", "input");
  /* n*h*w itself overflows int64. */
  op = make_pw((int64_t)1 << 40, (int64_t)1 << 40, 1, 1);
  expect_invalid(&op, "pointwise", "input");
}

static void test_null_pointers(void **state)
{
  septune_error err;
  septune_op op = make_dw(8, 8, 4, 3, 1);
  int64_t oh;
  size_t sz;
  (void)state;
  assert_int_equal(septune_op_validate(NULL, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_int_equal(err.status, SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "op"));
  assert_int_equal(septune_op_output_size(NULL, &oh, &oh, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_int_equal(septune_op_tensor_sizes(NULL, &sz, &sz, &sz, &sz, &err),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_true(septune_op_flops(NULL) == 0.0);
  assert_int_equal(septune_depthwise_pad_same(NULL, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "NULL"));
  assert_int_equal(septune_depthwise_pad_valid(NULL, NULL), SEPTUNE_ERR_INVALID_ARGUMENT);
  /* err may be NULL everywhere. */
  assert_int_equal(septune_op_validate(&op, NULL), SEPTUNE_OK);
  assert_int_equal(septune_depthwise_pad_same(&op.u.dw, NULL), SEPTUNE_OK);
}

/* pad_same on one axis (h and w set alike, then also checked crossed). */
static void check_same(int64_t in, int64_t k, int64_t s, int64_t d, int64_t lo, int64_t hi)
{
  septune_op op = make_dw(in, in, 2, k, s);
  septune_error err;
  int64_t oh = 0, ow = 0;
  op.u.dw.dilation_h = op.u.dw.dilation_w = d;
  op.u.dw.pad_top = op.u.dw.pad_left = op.u.dw.pad_bottom = op.u.dw.pad_right = 99;
  if (septune_depthwise_pad_same(&op.u.dw, &err) != SEPTUNE_OK) fail_msg("%s", err.message);
  if (op.u.dw.pad_top != lo || op.u.dw.pad_bottom != hi || op.u.dw.pad_left != lo ||
      op.u.dw.pad_right != hi)
    fail_msg("in=%lld k=%lld s=%lld d=%lld: got %lld,%lld,%lld,%lld want %lld,%lld", (long long)in,
             (long long)k, (long long)s, (long long)d, (long long)op.u.dw.pad_top,
             (long long)op.u.dw.pad_left, (long long)op.u.dw.pad_bottom,
             (long long)op.u.dw.pad_right, (long long)lo, (long long)hi);
  /* TensorFlow's "same" output size is ceil(in / stride). */
  assert_int_equal(septune_op_output_size(&op, &oh, &ow, &err), SEPTUNE_OK);
  assert_int_equal(oh, (in + s - 1) / s);
  assert_int_equal(ow, (in + s - 1) / s);
}

static void test_pad_same_values(void **state)
{
  (void)state;
  /*          in    k  s  d   top bottom   (computed by hand) */
  check_same(112,   3, 2, 1,  0,  1);  /* out 56: 55*2+3-112 = 1 */
  check_same(7,     3, 1, 1,  1,  1);  /* out 7: 6+3-7 = 2 */
  check_same(113,   3, 2, 1,  1,  1);  /* out 57: 112+3-113 = 2 */
  check_same(6,     3, 2, 1,  0,  1);  /* out 3: 4+3-6 = 1 */
  check_same(5,     3, 2, 1,  1,  1);  /* out 3: 4+3-5 = 2 */
  check_same(224,   7, 2, 1,  2,  3);  /* out 112: 222+7-224 = 5 */
  check_same(10,    4, 1, 1,  1,  2);  /* even kernel: 9+4-10 = 3 */
  check_same(14,    5, 1, 1,  2,  2);
  check_same(8,     1, 2, 1,  0,  0);  /* 6+1-8 < 0 -> 0 */
  check_same(10,    3, 1, 2,  2,  2);  /* dilation 2, extent 5: 9+5-10 = 4 */
  check_same(9,     3, 2, 2,  2,  2);  /* out 5: 8+5-9 = 4 */
  check_same(8,     3, 2, 2,  1,  2);  /* out 4: 6+5-8 = 3 */
  check_same(1,     3, 1, 1,  1,  1);
  check_same(1,     3, 2, 1,  1,  1);  /* out 1: 0+3-1 = 2 */
  check_same(3,     5, 3, 1,  1,  1);  /* out 1: 0+5-3 = 2 */
  check_same(4,     3, 3, 1,  1,  1);  /* out 2: 1*3+3-4 = 2 */
  check_same(4,     2, 3, 1,  0,  1);  /* out 2: 1*3+2-4 = 1 */
}

static void test_pad_same_asymmetric_axes(void **state)
{
  septune_op op = make_dw(112, 7, 8, 3, 2);
  (void)state;
  op.u.dw.kw = 5;
  op.u.dw.stride_w = 1;
  assert_int_equal(septune_depthwise_pad_same(&op.u.dw, NULL), SEPTUNE_OK);
  assert_int_equal(op.u.dw.pad_top, 0);
  assert_int_equal(op.u.dw.pad_bottom, 1);
  assert_int_equal(op.u.dw.pad_left, 2);
  assert_int_equal(op.u.dw.pad_right, 2);
  assert_int_equal(septune_depthwise_pad_valid(&op.u.dw, NULL), SEPTUNE_OK);
  assert_int_equal(op.u.dw.pad_top + op.u.dw.pad_left + op.u.dw.pad_bottom + op.u.dw.pad_right,
                   0);
}

static void test_pad_same_errors(void **state)
{
  static const char *const fields[] = {"h", "w", "kh", "kw", "stride_h", "stride_w",
                                       "dilation_h", "dilation_w"};
  size_t i;
  (void)state;
  for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    septune_op op = make_dw(8, 8, 4, 3, 1);
    septune_depthwise_desc *d = &op.u.dw;
    int64_t *f[] = {&d->h, &d->w, &d->kh, &d->kw, &d->stride_h, &d->stride_w, &d->dilation_h,
                    &d->dilation_w};
    septune_error err;
    char want[64];
    *f[i] = 0;
    assert_int_equal(septune_depthwise_pad_same(d, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
    snprintf(want, sizeof(want), "%s must be >= 1", fields[i]);
    if (strstr(err.message, want) == NULL) fail_msg("'%s' lacks '%s'", err.message, want);
  }
  {
    septune_op op = make_dw(8, 8, 4, 3, 1);
    septune_error err;
    op.u.dw.dilation_h = INT64_MAX;
    assert_int_equal(septune_depthwise_pad_same(&op.u.dw, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "dilation_h"));
  }
}

static void test_output_size(void **state)
{
  septune_op op = make_dw(7, 9, 4, 3, 2);
  int64_t oh = 0, ow = 0;
  (void)state;
  assert_int_equal(septune_op_output_size(&op, &oh, &ow, NULL), SEPTUNE_OK);
  assert_int_equal(oh, 3);   /* (7-3)/2+1 */
  assert_int_equal(ow, 4);   /* (9-3)/2+1 */
  op.u.dw.pad_top = 1;
  op.u.dw.pad_right = 2;
  op.u.dw.dilation_w = 2;
  assert_int_equal(septune_op_output_size(&op, &oh, &ow, NULL), SEPTUNE_OK);
  assert_int_equal(oh, 3);   /* (8-3)/2+1 = 3 */
  assert_int_equal(ow, 4);   /* (11-5)/2+1 = 4 */
  op = make_pw(5, 6, 3, 2);
  assert_int_equal(septune_op_output_size(&op, &oh, &ow, NULL), SEPTUNE_OK);
  assert_int_equal(oh, 5);
  assert_int_equal(ow, 6);
}

static void test_tensor_sizes(void **state)
{
  septune_op op = make_dw(5, 6, 3, 3, 1);
  size_t in = 0, out = 0, wt = 0, b = 0;
  (void)state;
  op.u.dw.n = 2;
  op.u.dw.multiplier = 2;
  assert_int_equal(septune_op_tensor_sizes(&op, &in, &out, &wt, &b, NULL), SEPTUNE_OK);
  assert_int_equal(in, 2 * 5 * 6 * 3);
  assert_int_equal(out, 2 * 3 * 4 * 6);
  assert_int_equal(wt, 3 * 3 * 6);
  assert_int_equal(b, 6);
  assert_int_equal(septune_op_tensor_sizes(&op, NULL, &out, NULL, NULL, NULL), SEPTUNE_OK);
  op = make_pw(3, 4, 5, 7);
  op.u.pw.n = 2;
  assert_int_equal(septune_op_tensor_sizes(&op, &in, &out, &wt, &b, NULL), SEPTUNE_OK);
  assert_int_equal(in, 120);
  assert_int_equal(out, 168);
  assert_int_equal(wt, 35);
  assert_int_equal(b, 7);
}

static void test_flops(void **state)
{
  septune_op op = make_dw(112, 112, 32, 3, 1);
  (void)state;
  septune_depthwise_pad_same(&op.u.dw, NULL);
  assert_true(septune_op_flops(&op) == 2.0 * 112 * 112 * 32 * 9);
  op = make_dw(5, 5, 4, 3, 1);
  op.u.dw.multiplier = 2;
  assert_true(septune_op_flops(&op) == 2.0 * 3 * 3 * 8 * 9);
  op = make_pw(56, 56, 24, 144);
  op.u.pw.n = 3;
  assert_true(septune_op_flops(&op) == 2.0 * 3 * 56 * 56 * 24 * 144);
  op.u.pw.co = 0;
  assert_true(septune_op_flops(&op) == 0.0);
}

static void test_names(void **state)
{
  (void)state;
  assert_string_equal(septune_status_string(SEPTUNE_OK), "ok");
  assert_string_equal(septune_status_string(SEPTUNE_ERR_INVALID_ARGUMENT), "invalid argument");
  assert_string_equal(septune_status_string(SEPTUNE_ERR_PARSE), "parse error");
  assert_string_equal(septune_status_string((septune_status)42), "unknown status");
  assert_string_equal(septune_status_string((septune_status)-1), "unknown status");
  assert_string_equal(septune_activation_name(SEPTUNE_ACT_NONE), "none");
  assert_string_equal(septune_activation_name(SEPTUNE_ACT_RELU), "relu");
  assert_string_equal(septune_activation_name(SEPTUNE_ACT_RELU6), "relu6");
  assert_string_equal(septune_activation_name(SEPTUNE_ACT_CLAMP), "clamp");
  assert_string_equal(septune_activation_name(SEPTUNE_ACT_HSWISH), "hswish");
  assert_string_equal(septune_activation_name(SEPTUNE_ACT_HSIGMOID), "hsigmoid");
  assert_string_equal(septune_activation_name(SEPTUNE_ACT_SIGMOID), "sigmoid");
  assert_string_equal(septune_activation_name(SEPTUNE_ACT_SILU), "silu");
  assert_string_equal(septune_activation_name(SEPTUNE_ACT_GELU), "gelu");
  assert_string_equal(septune_activation_name(SEPTUNE_ACT_GELU_TANH), "gelu_tanh");
  assert_string_equal(septune_activation_name((septune_activation)10), "unknown");
  assert_string_equal(septune_activation_name((septune_activation)-1), "unknown");
}

static void test_error_helper(void **state)
{
  septune_error err;
  char big[1000];
  (void)state;
  assert_int_equal(septune_error_set(NULL, SEPTUNE_ERR_IO, "x %d", 1), SEPTUNE_ERR_IO);
  assert_int_equal(septune_error_set(&err, SEPTUNE_ERR_IO, "file %s: %d", "a", 3), SEPTUNE_ERR_IO);
  assert_int_equal(err.status, SEPTUNE_ERR_IO);
  assert_string_equal(err.message, "file a: 3");
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  septune_error_set(&err, SEPTUNE_ERR_PARSE, "%s", big);
  assert_int_equal(strlen(err.message), SEPTUNE_ERROR_MESSAGE_SIZE - 1);
  assert_int_equal(septune_error_clear(&err), SEPTUNE_OK);
  assert_int_equal(err.status, SEPTUNE_OK);
  assert_string_equal(err.message, "");
  assert_int_equal(septune_error_clear(NULL), SEPTUNE_OK);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_init_defaults_valid),
    cmocka_unit_test(test_dw_dimension_fields),
    cmocka_unit_test(test_dw_negative_pads),
    cmocka_unit_test(test_dw_output_size_zero),
    cmocka_unit_test(test_dw_int64_overflow),
    cmocka_unit_test(test_dw_byte_overflow),
    cmocka_unit_test(test_bias_act_kind),
    cmocka_unit_test(test_pw_fields),
    cmocka_unit_test(test_pw_clamp_and_overflow),
    cmocka_unit_test(test_null_pointers),
    cmocka_unit_test(test_pad_same_values),
    cmocka_unit_test(test_pad_same_asymmetric_axes),
    cmocka_unit_test(test_pad_same_errors),
    cmocka_unit_test(test_output_size),
    cmocka_unit_test(test_tensor_sizes),
    cmocka_unit_test(test_flops),
    cmocka_unit_test(test_names),
    cmocka_unit_test(test_error_helper),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
