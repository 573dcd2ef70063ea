/*
 * test_reference.c — the reference kernels against small cases computed by
 * hand, and septune_weights_from_pytorch against index formulas written
 * independently (plus a direct PyTorch-layout convolution on random shapes).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "septune.h"
#include "test_ops.h"


/* Runs the reference and compares with `want` (count values, exact up to
 * a small tolerance). */
static void run_and_check(const septune_op *op, const float *wt, const float *bias,
                          const float *in, const float *want, size_t count)
{
  float out[64];
  size_t out_n = 0, i;
  septune_error err;
  assert_true(count <= 64);
  assert_int_equal(septune_op_tensor_sizes(op, NULL, &out_n, NULL, NULL, NULL), SEPTUNE_OK);
  assert_int_equal(out_n, count);
  for (i = 0; i < 64; i++) out[i] = -12345.0f;
  if (septune_reference_execute(op, wt, bias, in, out, &err) != SEPTUNE_OK)
    fail_msg("%s", err.message);
  assert_int_equal(err.status, SEPTUNE_OK);
  for (i = 0; i < count; i++)
    if (fabsf(out[i] - want[i]) > 1e-5f * (1.0f + fabsf(want[i])))
      fail_msg("out[%zu] = %.9g, want %.9g", i, (double)out[i], (double)want[i]);
  assert_true(count == 64 || out[count] == -12345.0f);   /* nothing written past the end */
}

static void test_dw_3x3_by_2x2(void **state)
{
  static const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  static const float wt[4] = {1, 2, 3, 4};
  /* 1*1+2*2+4*3+5*4 = 37, 2+6+15+24 = 47, 4+10+21+32 = 67, 5+12+24+36 = 77 */
  static const float want[4] = {37, 47, 67, 77};
  static const float bias[1] = {0.5f};
  static const float want_b[4] = {37.5f, 47.5f, 67.5f, 77.5f};
  septune_op op = make_dw(3, 3, 1, 2, 1);
  (void)state;
  run_and_check(&op, wt, NULL, in, want, 4);
  op.u.dw.has_bias = 1;
  run_and_check(&op, wt, bias, in, want_b, 4);
}

static void test_dw_two_channels_nhwc(void **state)
{
  /* [1][2][2][2]: pixel (y,x) channel c = 10*c + 2*y + x + 1; 1x1 kernel
   * scales channel 0 by 2 and channel 1 by -1. */
  static const float in[8] = {1, 11, 2, 12, 3, 13, 4, 14};
  static const float wt[2] = {2, -1};
  static const float want[8] = {2, -11, 4, -12, 6, -13, 8, -14};
  septune_op op = make_dw(2, 2, 2, 1, 1);
  (void)state;
  run_and_check(&op, wt, NULL, in, want, 8);
}

static void test_dw_multiplier_order(void **state)
{
  /* c=2, m=2: output channel o = ci*2 + m. Weights [1][1][4]. */
  static const float in[4] = {1, 10, 2, 20};   /* [1][1][2][2] */
  static const float wt[4] = {1, 2, 3, 4};
  static const float bias[4] = {0.25f, 0.5f, 0.75f, 1.0f};
  static const float want[8] = {1, 2, 30, 40, 2, 4, 60, 80};
  static const float want_b[8] = {1.25f, 2.5f, 30.75f, 41, 2.25f, 4.5f, 60.75f, 81};
  septune_op op = make_dw(1, 2, 2, 1, 1);
  (void)state;
  op.u.dw.multiplier = 2;
  run_and_check(&op, wt, NULL, in, want, 8);
  op.u.dw.has_bias = 1;
  run_and_check(&op, wt, bias, in, want_b, 8);
}

static void test_dw_stride2_same_asymmetric(void **state)
{
  /* 4x4 input 1..16, 3x3 ones, stride 2, SAME: out 2x2, pad top/left 0,
   * bottom/right 1. Output (0,0) = rows 0-2 x cols 0-2 = 6+18+30;
   * (0,1) = cols 2-3: 7+15+23; (1,0) = rows 2-3: 30+42; (1,1) = 23+31. */
  float in[16], wt[9];
  static const float want[4] = {54, 45, 72, 54};
  septune_op op = make_dw(4, 4, 1, 3, 2);
  int i;
  (void)state;
  for (i = 0; i < 16; i++) in[i] = (float)(i + 1);
  for (i = 0; i < 9; i++) wt[i] = 1.0f;
  assert_int_equal(septune_depthwise_pad_same(&op.u.dw, NULL), SEPTUNE_OK);
  assert_int_equal(op.u.dw.pad_top, 0);
  assert_int_equal(op.u.dw.pad_bottom, 1);
  run_and_check(&op, wt, NULL, in, want, 4);
}

static void test_dw_dilation2(void **state)
{
  /* 5x5 input 1..25, 3x3 kernel 1..9, dilation 2.
   * valid: taps rows/cols {0,2,4}: 1*1+2*3+3*5 + 4*11+5*13+6*15 + 7*21+8*23+9*25 = 777.
   * same (pads 2): corner (0,0) sees (0,0),(0,2),(2,0),(2,2) with kernel
   * taps 5,6,8,9: 5*1+6*3+8*11+9*13 = 228; centre (2,2) = 777. */
  float in[25], wt[9], out[25];
  static const float want_valid[1] = {777};
  septune_op op = make_dw(5, 5, 1, 3, 1);
  int i;
  (void)state;
  for (i = 0; i < 25; i++) in[i] = (float)(i + 1);
  for (i = 0; i < 9; i++) wt[i] = (float)(i + 1);
  op.u.dw.dilation_h = op.u.dw.dilation_w = 2;
  run_and_check(&op, wt, NULL, in, want_valid, 1);
  assert_int_equal(septune_depthwise_pad_same(&op.u.dw, NULL), SEPTUNE_OK);
  assert_int_equal(op.u.dw.pad_top, 2);
  assert_int_equal(op.u.dw.pad_right, 2);
  assert_int_equal(septune_reference_execute(&op, wt, NULL, in, out, NULL), SEPTUNE_OK);
  assert_float_equal(out[0], 228.0f, 1e-4);
  assert_float_equal(out[12], 777.0f, 1e-4);
  /* (4,4) mirrors (0,0): taps 1,2,4,5 on (2,2),(2,4),(4,2),(4,4). */
  assert_float_equal(out[24], 1 * 13 + 2 * 15 + 4 * 23 + 5 * 25, 1e-4);
}

static void test_dw_batch_and_rect(void **state)
{
  /* n=2, 2x3 input, kernel 1x2 (kh=1, kw=2), stride (1,1): output 2x2 per image;
   * out = in[x]*1 + in[x+1]*10. */
  static const float in[12] = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6};
  static const float wt[2] = {1, 10};
  static const float want[8] = {21, 32, 54, 65, -21, -32, -54, -65};
  septune_op op = make_dw(2, 3, 1, 1, 1);
  (void)state;
  op.u.dw.n = 2;
  op.u.dw.kw = 2;
  run_and_check(&op, wt, NULL, in, want, 8);
}

static void test_activations(void **state)
{
  static const float in[9] = {-4, -3, -1, 0, 1, 3, 5, 6, 7};
  static const float wt[1] = {1};
  static const float relu[9] = {0, 0, 0, 0, 1, 3, 5, 6, 7};
  static const float relu6[9] = {0, 0, 0, 0, 1, 3, 5, 6, 6};
  static const float clamp[9] = {-1, -1, -1, 0, 1, 2, 2, 2, 2};
  /* x * min(max(x+3, 0), 6) / 6: -4 -> 0, -3 -> 0, -1 -> -2/6, 1 -> 4/6, 3 -> 3, x >= 3 -> x */
  const float hswish[9] = {0, 0, -1.0f / 3.0f, 0, 2.0f / 3.0f, 3, 5, 6, 7};
  septune_op op = make_pw(3, 3, 1, 1);
  septune_op dw = make_dw(3, 3, 1, 1, 1);
  (void)state;
  run_and_check(&op, wt, NULL, in, in, 9);
  op.u.pw.act = SEPTUNE_ACT_RELU;
  run_and_check(&op, wt, NULL, in, relu, 9);
  op.u.pw.act = SEPTUNE_ACT_RELU6;
  run_and_check(&op, wt, NULL, in, relu6, 9);
  op.u.pw.act = SEPTUNE_ACT_CLAMP;
  op.u.pw.act_min = -1.0f;
  op.u.pw.act_max = 2.0f;
  run_and_check(&op, wt, NULL, in, clamp, 9);
  op.u.pw.act = SEPTUNE_ACT_HSWISH;
  run_and_check(&op, wt, NULL, in, hswish, 9);
  {
    /* PyTorch's functional.hardsigmoid, sigmoid, silu, gelu and
     * gelu(approximate='tanh') of the same inputs, in float64 */
    static const struct { septune_activation act; float want[9]; } smooth[] = {
      { SEPTUNE_ACT_HSIGMOID, { 0, 0, 0.333333333f, 0.5f, 0.666666667f, 1, 1, 1, 1 } },
      { SEPTUNE_ACT_SIGMOID, { 0.01798621f, 0.0474258732f, 0.268941421f, 0.5f, 0.731058579f, 0.952574127f,
                               0.993307149f, 0.997527377f, 0.999088949f } },
      { SEPTUNE_ACT_SILU, { -0.0719448398f, -0.14227762f, -0.268941421f, 0, 0.731058579f, 2.85772238f,
                            4.96653575f, 5.98516426f, 6.99362264f } },
      { SEPTUNE_ACT_GELU, { -0.000126684967f, -0.00404969409f, -0.158655254f, 0, 0.841344746f, 2.99595031f,
                            4.99999857f, 5.99999999f, 7 } },
      { SEPTUNE_ACT_GELU_TANH, { -7.02459482e-05f, -0.00363739208f, -0.158808009f, 0, 0.841191991f,
                                 2.99636261f, 4.99999977f, 6, 7 } },
    };
    for (size_t a = 0; a < sizeof smooth / sizeof smooth[0]; a++) {
      op.u.pw.act = smooth[a].act;
      run_and_check(&op, wt, NULL, in, smooth[a].want, 9);
    }
  }
  op.u.pw.act = SEPTUNE_ACT_HSWISH;
  /* Same through the depthwise path, and the bias is added before the
   * activation: -4 + 1 = -3 -> hswish 0, -3 + 1 = -2 -> -1/3. */
  dw.u.dw.act = SEPTUNE_ACT_HSWISH;
  run_and_check(&dw, wt, NULL, in, hswish, 9);
  {
    static const float b[1] = {1};
    const float want[9] = {0, -1.0f / 3.0f, 0, 2.0f / 3.0f, 5.0f / 3.0f, 4, 6, 7, 8};
    dw.u.dw.has_bias = 1;
    run_and_check(&dw, wt, b, in, want, 9);
    dw.u.dw.act = SEPTUNE_ACT_RELU6;
    {
      static const float want6[9] = {0, 0, 0, 1, 2, 4, 6, 6, 6};
      run_and_check(&dw, wt, b, in, want6, 9);
    }
  }
}

static void test_pointwise_by_hand(void **state)
{
  /* 2 pixels x 3 channels times 3x2 weights [ci][co]:
   * [1 2 3] . [[1 2][3 4][5 6]] = [22 28]; [4 5 6] -> [49 64]. */
  static const float in[6] = {1, 2, 3, 4, 5, 6};
  static const float wt[6] = {1, 2, 3, 4, 5, 6};
  static const float want[4] = {22, 28, 49, 64};
  static const float bias[2] = {1, -1};
  static const float want_b[4] = {23, 27, 50, 63};
  static const float want_relu6[4] = {6, 6, 6, 6};
  septune_op op = make_pw(1, 2, 3, 2);
  (void)state;
  run_and_check(&op, wt, NULL, in, want, 4);
  op.u.pw.has_bias = 1;
  run_and_check(&op, wt, bias, in, want_b, 4);
  op.u.pw.act = SEPTUNE_ACT_RELU6;
  run_and_check(&op, wt, bias, in, want_relu6, 4);
  /* Batch 2 of 1x1 images is the same GEMM. */
  op = make_pw(1, 1, 3, 2);
  op.u.pw.n = 2;
  run_and_check(&op, wt, NULL, in, want, 4);
}

static void test_errors(void **state)
{
  float buf[16] = {0};
  septune_op op = make_pw(1, 2, 3, 2);
  septune_error err;
  (void)state;
  assert_int_equal(septune_reference_execute(&op, NULL, NULL, buf, buf + 8, &err),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "weights"));
  assert_int_equal(septune_reference_execute(&op, buf, NULL, NULL, buf + 8, &err),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "input"));
  assert_int_equal(septune_reference_execute(&op, buf, NULL, buf, NULL, &err),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "output"));
  op.u.pw.has_bias = 1;
  assert_int_equal(septune_reference_execute(&op, buf, NULL, buf, buf + 8, &err),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "bias"));
  op = make_dw(2, 2, 1, 1, 1);
  op.u.dw.has_bias = 1;
  assert_int_equal(septune_reference_execute(&op, buf, NULL, buf, buf + 8, NULL),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  op.u.dw.kh = 3;   /* output height 0 */
  op.u.dw.has_bias = 0;
  assert_int_equal(septune_reference_execute(&op, buf, NULL, buf, buf + 8, &err),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "output height"));
  assert_int_equal(septune_reference_execute(NULL, buf, NULL, buf, buf + 8, NULL),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------------ */
/* weights_from_pytorch                                                      */

static uint32_t rng_state = 12345u;

static uint32_t rnd(void)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}

static int64_t rnd_range(int64_t lo, int64_t hi)
{
  return lo + (int64_t)(rnd() % (uint32_t)(hi - lo + 1));
}

static float rnd_float(void)
{
  return (float)(rnd() % 2001) / 1000.0f - 1.0f;
}

static void test_weights_pointwise(void **state)
{
  int round;
  (void)state;
  for (round = 0; round < 50; round++) {
    int64_t ci = rnd_range(1, 40), co = rnd_range(1, 40), a, b;
    septune_op op = make_pw(1, 1, ci, co);
    float *src = malloc(sizeof(float) * (size_t)(ci * co));
    float *dst = malloc(sizeof(float) * (size_t)(ci * co));
    assert_non_null(src);
    assert_non_null(dst);
    for (a = 0; a < ci * co; a++) src[a] = rnd_float();
    assert_int_equal(septune_weights_from_pytorch(&op, src, dst, NULL), SEPTUNE_OK);
    /* PyTorch weight[a][b][0][0] is output a, input b: offset a*ci + b;
     * canonical [ci][co] puts it at b*co + a. */
    for (a = 0; a < co; a++)
      for (b = 0; b < ci; b++) assert_true(dst[b * co + a] == src[a * ci + b]);
    free(src);
    free(dst);
  }
}

static void test_weights_depthwise(void **state)
{
  int round;
  (void)state;
  for (round = 0; round < 50; round++) {
    int64_t c = rnd_range(1, 12), m = rnd_range(1, 3), kh = rnd_range(1, 5), kw = rnd_range(1, 5);
    int64_t cm = c * m, i, o, y, x;
    septune_op op = make_dw(8, 8, c, 1, 1);
    float *src, *dst;
    op.u.dw.kh = kh;
    op.u.dw.kw = kw;
    op.u.dw.multiplier = m;
    src = malloc(sizeof(float) * (size_t)(cm * kh * kw));
    dst = malloc(sizeof(float) * (size_t)(cm * kh * kw));
    assert_non_null(src);
    assert_non_null(dst);
    for (i = 0; i < cm * kh * kw; i++) src[i] = rnd_float();
    assert_int_equal(septune_weights_from_pytorch(&op, src, dst, NULL), SEPTUNE_OK);
    /* PyTorch [cm][1][kh][kw]: strides (kh*kw, kh*kw, kw, 1).
     * Canonical [kh][kw][cm]: strides (kw*cm, cm, 1). */
    for (o = 0; o < cm; o++)
      for (y = 0; y < kh; y++)
        for (x = 0; x < kw; x++)
          assert_true(dst[y * (kw * cm) + x * cm + o] == src[o * (kh * kw) + y * kw + x]);
    free(src);
    free(dst);
  }
}

/* A direct depthwise convolution in PyTorch's terms (OIHW weights, output
 * channel o reads input channel o / m, double accumulation), compared with
 * the reference fed the converted weights. */
static void test_reference_vs_pytorch_layout(void **state)
{
  int round;
  (void)state;
  for (round = 0; round < 40; round++) {
    septune_op op = make_dw(rnd_range(1, 9), rnd_range(1, 9), rnd_range(1, 5),
                            rnd_range(1, 4), rnd_range(1, 3));
    septune_depthwise_desc *d = &op.u.dw;
    size_t in_n, out_n, w_n, b_n, i;
    float *in, *out, *wt_pt, *wt, *bias;
    int64_t oh, ow, b, oy, ox, o, ky, kx;
    d->n = rnd_range(1, 2);
    d->kw = rnd_range(1, 4);
    d->stride_w = rnd_range(1, 3);
    d->dilation_h = rnd_range(1, 2);
    d->dilation_w = rnd_range(1, 2);
    d->multiplier = rnd_range(1, 3);
    d->has_bias = (int)rnd_range(0, 1);
    d->act = (septune_activation)rnd_range(0, 4);
    d->act_min = -0.5f;
    d->act_max = 0.5f;
    if (rnd() % 2) {
      assert_int_equal(septune_depthwise_pad_same(d, NULL), SEPTUNE_OK);
    } else {
      d->pad_top = rnd_range(0, 3);
      d->pad_left = rnd_range(0, 3);
      d->pad_bottom = rnd_range(0, 3);
      d->pad_right = rnd_range(0, 3);
    }
    if (septune_op_tensor_sizes(&op, &in_n, &out_n, &w_n, &b_n, NULL) != SEPTUNE_OK) {
      round--;   /* the kernel did not fit: draw again */
      continue;
    }
    septune_op_output_size(&op, &oh, &ow, NULL);
    in = malloc(in_n * sizeof(float));
    out = malloc(out_n * sizeof(float));
    wt_pt = malloc(w_n * sizeof(float));
    wt = malloc(w_n * sizeof(float));
    bias = malloc(b_n * sizeof(float));
    assert_true(in && out && wt_pt && wt && bias);
    for (i = 0; i < in_n; i++) in[i] = rnd_float();
    for (i = 0; i < w_n; i++) wt_pt[i] = rnd_float();
    for (i = 0; i < b_n; i++) bias[i] = rnd_float();
    assert_int_equal(septune_weights_from_pytorch(&op, wt_pt, wt, NULL), SEPTUNE_OK);
    assert_int_equal(septune_reference_execute(&op, wt, d->has_bias ? bias : NULL, in, out, NULL),
                     SEPTUNE_OK);
    for (b = 0; b < d->n; b++)
      for (oy = 0; oy < oh; oy++)
        for (ox = 0; ox < ow; ox++)
          for (o = 0; o < d->c * d->multiplier; o++) {
            double acc = d->has_bias ? bias[o] : 0.0, t;
            float got = out[((b * oh + oy) * ow + ox) * d->c * d->multiplier + o];
            int64_t cin = o / d->multiplier;
            for (ky = 0; ky < d->kh; ky++)
              for (kx = 0; kx < d->kw; kx++) {
                int64_t iy = oy * d->stride_h + ky * d->dilation_h - d->pad_top;
                int64_t ix = ox * d->stride_w + kx * d->dilation_w - d->pad_left;
                if (iy >= 0 && iy < d->h && ix >= 0 && ix < d->w)
                  acc += (double)in[((b * d->h + iy) * d->w + ix) * d->c + cin] *
                         wt_pt[(o * d->kh + ky) * d->kw + kx];
              }
            switch (d->act) {
              case SEPTUNE_ACT_RELU: acc = acc > 0 ? acc : 0; break;
              case SEPTUNE_ACT_RELU6: acc = acc > 6 ? 6 : (acc > 0 ? acc : 0); break;
              case SEPTUNE_ACT_CLAMP: acc = acc > 0.5 ? 0.5 : (acc < -0.5 ? -0.5 : acc); break;
              case SEPTUNE_ACT_HSWISH:
                t = acc + 3 > 6 ? 6 : (acc + 3 > 0 ? acc + 3 : 0);
                acc = acc * t / 6;
                break;
              default: break;
            }
            if (fabs(got - acc) > 1e-4)
              fail_msg("round %d o=%lld: got %.9g want %.9g", round, (long long)o, (double)got,
                       acc);
          }
    free(in);
    free(out);
    free(wt_pt);
    free(wt);
    free(bias);
  }
}

static void test_weights_errors(void **state)
{
  float buf[32];
  septune_op op = make_pw(1, 1, 2, 3);
  septune_error err;
  (void)state;
  assert_int_equal(septune_weights_from_pytorch(&op, NULL, buf, &err),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "src"));
  assert_int_equal(septune_weights_from_pytorch(&op, buf, NULL, &err),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "dst"));
  assert_int_equal(septune_weights_from_pytorch(NULL, buf, buf + 16, &err),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_int_equal(septune_weights_from_pytorch(&op, buf, buf + 3, &err),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "overlap"));
  assert_int_equal(septune_weights_from_pytorch(&op, buf, buf + 6, &err), SEPTUNE_OK);
  op.u.pw.co = 0;
  assert_int_equal(septune_weights_from_pytorch(&op, buf, buf + 16, &err),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "co"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_dw_3x3_by_2x2),
    cmocka_unit_test(test_dw_two_channels_nhwc),
    cmocka_unit_test(test_dw_multiplier_order),
    cmocka_unit_test(test_dw_stride2_same_asymmetric),
    cmocka_unit_test(test_dw_dilation2),
    cmocka_unit_test(test_dw_batch_and_rect),
    cmocka_unit_test(test_activations),
    cmocka_unit_test(test_pointwise_by_hand),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_weights_pointwise),
    cmocka_unit_test(test_weights_depthwise),
    cmocka_unit_test(test_reference_vs_pytorch_layout),
    cmocka_unit_test(test_weights_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
