/*
 * peer_onednn.c — oneDNN (Debian's 2.6.3, C API) behind bench_peer_vtbl.
 *
 * One convolution forward-inference primitive per layer on the CPU engine:
 *   src/dst: nhwc fp32 (the caller's buffers, no reorder at run time);
 *   weights: format "any", i.e. oneDNN's preferred blocked layout, filled by
 *            a reorder from septune's canonical layout at create time;
 *            depthwise = grouped {g=c, oc/g=m, ic/g=1, kh, kw},
 *            pointwise = {co, ci, 1, 1};
 *   padding: explicit padding_l = {top, left}, padding_r = {bottom, right};
 *   dilation: oneDNN counts the gaps, so dilates = dilation - 1;
 *   activations: eltwise post-ops relu, clip(0,6) for relu6, clip(min,max)
 *            for clamp, hardswish.
 * Threads: Debian builds oneDNN with the OpenMP runtime (libgomp). OpenMP
 * reads OMP_NUM_THREADS when libgomp loads, which is before main(), so
 * setting the variable from the program is too late; instead the peer calls
 * omp_set_num_threads(T) (looked up in the already loaded libgomp) on the
 * creating thread before the primitive is created: oneDNN then creates
 * kernels for T threads and runs them in parallel regions of T threads (one
 * of them the calling thread; T = 1 runs on the calling thread alone). A
 * TBB or threadpool build is handled where possible (see use_threads()).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_DEFAULT */
#endif
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dnnl.h>
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_THREADPOOL
#include <dnnl_threadpool.h>
#endif

#include "peers.h"

struct bench_peer {
  dnnl_primitive_t conv;
  dnnl_memory_t src, dst, wei, bia; /* bia NULL when no bias */
  dnnl_memory_t dw_wei, dw_bia;     /* a fused depthwise post-op's (bench_onednn_fused_create) */
  const float *last_in;             /* handles currently set on src/dst */
  float *last_out;
  char impl[128];
};

static dnnl_engine_t g_engine;
static dnnl_stream_t g_stream;

static void say(char *why, size_t why_size, const char *fmt, ...)
{
  if (!why || why_size == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, why_size, fmt, ap);
  va_end(ap);
}

static const char *dnnl_status_name(dnnl_status_t s)
{
  switch (s) {
    case dnnl_success: return "success";
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "unimplemented";
    case dnnl_iterator_ends: return "iterator ends";
    case dnnl_runtime_error: return "runtime error";
    case dnnl_not_required: return "not required";
  }
  return "unknown status";
}

/* Makes oneDNN run on `threads` threads from the calling thread. Returns the
 * thread count oneDNN will see, or -1 if it can't be told. */
static int use_threads(int threads)
{
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
  void (*set_threads)(int);
  int (*max_threads)(void);
  *(void **)&set_threads = dlsym(RTLD_DEFAULT, "omp_set_num_threads");
  *(void **)&max_threads = dlsym(RTLD_DEFAULT, "omp_get_max_threads");
  if (!set_threads || !max_threads) return -1;
  set_threads(threads);
  return max_threads();
#elif DNNL_CPU_RUNTIME == DNNL_RUNTIME_THREADPOOL
  /* A NULL threadpool on the stream means sequential execution. */
  if (threads != 1) return -1;
  dnnl_threadpool_interop_set_max_concurrency(1);
  return 1;
#elif DNNL_CPU_RUNTIME == DNNL_RUNTIME_SEQ
  return 1;
#else
  (void)threads;
  return -1; /* TBB: the global arena size is not reachable from the C API */
#endif
}

static int onednn_init(char *why, size_t why_size)
{
  if (g_engine) return 0;
  dnnl_status_t st = dnnl_engine_create(&g_engine, dnnl_cpu, 0);
  if (st != dnnl_success) {
    say(why, why_size, "dnnl_engine_create: %s", dnnl_status_name(st));
    g_engine = NULL;
    return -1;
  }
  st = dnnl_stream_create(&g_stream, g_engine, dnnl_stream_default_flags);
  if (st != dnnl_success) {
    say(why, why_size, "dnnl_stream_create: %s", dnnl_status_name(st));
    dnnl_engine_destroy(g_engine);
    g_engine = NULL;
    return -1;
  }
  return 0;
}

static void onednn_destroy(bench_peer *p)
{
  if (!p) return;
  if (p->conv) dnnl_primitive_destroy(p->conv);
  if (p->src) dnnl_memory_destroy(p->src);
  if (p->dst) dnnl_memory_destroy(p->dst);
  if (p->wei) dnnl_memory_destroy(p->wei);
  if (p->bia) dnnl_memory_destroy(p->bia);
  if (p->dw_wei) dnnl_memory_destroy(p->dw_wei);
  if (p->dw_bia) dnnl_memory_destroy(p->dw_bia);
  free(p);
}

/* Creates a library-owned memory of layout `to` holding the data at `from_ptr`
 * (layout `from`), converted by a oneDNN reorder. */
static dnnl_status_t reorder_into(const dnnl_memory_desc_t *from, const float *from_ptr,
                                  const dnnl_memory_desc_t *to, dnnl_memory_t *out)
{
  dnnl_memory_t user = NULL, mem = NULL;
  dnnl_primitive_desc_t rpd = NULL;
  dnnl_primitive_t reorder = NULL;
  dnnl_status_t st = dnnl_memory_create(&user, from, g_engine, (void *)(uintptr_t)from_ptr);
  if (st == dnnl_success) st = dnnl_memory_create(&mem, to, g_engine, DNNL_MEMORY_ALLOCATE);
  if (st == dnnl_success)
    st = dnnl_reorder_primitive_desc_create(&rpd, from, g_engine, to, g_engine, NULL);
  if (st == dnnl_success) st = dnnl_primitive_create(&reorder, rpd);
  if (st == dnnl_success) {
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, mem}};
    st = dnnl_primitive_execute(reorder, g_stream, 2, args);
  }
  if (st == dnnl_success) st = dnnl_stream_wait(g_stream);
  if (reorder) dnnl_primitive_destroy(reorder);
  if (rpd) dnnl_primitive_desc_destroy(rpd);
  if (user) dnnl_memory_destroy(user);
  if (st != dnnl_success) {
    if (mem) dnnl_memory_destroy(mem);
    mem = NULL;
  }
  *out = mem;
  return st;
}

#define CHECK(call, what)                                                           \
  do {                                                                              \
    dnnl_status_t st_ = (call);                                                     \
    if (st_ != dnnl_success) {                                                      \
      say(why, why_size, "%s: %s", what, dnnl_status_name(st_));                    \
      goto fail;                                                                    \
    }                                                                               \
  } while (0)

/* Appends the eltwise post-ops of activation act. 0, or -1 with why set. */
static int append_act(dnnl_post_ops_t post_ops, septune_activation act, float act_min, float act_max, char *why,
                      size_t why_size)
{
  switch (act) {
    case SEPTUNE_ACT_NONE: break;
    case SEPTUNE_ACT_RELU:
      CHECK(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f), "relu");
      break;
    case SEPTUNE_ACT_RELU6:
      CHECK(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_clip, 0.0f, 6.0f),
            "clip(0,6)");
      break;
    case SEPTUNE_ACT_CLAMP:
      CHECK(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_clip, act_min, act_max),
            "clip");
      break;
    case SEPTUNE_ACT_HSWISH:
      CHECK(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_hardswish, 0.0f, 0.0f),
            "hardswish");
      break;
    case SEPTUNE_ACT_HSIGMOID: /* min(max(x / 6 + 1/2, 0), 1): this oneDNN has no hardsigmoid */
      CHECK(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_linear, 1.0f / 6.0f, 0.5f),
            "linear(1/6, 1/2)");
      CHECK(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_clip, 0.0f, 1.0f), "clip(0,1)");
      break;
    case SEPTUNE_ACT_SIGMOID:
      CHECK(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_logistic, 0.0f, 0.0f), "logistic");
      break;
    case SEPTUNE_ACT_SILU: /* x * sigmoid(alpha x), alpha = 1 */
      CHECK(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_swish, 1.0f, 0.0f), "swish");
      break;
    case SEPTUNE_ACT_GELU:
      CHECK(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_gelu_erf, 0.0f, 0.0f), "gelu_erf");
      break;
    case SEPTUNE_ACT_GELU_TANH:
      CHECK(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_gelu_tanh, 0.0f, 0.0f), "gelu_tanh");
      break;
    default: say(why, why_size, "unknown activation %d", (int)act); goto fail;
  }
  return 0;
fail:
  return -1;
}

/* A new peer, oneDNN set up for bench_peers_threads(); NULL with why set. */
static bench_peer *new_peer(char *why, size_t why_size)
{
  if (onednn_init(why, why_size) != 0) return NULL;
  int want = bench_peers_threads(), threads = use_threads(want);
  if (threads != want) {
    say(why, why_size, "cannot make oneDNN use %d thread%s (it would use %d)", want, want == 1 ? "" : "s", threads);
    return NULL;
  }
  bench_peer *p = calloc(1, sizeof *p);
  if (!p) say(why, why_size, "out of memory");
  return p;
}

/* The src and dst memories (the caller's buffers, set at run) and the
 * primitive of pd. 0, or -1 with why set. */
static int make_primitive(bench_peer *p, const_dnnl_primitive_desc_t pd, const dnnl_memory_desc_t *src_md,
                          const dnnl_memory_desc_t *dst_md, char *why, size_t why_size)
{
  CHECK(dnnl_memory_create(&p->src, src_md, g_engine, DNNL_MEMORY_NONE), "src memory");
  CHECK(dnnl_memory_create(&p->dst, dst_md, g_engine, DNNL_MEMORY_NONE), "dst memory");
  CHECK(dnnl_primitive_create(&p->conv, pd), "convolution primitive");
  return 0;
fail:
  return -1;
}

/* The convolution's bias (canonical bia_md) in the layout pd wants. 0, or
 * -1 with why set. */
static int reorder_bias(bench_peer *p, const_dnnl_primitive_desc_t pd, const dnnl_memory_desc_t *bia_md,
                        const float *bias, char *why, size_t why_size)
{
  const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1);
  if (!md) {
    say(why, why_size, "no bias memory descriptor");
    return -1;
  }
  CHECK(reorder_into(bia_md, bias, md, &p->bia), "bias reorder");
  return 0;
fail:
  return -1;
}

/* The end of a create: what only the creation needed freed; p, or NULL
 * (p destroyed) when it failed. */
static bench_peer *created(bench_peer *p, int ok, dnnl_primitive_desc_t pd, dnnl_primitive_attr_t attr,
                           dnnl_post_ops_t post_ops)
{
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (attr) dnnl_primitive_attr_destroy(attr);
  if (post_ops) dnnl_post_ops_destroy(post_ops);
  if (ok) return p;
  onednn_destroy(p);
  return NULL;
}

static bench_peer *onednn_create(const septune_op *op, const float *weights, const float *bias,
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
  bench_peer *p = new_peer(why, why_size);
  dnnl_post_ops_t post_ops = NULL;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_primitive_desc_t pd = NULL;
  if (!p) return NULL;

  dnnl_memory_desc_t src_md, dst_md, wei_any_md, wei_user_md, bia_md;
  dnnl_dims_t strides, dilates, pad_l, pad_r;
  int has_bias;
  septune_activation act;
  float act_min, act_max;
  int64_t oc;
  if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    const septune_depthwise_desc *d = &op->u.dw;
    int64_t m = d->multiplier;
    oc = d->c * m;
    dnnl_dims_t src_dims = {d->n, d->c, d->h, d->w};
    dnnl_dims_t dst_dims = {d->n, oc, oh, ow};
    /* Canonical [kh][kw][c][m] viewed as goihw {c, m, 1, kh, kw}. */
    dnnl_dims_t wei_dims = {d->c, m, 1, d->kh, d->kw};
    dnnl_dims_t wei_strides = {m, 1, 1, d->kw * oc, oc};
    CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, dnnl_nhwc), "src md");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, dnnl_nhwc), "dst md");
    CHECK(dnnl_memory_desc_init_by_tag(&wei_any_md, 5, wei_dims, dnnl_f32, dnnl_format_tag_any),
          "weights md");
    CHECK(dnnl_memory_desc_init_by_strides(&wei_user_md, 5, wei_dims, dnnl_f32, wei_strides),
          "canonical weights md");
    strides[0] = d->stride_h, strides[1] = d->stride_w;
    dilates[0] = d->dilation_h - 1, dilates[1] = d->dilation_w - 1;
    pad_l[0] = d->pad_top, pad_l[1] = d->pad_left;
    pad_r[0] = d->pad_bottom, pad_r[1] = d->pad_right;
    has_bias = d->has_bias, act = d->act, act_min = d->act_min, act_max = d->act_max;
  } else {
    const septune_pointwise_desc *d = &op->u.pw;
    oc = d->co;
    dnnl_dims_t src_dims = {d->n, d->ci, d->h, d->w};
    dnnl_dims_t dst_dims = {d->n, d->co, d->h, d->w};
    /* Canonical [ci][co] viewed as oihw {co, ci, 1, 1}. */
    dnnl_dims_t wei_dims = {d->co, d->ci, 1, 1};
    dnnl_dims_t wei_strides = {1, d->co, d->ci * d->co, d->ci * d->co};
    CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, dnnl_nhwc), "src md");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, dnnl_nhwc), "dst md");
    CHECK(dnnl_memory_desc_init_by_tag(&wei_any_md, 4, wei_dims, dnnl_f32, dnnl_format_tag_any),
          "weights md");
    CHECK(dnnl_memory_desc_init_by_strides(&wei_user_md, 4, wei_dims, dnnl_f32, wei_strides),
          "canonical weights md");
    strides[0] = strides[1] = 1;
    dilates[0] = dilates[1] = 0;
    pad_l[0] = pad_l[1] = pad_r[0] = pad_r[1] = 0;
    has_bias = d->has_bias, act = d->act, act_min = d->act_min, act_max = d->act_max;
  }
  if (has_bias && !bias) {
    say(why, why_size, "has_bias but bias is NULL");
    goto fail;
  }
  dnnl_dims_t bia_dims = {oc};
  CHECK(dnnl_memory_desc_init_by_tag(&bia_md, 1, bia_dims, dnnl_f32, dnnl_a), "bias md");

  CHECK(dnnl_post_ops_create(&post_ops), "post ops");
  if (append_act(post_ops, act, act_min, act_max, why, why_size) != 0) goto fail;
  CHECK(dnnl_primitive_attr_create(&attr), "attr");
  CHECK(dnnl_primitive_attr_set_post_ops(attr, post_ops), "set post ops");

  dnnl_convolution_desc_t cd;
  CHECK(dnnl_dilated_convolution_forward_desc_init(
            &cd, dnnl_forward_inference, dnnl_convolution_direct, &src_md, &wei_any_md,
            has_bias ? &bia_md : NULL, &dst_md, strides, dilates, pad_l, pad_r),
        "convolution desc");
  CHECK(dnnl_primitive_desc_create(&pd, &cd, attr, g_engine, NULL), "convolution primitive desc");

  const char *impl = NULL;
  if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl)
    impl = "?";
  snprintf(p->impl, sizeof p->impl, "%s", impl);

  const dnnl_memory_desc_t *wei_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  const dnnl_memory_desc_t *pd_src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  const dnnl_memory_desc_t *pd_dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
  if (!wei_md || !pd_src_md || !pd_dst_md || !dnnl_memory_desc_equal(pd_src_md, &src_md) ||
      !dnnl_memory_desc_equal(pd_dst_md, &dst_md)) {
    say(why, why_size, "oneDNN changed the nhwc src/dst layout (%s)", p->impl);
    goto fail;
  }
  CHECK(reorder_into(&wei_user_md, weights, wei_md, &p->wei), "weights reorder");
  if (has_bias && reorder_bias(p, pd, &bia_md, bias, why, why_size) != 0) goto fail;
  if (make_primitive(p, pd, &src_md, &dst_md, why, why_size) != 0) goto fail;
  return created(p, 1, pd, attr, post_ops);

fail:
  return created(p, 0, pd, attr, post_ops);
}

static int onednn_run(bench_peer *p, const float *input, float *output)
{
  if (!p || !input || !output) return -1;
  if (input != p->last_in) {
    if (dnnl_memory_set_data_handle(p->src, (void *)(uintptr_t)input) != dnnl_success) return -1;
    p->last_in = input;
  }
  if (output != p->last_out) {
    if (dnnl_memory_set_data_handle(p->dst, output) != dnnl_success) return -1;
    p->last_out = output;
  }
  dnnl_exec_arg_t args[6] = { { DNNL_ARG_SRC, p->src }, { DNNL_ARG_WEIGHTS, p->wei }, { DNNL_ARG_DST, p->dst } };
  int nargs = 3;
  if (p->bia) args[nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_BIAS, p->bia };
  if (p->dw_wei) args[nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS, p->dw_wei };
  if (p->dw_bia) args[nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_BIAS, p->dw_bia };
  if (dnnl_primitive_execute(p->conv, g_stream, nargs, args) != dnnl_success) return -1;
  if (dnnl_stream_wait(g_stream) != dnnl_success) return -1;
  return 0;
}

bench_peer *bench_onednn_fused_create(const septune_op *pw_op, const float *pw_weights, const float *pw_bias,
                                      const septune_op *dw_op, const float *dw_weights, const float *dw_bias,
                                      char *why, size_t why_size)
{
  const septune_pointwise_desc *e = &pw_op->u.pw;
  const septune_depthwise_desc *d = &dw_op->u.dw;
  int64_t oh, ow;
  if (pw_op->kind != SEPTUNE_OP_POINTWISE || dw_op->kind != SEPTUNE_OP_DEPTHWISE ||
      septune_op_output_size(dw_op, &oh, &ow, NULL) != SEPTUNE_OK) {
    say(why, why_size, "not a pointwise layer followed by a depthwise one");
    return NULL;
  }
  if (d->multiplier != 1 || d->kh != d->kw || d->stride_h != d->stride_w || d->dilation_h != 1 ||
      d->dilation_w != 1 || d->pad_top != d->pad_left || oh != (d->h + d->stride_h - 1) / d->stride_h ||
      ow != (d->w + d->stride_w - 1) / d->stride_w) {
    say(why, why_size, "oneDNN's depthwise post-op has no such depthwise layer (square kernel, equal strides, "
                       "no dilation, multiplier 1, output ceil(in/stride))");
    return NULL;
  }
  bench_peer *p = new_peer(why, why_size);
  dnnl_post_ops_t post_ops = NULL;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_primitive_desc_t pd = NULL;
  if (!p) return NULL;
  dnnl_memory_desc_t src_md, mid_md, dst_md, wei_any_md, wei_user_md, bia_md, dw_user_md, dw_bia_md;
  dnnl_dims_t src_dims = { e->n, e->ci, e->h, e->w }, mid_dims = { e->n, e->co, e->h, e->w };
  dnnl_dims_t dst_dims = { e->n, e->co, oh, ow };
  dnnl_dims_t wei_dims = { e->co, e->ci, 1, 1 }, wei_strides = { 1, e->co, e->ci * e->co, e->ci * e->co };
  dnnl_dims_t dw_dims = { d->c, 1, 1, d->kh, d->kw }, dw_strides = { 1, 1, 1, d->kw * d->c, d->c };
  dnnl_dims_t bia_dims = { e->co }, dw_bia_dims = { d->c };
  dnnl_dims_t ones = { 1, 1 }, zeros = { 0, 0 };
  CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, dnnl_nhwc), "src md");
  CHECK(dnnl_memory_desc_init_by_tag(&mid_md, 4, mid_dims, dnnl_f32, dnnl_nhwc), "1x1 dst md");
  CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, dnnl_nhwc), "dst md");
  CHECK(dnnl_memory_desc_init_by_tag(&wei_any_md, 4, wei_dims, dnnl_f32, dnnl_format_tag_any), "weights md");
  CHECK(dnnl_memory_desc_init_by_strides(&wei_user_md, 4, wei_dims, dnnl_f32, wei_strides), "canonical weights md");
  CHECK(dnnl_memory_desc_init_by_strides(&dw_user_md, 5, dw_dims, dnnl_f32, dw_strides), "canonical dw weights md");
  CHECK(dnnl_memory_desc_init_by_tag(&bia_md, 1, bia_dims, dnnl_f32, dnnl_a), "bias md");
  CHECK(dnnl_memory_desc_init_by_tag(&dw_bia_md, 1, dw_bia_dims, dnnl_f32, dnnl_a), "dw bias md");
  CHECK(dnnl_post_ops_create(&post_ops), "post ops");
  if (append_act(post_ops, e->act, e->act_min, e->act_max, why, why_size) != 0) goto fail;
  CHECK(dnnl_post_ops_append_dw(post_ops, dnnl_f32, d->has_bias ? dnnl_f32 : dnnl_data_type_undef, dnnl_f32, d->kh,
                                d->stride_h, d->pad_top, 0, 0, NULL),
        "depthwise post-op");
  if (append_act(post_ops, d->act, d->act_min, d->act_max, why, why_size) != 0) goto fail;
  CHECK(dnnl_primitive_attr_create(&attr), "attr");
  CHECK(dnnl_primitive_attr_set_post_ops(attr, post_ops), "set post ops");
  dnnl_convolution_desc_t cd;
  CHECK(dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src_md,
                                                   &wei_any_md, e->has_bias ? &bia_md : NULL, &mid_md, ones, zeros,
                                                   zeros, zeros),
        "convolution desc");
  CHECK(dnnl_primitive_desc_create(&pd, &cd, attr, g_engine, NULL), "1x1 + depthwise post-op primitive desc");
  const char *impl = NULL;
  if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl) impl = "?";
  snprintf(p->impl, sizeof p->impl, "%s+dw", impl);
  const dnnl_memory_desc_t *pd_src = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  const dnnl_memory_desc_t *pd_dst = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
  const dnnl_memory_desc_t *wei_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  const dnnl_memory_desc_t *dw_md =
      dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS);
  if (!pd_src || !pd_dst || !wei_md || !dw_md || !dnnl_memory_desc_equal(pd_src, &src_md) ||
      !dnnl_memory_desc_equal(pd_dst, &dst_md)) {
    say(why, why_size, "oneDNN's fused primitive (%s) does not read and write these nhwc tensors", p->impl);
    goto fail;
  }
  CHECK(reorder_into(&wei_user_md, pw_weights, wei_md, &p->wei), "weights reorder");
  CHECK(reorder_into(&dw_user_md, dw_weights, dw_md, &p->dw_wei), "dw weights reorder");
  if (e->has_bias && reorder_bias(p, pd, &bia_md, pw_bias, why, why_size) != 0) goto fail;
  if (d->has_bias) {
    const dnnl_memory_desc_t *md =
        dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_BIAS);
    CHECK(reorder_into(&dw_bia_md, dw_bias, md && md->ndims ? md : &dw_bia_md, &p->dw_bia), "dw bias reorder");
  }
  if (make_primitive(p, pd, &src_md, &dst_md, why, why_size) != 0) goto fail;
  return created(p, 1, pd, attr, post_ops);

fail:
  return created(p, 0, pd, attr, post_ops);
}

static const char *onednn_impl(const bench_peer *p) { return p ? p->impl : "?"; }

const bench_peer_vtbl bench_peer_onednn = {
    .name = "oneDNN",
    .create = onednn_create,
    .run = onednn_run,
    .impl = onednn_impl,
    .destroy = onednn_destroy,
};
