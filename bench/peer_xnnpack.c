/*
 * peer_xnnpack.c — XNNPACK (Debian's 2022-02 snapshot) behind bench_peer_vtbl.
 *
 * One xnn_create_convolution2d_nhwc_f32 operator per layer, set up and run
 * with a NULL threadpool (the calling thread only) for one thread, else with
 * a pthreadpool of bench_peers_threads() threads (one pool per count, made
 * once, shared by the operators):
 *   depthwise: groups = c, group_input_channels = 1, group_output_channels = m,
 *              XNN_FLAG_DEPTHWISE_CONVOLUTION, whose kernel layout
 *              [1][kh][kw][c*m] is exactly septune's canonical one;
 *   pointwise: groups = 1, ci -> co, kernel [co][1][1][ci] (transposed from
 *              the canonical [ci][co] at create time).
 * Padding is passed explicitly (XNNPACK's order: top, right, bottom, left) and
 * dilation as is (1 = dense). relu/relu6/clamp are fused via output_min/max;
 * hswish has no fused form, so it runs as a second XNNPACK operator
 * (hardswish_nc_f32) in place on the output, and that time is included.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xnnpack.h>

#include "peers.h"

struct bench_peer {
  pthreadpool_t pool;    /* NULL: the calling thread */
  xnn_operator_t conv;
  xnn_operator_t hswish; /* NULL unless act == hswish */
  size_t n, h, w;        /* input batch and spatial size */
  size_t out_pixels;     /* n * oh * ow */
  const float *last_in;  /* pointers the operators were last set up with */
  float *last_out;
  char impl[96];
};

static void say(char *why, size_t why_size, const char *fmt, ...)
{
  if (!why || why_size == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, why_size, fmt, ap);
  va_end(ap);
}

static const char *xnn_status_name(enum xnn_status s)
{
  switch (s) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
  }
  return "unknown status";
}

static enum xnn_status xnn_init_once(void)
{
  static int done = 0;
  static enum xnn_status status = xnn_status_success;
  if (!done) {
    status = xnn_initialize(NULL);
    done = 1;
  }
  return status;
}

/* The pool of `threads` threads the operators share; NULL for one thread
 * (and when it cannot be made: then the create fails). */
static pthreadpool_t pool_of(int threads, int *failed)
{
  static pthreadpool_t pools[8];
  static int counts[8];
  *failed = 0;
  if (threads <= 1) return NULL;
  for (int i = 0; i < 8; i++) {
    if (counts[i] == threads) return pools[i];
    if (counts[i] == 0) {
      pools[i] = pthreadpool_create((size_t)threads);
      if (!pools[i]) break;
      counts[i] = threads;
      return pools[i];
    }
  }
  *failed = 1;
  return NULL;
}

static void xnn_peer_destroy(bench_peer *p)
{
  if (!p) return;
  if (p->conv) xnn_delete_operator(p->conv);
  if (p->hswish) xnn_delete_operator(p->hswish);
  free(p);
}

static bench_peer *xnn_peer_create(const septune_op *op, const float *weights, const float *bias,
                                   char *why, size_t why_size)
{
  septune_error err;
  int64_t oh, ow;
  if (!op || !weights) {
    say(why, why_size, "NULL op or weights");
    return NULL;
  }
  if (septune_op_output_size(op, &oh, &ow, &err) != SEPTUNE_OK) {
    say(why, why_size, "invalid op: %s", err.message);
    return NULL;
  }
  enum xnn_status st = xnn_init_once();
  if (st != xnn_status_success) {
    say(why, why_size, "xnn_initialize failed: %s", xnn_status_name(st));
    return NULL;
  }
  int no_pool;
  pthreadpool_t pool = pool_of(bench_peers_threads(), &no_pool);
  if (no_pool) {
    say(why, why_size, "cannot make a pthreadpool of %d threads", bench_peers_threads());
    return NULL;
  }

  septune_activation act;
  float act_min, act_max;
  int has_bias;
  if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    act = op->u.dw.act, act_min = op->u.dw.act_min, act_max = op->u.dw.act_max;
    has_bias = op->u.dw.has_bias;
  } else {
    act = op->u.pw.act, act_min = op->u.pw.act_min, act_max = op->u.pw.act_max;
    has_bias = op->u.pw.has_bias;
  }
  if (has_bias && !bias) {
    say(why, why_size, "has_bias but bias is NULL");
    return NULL;
  }
  float out_min = -INFINITY, out_max = INFINITY;
  switch (act) {
    case SEPTUNE_ACT_NONE: break;
    case SEPTUNE_ACT_RELU: out_min = 0.0f; break;
    case SEPTUNE_ACT_RELU6: out_min = 0.0f, out_max = 6.0f; break;
    case SEPTUNE_ACT_CLAMP: out_min = act_min, out_max = act_max; break;
    case SEPTUNE_ACT_HSWISH: break; /* separate operator below */
    default:
      say(why, why_size, "activation %s not supported by this peer", septune_activation_name(act));
      return NULL;
  }

  bench_peer *p = calloc(1, sizeof *p);
  if (!p) {
    say(why, why_size, "out of memory");
    return NULL;
  }
  p->pool = pool;
  size_t out_channels;
  if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    const septune_depthwise_desc *d = &op->u.dw;
    if (d->h > UINT32_MAX || d->w > UINT32_MAX || d->kh > UINT32_MAX || d->kw > UINT32_MAX) {
      say(why, why_size, "dimension too large for XNNPACK");
      free(p);
      return NULL;
    }
    out_channels = (size_t)(d->c * d->multiplier);
    st = xnn_create_convolution2d_nhwc_f32(
        (uint32_t)d->pad_top, (uint32_t)d->pad_right, (uint32_t)d->pad_bottom,
        (uint32_t)d->pad_left, (uint32_t)d->kh, (uint32_t)d->kw, (uint32_t)d->stride_h,
        (uint32_t)d->stride_w, (uint32_t)d->dilation_h, (uint32_t)d->dilation_w,
        (uint32_t)d->c, /*group_input_channels=*/1, (size_t)d->multiplier,
        /*input_channel_stride=*/(size_t)d->c, /*output_channel_stride=*/out_channels, weights,
        has_bias ? bias : NULL, out_min, out_max, XNN_FLAG_DEPTHWISE_CONVOLUTION, &p->conv);
    p->n = (size_t)d->n, p->h = (size_t)d->h, p->w = (size_t)d->w;
    /* XNNPACK has no query for the micro-kernel it picked; this is its
     * selection rule: the unipass dwconv kernels serve multiplier 1 and a tap
     * count with a dwconv tile (4, 9, 25 on x86), the grouped igemm the rest. */
    int64_t taps = d->kh * d->kw;
    if (d->multiplier == 1 && (taps == 4 || taps == 9 || taps == 25))
      snprintf(p->impl, sizeof p->impl, "dwconv %dp (inferred)", (int)taps);
    else
      snprintf(p->impl, sizeof p->impl, "igemm groups=%d (inferred)", (int)d->c);
  } else {
    const septune_pointwise_desc *d = &op->u.pw;
    size_t ci = (size_t)d->ci, co = (size_t)d->co;
    float *ohwi = malloc(ci * co * sizeof *ohwi);
    if (!ohwi) {
      say(why, why_size, "out of memory");
      free(p);
      return NULL;
    }
    for (size_t i = 0; i < ci; i++)
      for (size_t o = 0; o < co; o++) ohwi[o * ci + i] = weights[i * co + o];
    out_channels = co;
    st = xnn_create_convolution2d_nhwc_f32(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, /*groups=*/1, ci, co,
                                           ci, co, ohwi, has_bias ? bias : NULL, out_min,
                                           out_max, 0, &p->conv);
    free(ohwi); /* XNNPACK packed its own copy */
    p->n = (size_t)d->n, p->h = (size_t)d->h, p->w = (size_t)d->w;
    snprintf(p->impl, sizeof p->impl, "gemm");
  }
  if (st != xnn_status_success) {
    say(why, why_size, "xnn_create_convolution2d_nhwc_f32: %s", xnn_status_name(st));
    xnn_peer_destroy(p);
    return NULL;
  }
  p->out_pixels = p->n * (size_t)oh * (size_t)ow;
  if (act == SEPTUNE_ACT_HSWISH) {
    st = xnn_create_hardswish_nc_f32(out_channels, out_channels, out_channels, 0, &p->hswish);
    if (st != xnn_status_success) {
      say(why, why_size, "xnn_create_hardswish_nc_f32: %s", xnn_status_name(st));
      xnn_peer_destroy(p);
      return NULL;
    }
    size_t len = strlen(p->impl);
    snprintf(p->impl + len, sizeof p->impl - len, " + hardswish (unfused)");
  }
  return p;
}

static int xnn_peer_run(bench_peer *p, const float *input, float *output)
{
  if (!p || !input || !output) return -1;
  if (input != p->last_in || output != p->last_out) {
    /* Setup builds the indirection buffer; redo it only when the tensors move. */
    enum xnn_status st =
        xnn_setup_convolution2d_nhwc_f32(p->conv, p->n, p->h, p->w, input, output, p->pool);
    if (st != xnn_status_success) return (int)st;
    if (p->hswish) {
      st = xnn_setup_hardswish_nc_f32(p->hswish, p->out_pixels, output, output, p->pool);
      if (st != xnn_status_success) return (int)st;
    }
    p->last_in = input;
    p->last_out = output;
  }
  enum xnn_status st = xnn_run_operator(p->conv, p->pool);
  if (st != xnn_status_success) return (int)st;
  if (p->hswish) {
    st = xnn_run_operator(p->hswish, p->pool);
    if (st != xnn_status_success) return (int)st;
  }
  return 0;
}

static const char *xnn_peer_impl(const bench_peer *p) { return p ? p->impl : "?"; }

const bench_peer_vtbl bench_peer_xnnpack = {
    .name = "XNNPACK",
    .create = xnn_peer_create,
    .run = xnn_peer_run,
    .impl = xnn_peer_impl,
    .destroy = xnn_peer_destroy,
};
