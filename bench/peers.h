/*
 * peers.h — the libraries septune is compared with, behind one small
 * interface. Each peer takes a septune_op with septune's canonical weights
 * (depthwise [kh][kw][c*m], pointwise [ci][co]) and bias, converts them to
 * its own layout at create time (not timed), and runs on NHWC fp32 tensors
 * with the op's exact (possibly asymmetric) padding, on the thread count of
 * bench_peers_set_threads (1 unless set):
 *
 *   XNNPACK: xnn_create_convolution2d_nhwc_f32, run with a NULL threadpool
 *            (the calling thread) for 1 thread, else with a pthreadpool of
 *            that many threads (the calling thread one of them). Activations
 *            none/relu/relu6/clamp are fused as output_min/max; hswish runs
 *            as a second, unfused XNNPACK hardswish operator in place on the
 *            output (how a framework would run such a layer with this
 *            XNNPACK).
 *   oneDNN:  convolution forward inference, weights format "any" reordered
 *            once at create time, src/dst nhwc, activations as eltwise
 *            post-ops. Threads: Debian's libdnnl 2.6 runs on OpenMP
 *            (libgomp); omp_set_num_threads(T) on the calling thread before
 *            any primitive is created, so its primitives are made for and
 *            run on T threads.
 *
 * Buffers passed to run(): the input must be readable for
 * BENCH_PEER_INPUT_SLACK bytes past its end (XNNPACK may over-read); use
 * bench_peer_alloc for every tensor handed to a peer. run() must be called
 * from the thread that created the peer (the oneDNN thread setting is
 * per-thread).
 */
#ifndef SEPTUNE_BENCH_PEERS_H
#define SEPTUNE_BENCH_PEERS_H

#include <stddef.h>

#include "septune.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_PEER_INPUT_SLACK 64

typedef struct bench_peer bench_peer; /* opaque per-library operator instance */

typedef struct bench_peer_vtbl {
  const char *name; /* "XNNPACK", "oneDNN" */
  /* Creates an operator for op with canonical weights/bias (bias may be NULL
   * when !has_bias). Returns NULL and writes a reason into why (e.g.
   * "activation hswish not supported by this peer") if it can't. */
  bench_peer *(*create)(const septune_op *op, const float *weights, const float *bias, char *why,
                        size_t why_size);
  /* Runs once, single thread. 0 on success. */
  int (*run)(bench_peer *p, const float *input, float *output);
  /* Which implementation the library picked, e.g. "jit:avx512_core" or
   * "conv+hardswish (unfused)"; never NULL. */
  const char *(*impl)(const bench_peer *p);
  void (*destroy)(bench_peer *p);
} bench_peer_vtbl;

#ifdef SEPTUNE_HAVE_XNNPACK
extern const bench_peer_vtbl bench_peer_xnnpack;
#endif
#ifdef SEPTUNE_HAVE_ONEDNN
extern const bench_peer_vtbl bench_peer_onednn;

/* oneDNN's own fusion of a 1x1 convolution with the depthwise convolution
 * after it (the depthwise post-op, dnnl_post_ops_append_dw): one primitive
 * that runs `pw` (+bias, act) then `dw` (+bias, act), input pw's, output
 * dw's, nhwc. Returns NULL with why set when oneDNN does not take it (its
 * depthwise post-op wants multiplier 1, a square kernel oneDNN implements,
 * equal strides, its own output size rule). Run and destroy it through
 * bench_peer_onednn. */
bench_peer *bench_onednn_fused_create(const septune_op *pw, const float *pw_weights, const float *pw_bias,
                                      const septune_op *dw, const float *dw_weights, const float *dw_bias,
                                      char *why, size_t why_size);
#endif

/* Every peer this build has, NULL-terminated (possibly just {NULL}). */
extern const bench_peer_vtbl *const bench_peers_all[];

/* The threads every peer created from now on runs on (>= 1; 1 by default).
 * A peer that cannot be given that count refuses to create (create returns
 * NULL and says why). */
void bench_peers_set_threads(int threads);
int bench_peers_threads(void);

/* 64-byte aligned buffer of `bytes` plus BENCH_PEER_INPUT_SLACK bytes (the
 * slack zeroed); free with free(). NULL on failure. */
void *bench_peer_alloc(size_t bytes);

#ifdef __cplusplus
}
#endif
#endif /* SEPTUNE_BENCH_PEERS_H */
