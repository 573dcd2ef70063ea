/*
 * bench_network.c — a model file end to end, block by block, the way an
 * inference runs it: septune fused against septune layer by layer and the
 * peers layer by layer (and oneDNN with its own 1x1 + depthwise fusion).
 *
 *   bench_network [--threads T] [--rounds R] [--flush-mb M] MODEL.txt
 *
 * Each line of the model is a step (a block, sep or ir, or a layer, dw or
 * pw); each step's output is the next step's input. Buffers are allocated as
 * a network allocates them: two activation buffers, ping-pong, each as large
 * as the largest activation, so a block's input stays where it is for its
 * residual; the layer-by-layer runs add two buffers for a block's
 * intermediates (the expanded tensor, the depthwise output) and a separate
 * pass for the residual add, as a framework runs Add. The data: a random
 * input in [-1, 1) and random weights scaled by 1/sqrt(fan-in), so that the
 * activations keep their size through the network.
 *
 * Implementations (the columns), each a pass over the whole network:
 *   fused        septune, one plan per block (band by band)
 *   layers       septune, one plan per layer
 *   oneDNN       oneDNN, one convolution per layer
 *   oneDNN+dw    oneDNN with its depthwise post-op (dnnl_post_ops_append_dw):
 *                an inverted residual's expand and depthwise in one
 *                primitive where oneDNN takes it (a 3x3 depthwise of stride
 *                1 or 2), the rest layer by layer
 *   XNNPACK      one operator per layer
 * A round runs every implementation once, the order rotating from round to
 * round; before each pass a buffer of --flush-mb MiB (default: twice L3,
 * at least 64 MiB, at most 1 GiB) is
 * written and read, so each pass starts with cold caches, as an inference
 * does; with threads, a 50 ms pause follows, so that the thread pool of the
 * pass before has stopped spinning. Printed: the FMA peak and the copy
 * bandwidths of this run (with threads, each CPU's too), the
 * median over rounds of each step's time and of the pass's total, fused's
 * share of the peak per step and in all, the time the whole network would
 * take at the peak (the floor no implementation goes under), the bound on
 * what fusion alone can gain (the bytes layer by layer moves that fused
 * need not, at the bandwidth beyond L2), and the speed-ups of fused over
 * the others. Each
 * implementation's final output is compared with the fused one's (their
 * largest relative difference is printed; the run fails when it exceeds
 * 1e-3).
 * --only IMPL runs one implementation alone (for a profiler or valgrind's
 * cache simulation: README.md, "Blocks").
 * Threads: --threads T gives every plan and peer T threads; the program
 * pins itself to T CPUs (T = 1: the CPU it starts on).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "internal.h"
#include "peers.h"
#include "roofline.h"
#include "septune.h"
#include "timing.h"

#define PROG "bench_network"
#define SETTLE_MS 50 /* pause before each pass with threads */

enum { IMPL_FUSED, IMPL_LAYERS, IMPL_ONEDNN, IMPL_ONEDNN_DW, IMPL_XNNPACK, IMPLS };
static const char *const impl_names[IMPLS] = { "fused", "layers", "oneDNN", "oneDNN+dw", "XNNPACK" };

typedef struct options {
  int threads, rounds;
  double flush_mb;
  int only;            /* -1: every implementation; else just this one */
  const char *model;
} options;

/* One step of the network and every implementation's operators for it. */
typedef struct step {
  septune_layer layer;
  septune_op stage[SEPTUNE_MAX_STAGES];
  int stages;
  int residual;
  size_t in_n, out_n, mid_n[2]; /* floats: input, output, the stages' intermediates */
  float *weights, *bias;        /* canonical, the stages one after the other */
  size_t w_at[SEPTUNE_MAX_STAGES], b_at[SEPTUNE_MAX_STAGES];
  septune_plan *fused;
  septune_plan *layer_plan[SEPTUNE_MAX_STAGES];
  bench_peer *peer[IMPLS][SEPTUNE_MAX_STAGES]; /* NULL: that stage runs on another entry (see run) */
  const bench_peer_vtbl *vt[IMPLS];
  int dw_fused;                 /* oneDNN+dw: peer[IMPL_ONEDNN_DW][0] runs expand and dw */
  double t[IMPLS];              /* this round's time */
  double *samples[IMPLS];       /* per round */
} step;

typedef struct network {
  step *s;
  size_t n;
  float *act[2], *mid[2];       /* ping-pong activations, intermediates */
  float *flush;
  size_t flush_n;
  int have[IMPLS];              /* the implementation runs every step */
  char why[IMPLS][384];         /* else why not */
  double *total[IMPLS];
} network;

static void usage(void)
{
  fprintf(stderr, "usage: " PROG " [--threads T] [--rounds R] [--flush-mb M] [--only IMPL] MODEL.txt\n"
                  "  IMPL: fused, layers, oneDNN, oneDNN+dw, XNNPACK\n");
  exit(2);
}

static void parse_args(int argc, char **argv, options *o)
{
  o->threads = 1;
  o->rounds = 11;
  o->flush_mb = 0;
  o->only = -1;
  o->model = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) o->threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) o->rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--flush-mb") && i + 1 < argc) o->flush_mb = atof(argv[++i]);
    else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
      const char *name = argv[++i];
      for (o->only = 0; o->only < IMPLS && strcmp(impl_names[o->only], name); o->only++) continue;
      if (o->only == IMPLS) usage();
    }
    else if (argv[i][0] == '-') usage();
    else if (!o->model) o->model = argv[i];
    else usage();
  }
  if (!o->model || o->threads < 1 || o->threads > SEPTUNE_MAX_THREADS || o->rounds < 1) usage();
}

static size_t fan_in(const septune_op *op)
{
  return op->kind == SEPTUNE_OP_DEPTHWISE ? (size_t)(op->u.dw.kh * op->u.dw.kw) : (size_t)op->u.pw.ci;
}

/* The step's data and septune's plans. Returns 0, or -1 after printing. */
static int step_init(step *s, size_t index, int threads)
{
  septune_error err;
  size_t nw, nb;
  s->stages = septune_op_stages(&s->layer.op, s->stage);
  s->residual = s->layer.op.kind == SEPTUNE_OP_INVERTED_RESIDUAL && s->layer.op.u.ir.residual;
  septune_op_tensor_sizes(&s->layer.op, &s->in_n, &s->out_n, &nw, &nb, NULL);
  s->weights = malloc((nw + 1) * sizeof(float));
  s->bias = malloc((nb + 1) * sizeof(float));
  if (!s->weights || !s->bias) return fprintf(stderr, PROG ": out of memory\n"), -1;
  bench_rng r;
  bench_rng_seed(&r, 1, index);
  size_t wat = 0, bat = 0;
  for (int i = 0; i < s->stages; i++) {
    size_t w, b, out;
    septune_op_tensor_sizes(&s->stage[i], NULL, &out, &w, &b, NULL);
    if (i + 1 < s->stages) s->mid_n[i] = out;
    s->w_at[i] = wat;
    s->b_at[i] = bat;
    bench_fill(&r, s->weights + wat, w, (float)(1.0 / sqrt((double)fan_in(&s->stage[i]))));
    wat += w;
    if (septune_op_has_bias(&s->stage[i])) {
      bench_fill(&r, s->bias + bat, b, 0.1f);
      bat += b;
    }
  }
  septune_plan_options opts = { .threads = threads };
  if (septune_plan_create(&s->layer.op, s->weights, s->bias, &opts, &s->fused, &err) != SEPTUNE_OK) {
    fprintf(stderr, PROG ": %s: %s\n", s->layer.name, err.message);
    return -1;
  }
  for (int i = 0; i < s->stages; i++)
    if (septune_plan_create(&s->stage[i], s->weights + s->w_at[i],
                            septune_op_has_bias(&s->stage[i]) ? s->bias + s->b_at[i] : NULL, &opts,
                            &s->layer_plan[i], &err) != SEPTUNE_OK) {
      fprintf(stderr, PROG ": %s stage %d: %s\n", s->layer.name, i, err.message);
      return -1;
    }
  return 0;
}

/* The peers' operators for the step: `impl` layer by layer with vt. */
static int step_peers(step *s, int impl, const bench_peer_vtbl *vt, char *why, size_t why_size)
{
  s->vt[impl] = vt;
  for (int i = 0; i < s->stages; i++) {
    if (s->peer[impl][i]) continue;
    s->peer[impl][i] = vt->create(&s->stage[i], s->weights + s->w_at[i],
                                  septune_op_has_bias(&s->stage[i]) ? s->bias + s->b_at[i] : NULL, why, why_size);
    if (!s->peer[impl][i]) return -1;
  }
  return 0;
}

/* out += in over n floats: the residual, as a framework's Add. */
static void add(float *out, const float *in, size_t n)
{
  for (size_t i = 0; i < n; i++) out[i] += in[i];
}

/* Runs step s with implementation impl from in to out. 0 on success. */
static int run_step(network *net, step *s, int impl, const float *in, float *out)
{
  if (impl == IMPL_FUSED) return septune_execute(s->fused, in, out, NULL) != SEPTUNE_OK;
  const float *x = in;
  int first = 0;
  if (impl == IMPL_ONEDNN_DW && s->dw_fused) {
    /* expand and dw in one primitive into the second intermediate */
    if (s->vt[impl]->run(s->peer[impl][0], x, net->mid[1])) return -1;
    x = net->mid[1];
    first = 2;
  }
  for (int i = first; i < s->stages; i++) {
    float *y = i + 1 == s->stages ? out : net->mid[i];
    int rc = impl == IMPL_LAYERS ? septune_execute(s->layer_plan[i], x, y, NULL) != SEPTUNE_OK
                                 : s->vt[impl]->run(s->peer[impl][i], x, y);
    if (rc) return -1;
    x = y;
  }
  if (s->residual) add(out, in, s->out_n);
  return 0;
}

/* One pass of implementation impl over the network: the input in act[0],
 * the steps' times into s->t[impl]; returns the total in µs, < 0 on
 * failure. *result gets the buffer holding the network's output. */
static double pass(network *net, int impl, const float *input, size_t input_n, float **result)
{
  memcpy(net->act[0], input, input_n * sizeof(float));
  double total = 0;
  for (size_t k = 0; k < net->n; k++) {
    step *s = &net->s[k];
    double t0 = bench_now_us();
    if (run_step(net, s, impl, net->act[k % 2], net->act[(k + 1) % 2])) return -1;
    s->t[impl] = bench_now_us() - t0;
    total += s->t[impl];
  }
  *result = net->act[net->n % 2];
  return total;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#ifdef SEPTUNE_HAVE_ONEDNN
/* oneDNN+dw: an inverted residual's expand with its depthwise as a post-op,
 * where oneDNN takes it; the other stages (and steps) on oneDNN's layers. */
static void onednn_dw_step(step *s)
{
  char why[256];
  s->vt[IMPL_ONEDNN_DW] = &bench_peer_onednn;
  if (s->layer.op.kind != SEPTUNE_OP_INVERTED_RESIDUAL) return;
  s->peer[IMPL_ONEDNN_DW][0] =
      bench_onednn_fused_create(&s->stage[0], s->weights, s->layer.op.u.ir.expand.has_bias ? s->bias : NULL,
                                &s->stage[1], s->weights + s->w_at[1],
                                s->layer.op.u.ir.dw.has_bias ? s->bias + s->b_at[1] : NULL, why, sizeof why);
  if (s->peer[IMPL_ONEDNN_DW][0]) s->dw_fused = 1;
  else fprintf(stderr, PROG ": %s: oneDNN+dw runs it layer by layer: %s\n", s->layer.name, why);
}
#endif

/* Bytes a block's layer-by-layer run moves that its fused run need not:
 * each intermediate written and read back, and the residual's own pass
 * (the output read and written again). */
static double spared_bytes(const step *s)
{
  double floats = 2.0 * (double)(s->mid_n[0] + s->mid_n[1]);
  if (s->residual) floats += 2.0 * (double)s->out_n;
  return s->stages > 1 ? floats * sizeof(float) : 0;
}

/* peak: GFLOP/s of the cores the threads have, far: the copy bandwidth
 * beyond L2 in GB/s (0: not measured) */
static void print_results(network *net, const options *o, double peak, double far)
{
  printf("%-6s %-34s", "step", "shape");
  for (int i = 0; i < IMPLS; i++)
    if (net->have[i]) printf(" %10s", impl_names[i]);
  printf("   (median µs, %d rounds, %d thread%s, cold caches)\n", o->rounds, o->threads, o->threads > 1 ? "s" : "");
  double sum[IMPLS] = { 0 }, flops = 0, spared = 0;
  for (size_t k = 0; k < net->n; k++) {
    step *s = &net->s[k];
    char shape[128];
    bench_shape_string(&s->layer.op, 0, shape, sizeof shape);
    printf("%-6s %-34s", s->layer.name, shape);
    for (int i = 0; i < IMPLS; i++) {
      if (!net->have[i]) continue;
      double m = median(s->samples[i], o->rounds);
      sum[i] += m;
      printf(" %10.1f", m);
    }
    if (net->have[IMPL_LAYERS] && net->have[IMPL_FUSED]) printf("   x%.2f vs layers", median(s->samples[IMPL_LAYERS], o->rounds) /
                                                             median(s->samples[IMPL_FUSED], o->rounds));
    double f = septune_op_flops(&s->layer.op);
    flops += f;
    spared += spared_bytes(s);
    if (net->have[IMPL_FUSED] && peak > 0)
      printf("  %5.1f%% of peak", 100.0 * f / (median(s->samples[IMPL_FUSED], o->rounds) * 1e3) / peak);
    printf("\n");
  }
  printf("%-6s %-34s", "total", "(median of the pass totals)");
  double tot[IMPLS];
  for (int i = 0; i < IMPLS; i++) {
    if (!net->have[i]) continue;
    tot[i] = median(net->total[i], o->rounds);
    printf(" %10.1f", tot[i]);
  }
  printf("\n");
  if (!net->have[IMPL_FUSED]) return;
  printf("speed-up of fused (total):");
  double best_peer = 0;
  for (int i = 1; i < IMPLS; i++) {
    if (!net->have[i]) continue;
    printf(" %s x%.2f", impl_names[i], tot[i] / tot[IMPL_FUSED]);
    if (i != IMPL_LAYERS && (best_peer == 0 || tot[i] < best_peer)) best_peer = tot[i];
  }
  if (best_peer > 0) printf("; over the fastest peer x%.2f", best_peer / tot[IMPL_FUSED]);
  printf("\n");
  if (peak > 0) {
    /* The ceiling: the network's flops at the FMA peak. No implementation
     * beats it, so it bounds every speed-up a kernel change can buy. */
    double floor_us = flops / (peak * 1e3);
    printf("network: %.1f MFLOP; fused runs at %.1f GFLOP/s, %.1f%% of the FMA peak; at the peak the network "
           "would take %.1f us",
           flops / 1e6, flops / (tot[IMPL_FUSED] * 1e3), 100.0 * floor_us / tot[IMPL_FUSED], floor_us);
    if (best_peer > 0) printf(", x%.2f the fastest peer's total", best_peer / floor_us);
    printf("\n");
  }
  if (far > 0 && net->have[IMPL_LAYERS] && spared > 0) {
    /* What fusion alone can buy: the traffic it spares, all of it at the
     * bandwidth beyond L2 (an upper bound: some of it hits L2 anyway). */
    double spared_us = spared / (far * 1e3);
    printf("layer by layer, the blocks' intermediates and residual passes move %.1f MB that fused need not; at "
           "%.1f GB/s that is %.1f us: with the same stage kernels, fused can be at most x%.2f faster than layers\n",
           spared / 1e6, far, spared_us,
           tot[IMPL_LAYERS] > spared_us ? tot[IMPL_LAYERS] / (tot[IMPL_LAYERS] - spared_us) : 0.0);
  }
  for (int i = 0; i < IMPLS; i++)
    if (!net->have[i]) printf("(%s not run: %s)\n", impl_names[i], net->why[i]);
  if (net->have[IMPL_ONEDNN_DW]) {
    printf("oneDNN+dw ran expand and depthwise as one primitive in:");
    for (size_t k = 0; k < net->n; k++)
      if (net->s[k].dw_fused) printf(" %s", net->s[k].layer.name);
    printf("\n");
  }
}

int main(int argc, char **argv)
{
  options o;
  parse_args(argc, argv, &o);
  int pinned = o.threads > 1 ? bench_pin_cpus(o.threads) : bench_pin_cpu(-1);
  if (pinned < 0) fprintf(stderr, PROG ": warning: could not pin to %d CPU(s)\n", o.threads);
  bench_peers_set_threads(o.threads);
  /* The ceilings of this run, measured on the pinned CPU before anything
   * else runs: a share of the peak means little from another run. */
  roofline rf;
  roofline_measure(&rf);
  double peak = rf.peak_gflops * o.threads;
  printf("FMA peak of this core: %.1f GFLOP/s (%s); copy bandwidth %.1f GB/s within L2, %.1f GB/s beyond",
         rf.peak_gflops, rf.peak_isa ? rf.peak_isa : "none", rf.bw_l2_gbs, rf.bw_far_gbs);
  printf("\n");
  if (o.threads > 1) {
    double each = bench_print_cpu_ceilings();
    if (each > 0) peak = each;
    printf("%%peak below is of %d cores, %.1f GFLOP/s\n", o.threads, peak);
  }

  bench_layer_list list = { 0 };
  if (bench_layer_list_read(&list, o.model, PROG) != 0) return 2;
  if (list.n == 0) return fprintf(stderr, PROG ": %s has no layers\n", o.model), 2;
  network net;
  memset(&net, 0, sizeof net);
  net.n = list.n;
  net.s = calloc(net.n, sizeof *net.s);
  if (!net.s) return 1;
  size_t act_n = 0, mid_n[2] = { 1, 1 };
  for (size_t k = 0; k < net.n; k++) {
    step *s = &net.s[k];
    s->layer = list.v[k].layer;
    if (!s->layer.name[0]) snprintf(s->layer.name, sizeof s->layer.name, "%zu", k);
    if (step_init(s, k, o.threads) != 0) return 1;
    if (k > 0 && s->in_n != net.s[k - 1].out_n)
      return fprintf(stderr, PROG ": %s: its input (%zu floats) is not the output of %s (%zu floats)\n",
                     s->layer.name, s->in_n, net.s[k - 1].layer.name, net.s[k - 1].out_n), 2;
    if (s->in_n > act_n) act_n = s->in_n;
    if (s->out_n > act_n) act_n = s->out_n;
    for (int i = 0; i < 2; i++)
      if (s->mid_n[i] > mid_n[i]) mid_n[i] = s->mid_n[i];
  }
  for (int i = 0; i < 2; i++) {
    net.act[i] = bench_peer_alloc(act_n * sizeof(float));
    net.mid[i] = bench_peer_alloc(mid_n[i] * sizeof(float));
    if (!net.act[i] || !net.mid[i]) return fprintf(stderr, PROG ": out of memory\n"), 1;
  }
  septune_caches caches;
  septune_cpu_caches(&caches);
  /* twice L3, within 64 MiB to 1 GiB (a VM may report any L3) */
  double flush_bytes = 2.0 * (double)caches.l3;
  if (flush_bytes < 64.0 * 1048576.0) flush_bytes = 64.0 * 1048576.0;
  if (flush_bytes > 1024.0 * 1048576.0) flush_bytes = 1024.0 * 1048576.0;
  if (o.flush_mb > 0) flush_bytes = o.flush_mb * 1048576.0;
  net.flush_n = (size_t)(flush_bytes / sizeof(float));
  net.flush = calloc(net.flush_n, sizeof(float));
  if (!net.flush) return fprintf(stderr, PROG ": out of memory for the flush buffer\n"), 1;

  net.have[IMPL_FUSED] = net.have[IMPL_LAYERS] = 1;
  if (o.only >= 0) {
    /* one implementation alone, e.g. under valgrind's cache simulation:
     * nothing to compare with (fused stays the reference when asked for) */
    for (int i = 0; i < IMPLS; i++) net.have[i] = i == o.only;
  }
  for (int i = IMPL_ONEDNN; i < IMPLS; i++) snprintf(net.why[i], sizeof net.why[i], "not in this build");
  for (const bench_peer_vtbl *const *vt = bench_peers_all; *vt; vt++) {
    int impl = !strcmp((*vt)->name, "oneDNN") ? IMPL_ONEDNN : IMPL_XNNPACK;
    if (o.only >= 0 && o.only != impl && !(impl == IMPL_ONEDNN && o.only == IMPL_ONEDNN_DW)) continue;
    net.have[impl] = 1;
    for (size_t k = 0; k < net.n && net.have[impl]; k++) {
      char why[256];
      if (step_peers(&net.s[k], impl, *vt, why, sizeof why) != 0) {
        net.have[impl] = 0;
        snprintf(net.why[impl], sizeof net.why[impl], "%s: %s", net.s[k].layer.name, why);
      }
    }
  }
#ifdef SEPTUNE_HAVE_ONEDNN
  if (net.have[IMPL_ONEDNN]) {
    net.have[IMPL_ONEDNN_DW] = o.only < 0 || o.only == IMPL_ONEDNN_DW;
    net.have[IMPL_ONEDNN] = o.only < 0 || o.only == IMPL_ONEDNN;
    for (size_t k = 0; k < net.n; k++) {
      step *s = &net.s[k];
      onednn_dw_step(s);
      /* the stages it does not fuse run on the oneDNN layers' operators */
      for (int i = 0; i < s->stages; i++)
        if (!s->peer[IMPL_ONEDNN_DW][i] && !(s->dw_fused && i == 1)) {
          s->peer[IMPL_ONEDNN_DW][i] = s->peer[IMPL_ONEDNN][i]; /* shared: destroyed once, below */
        }
    }
  }
#endif

  bench_rng r;
  bench_rng_seed(&r, 2, 0);
  float *input = malloc(net.s[0].in_n * sizeof(float));
  float *first = malloc(net.s[net.n - 1].out_n * sizeof(float));
  if (!input || !first) return 1;
  bench_fill(&r, input, net.s[0].in_n, 1.0f);
  for (int i = 0; i < IMPLS; i++) {
    net.total[i] = calloc((size_t)o.rounds, sizeof(double));
    for (size_t k = 0; k < net.n; k++) net.s[k].samples[i] = calloc((size_t)o.rounds, sizeof(double));
  }
  /* one untimed pass each: the outputs against fused's, pages touched */
  int bad = 0;
  for (int i = 0; i < IMPLS; i++) {
    if (!net.have[i]) continue;
    float *out;
    if (pass(&net, i, input, net.s[0].in_n, &out) < 0) {
      fprintf(stderr, PROG ": %s failed on a step\n", impl_names[i]);
      return 1;
    }
    if (i == IMPL_FUSED) {
      memcpy(first, out, net.s[net.n - 1].out_n * sizeof(float));
      continue;
    }
    if (!net.have[IMPL_FUSED]) continue;
    double max_abs, max_rel;
    bench_compare(out, first, net.s[net.n - 1].out_n, &max_abs, &max_rel);
    printf("%s: the network's output differs from fused's by %.3g at most (relative)\n", impl_names[i], max_rel);
    if (!(max_rel <= 1e-3)) bad = 1;
  }
  volatile float sink = 0;
  for (int round = 0; round < o.rounds; round++)
    for (int j = 0; j < IMPLS; j++) {
      int i = (j + round) % IMPLS;
      if (!net.have[i]) continue;
      float *out;
      sink += bench_flush_caches(net.flush, net.flush_n);
      /* the pass before left its pool's workers spinning (pthreadpool: some
       * ms) and they would take the CPUs from this one's: with a small
       * --flush-mb, fused (which follows XNNPACK in the rotation) took 2.3
       * ms on b0 at 2 threads, against 0.14 ms layer by layer */
      if (o.threads > 1) bench_pause_ms(SETTLE_MS);
      net.total[i][round] = pass(&net, i, input, net.s[0].in_n, &out);
      for (size_t k = 0; k < net.n; k++) net.s[k].samples[i][round] = net.s[k].t[i];
    }
  (void)sink;
  /* one core's bandwidth: the slower, so the larger the bound on what is spared */
  print_results(&net, &o, peak, rf.bw_far_gbs);

  for (size_t k = 0; k < net.n; k++) {
    step *s = &net.s[k];
    septune_plan_destroy(s->fused);
    for (int i = 0; i < s->stages; i++) {
      septune_plan_destroy(s->layer_plan[i]);
      for (int impl = IMPL_ONEDNN; impl < IMPLS; impl++) {
        bench_peer *p = s->peer[impl][i];
        if (!p || (impl == IMPL_ONEDNN_DW && p == s->peer[IMPL_ONEDNN][i])) continue;
        s->vt[impl]->destroy(p);
      }
    }
    for (int i = 0; i < IMPLS; i++) free(s->samples[i]);
    free(s->weights);
    free(s->bias);
  }
  for (int i = 0; i < IMPLS; i++) free(net.total[i]);
  for (int i = 0; i < 2; i++) {
    free(net.act[i]);
    free(net.mid[i]);
  }
  free(net.flush);
  free(net.s);
  free(input);
  free(first);
  bench_layer_list_free(&list);
  return bad;
}
