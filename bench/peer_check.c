/*
 * peer_check — checks every peer library against septune's reference on
 * every layer of one or more model files (and optionally a set of extra
 * shapes), then times the peers side by side.
 *
 *   peer_check [options] MODEL.txt ...
 *     --extra         also run the built-in extra shapes (multiplier 2, stride 2
 *                     on odd and even sizes, 5x5 and 7x7 kernels, dilation 2,
 *                     explicit asymmetric padding, batch 2, bias, every activation)
 *     --layer LINE    add one layer line (repeatable)
 *     --no-time       check only
 *     --rounds N      interleaved rounds per layer (default 15)
 *     --round-ms MS   repetitions per candidate per round (default 2 ms)
 *     --cpu N         pin to CPU N (default: the CPU the program starts on)
 *     --tol T         relative tolerance (default 1e-4)
 *     --seed S        random data seed (default 1)
 *
 * Error measure per element: |peer - ref| / max(|ref|, 1), i.e. relative for
 * large values and absolute near zero (where cancellation makes a relative
 * error meaningless). A peer fails when its largest error exceeds --tol or
 * its output has a NaN; a peer that declines a layer (create returns NULL)
 * is reported as unsupported, which is not a failure.
 *
 * Exit status: 0 all created peers agree, 1 a peer disagreed or failed to
 * run, 2 usage, file or parse error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "peers.h"
#include "septune.h"
#include "timing.h"

#define MAX_PEERS 8

static const char *const extra_layers[] = {
    /* channel multiplier */
    "dw name=x.m2 h=17 w=17 c=24 k=3 s=1 pad=same m=2 act=relu bias=1",
    "dw name=x.m3s2 h=15 w=16 c=8 k=3 s=2 pad=same m=3 act=none",
    /* stride 2: odd sizes (symmetric SAME) and even sizes (asymmetric SAME) */
    "dw name=x.s2odd h=15 w=13 c=40 k=3 s=2 pad=same act=relu6",
    "dw name=x.s2even h=16 w=16 c=40 k=3 s=2 pad=same act=none",
    /* larger kernels */
    "dw name=x.k5 h=28 w=28 c=72 k=5 s=1 pad=same act=hswish bias=1",
    "dw name=x.k5s2 h=29 w=29 c=72 k=5 s=2 pad=same act=relu",
    "dw name=x.k5s2e h=28 w=28 c=72 k=5 s=2 pad=same act=relu",
    "dw name=x.k7 h=14 w=14 c=64 k=7 pad=same act=none",
    "dw name=x.k3x1 h=12 w=11 c=16 kh=3 kw=1 pad=same act=none",
    /* dilation */
    "dw name=x.d2 h=20 w=20 c=32 k=3 d=2 pad=same act=relu6",
    "dw name=x.d2s2 h=21 w=19 c=32 k=3 d=2 s=2 pad=same act=none bias=1",
    /* explicit asymmetric padding, valid, batch 2, odd channels */
    "dw name=x.pad h=10 w=12 c=16 k=3 pad=0,1,2,1 act=none",
    "dw name=x.valid n=2 h=9 w=9 c=17 k=3 pad=valid act=clamp(-0.5,0.5) bias=1",
    /* every activation, depthwise */
    "dw name=a.dw.none h=14 w=14 c=48 k=3 pad=same act=none bias=1",
    "dw name=a.dw.relu h=14 w=14 c=48 k=3 pad=same act=relu bias=1",
    "dw name=a.dw.relu6 h=14 w=14 c=48 k=3 pad=same act=relu6 bias=1",
    "dw name=a.dw.clamp h=14 w=14 c=48 k=3 pad=same act=clamp(-1,0.5) bias=1",
    "dw name=a.dw.hswish h=14 w=14 c=48 k=3 pad=same act=hswish bias=1",
    "dw name=a.dw.hsigmoid h=14 w=14 c=48 k=3 pad=same act=hsigmoid bias=1",
    "dw name=a.dw.sigmoid h=14 w=14 c=48 k=3 pad=same act=sigmoid bias=1",
    "dw name=a.dw.silu h=14 w=14 c=48 k=3 pad=same act=silu bias=1",
    "dw name=a.dw.gelu h=14 w=14 c=48 k=3 pad=same act=gelu bias=1",
    "dw name=a.dw.gelu_tanh h=14 w=14 c=48 k=3 pad=same act=gelu_tanh bias=1",
    /* every activation, pointwise */
    "pw name=a.pw.none h=14 w=14 ci=48 co=40 act=none bias=1",
    "pw name=a.pw.relu h=14 w=14 ci=48 co=40 act=relu bias=1",
    "pw name=a.pw.relu6 h=14 w=14 ci=48 co=40 act=relu6 bias=1",
    "pw name=a.pw.clamp h=14 w=14 ci=48 co=40 act=clamp(-1,0.5) bias=1",
    "pw name=a.pw.hswish h=14 w=14 ci=48 co=40 act=hswish bias=1",
    "pw name=a.pw.hsigmoid h=14 w=14 ci=48 co=40 act=hsigmoid bias=1",
    "pw name=a.pw.sigmoid h=14 w=14 ci=48 co=40 act=sigmoid bias=1",
    "pw name=a.pw.silu h=14 w=14 ci=48 co=40 act=silu bias=1",
    "pw name=a.pw.gelu h=14 w=14 ci=48 co=40 act=gelu bias=1",
    "pw name=a.pw.gelu_tanh h=14 w=14 ci=48 co=40 act=gelu_tanh bias=1",
    /* odd pointwise shapes */
    "pw name=x.pwodd h=7 w=9 ci=19 co=37 act=relu6 bias=1",
    "pw name=x.pwn2 n=2 h=5 w=5 ci=64 co=64 act=none",
};

typedef struct peer_result {
  int status; /* 0 unsupported, 1 ok, -1 wrong or failed */
  double max_abs, max_rel;
  bench_stats t;
  char impl[128];
  char why[256];
} peer_result;

typedef struct row {
  char name[64];
  char shape[96];
  septune_op_kind kind;
  double flops;
  peer_result r[MAX_PEERS];
} row;

typedef struct run_ctx {
  const bench_peer_vtbl *vt;
  bench_peer *p;
  const float *in;
  float *out;
} run_ctx;

static int run_cb(void *c)
{
  run_ctx *r = c;
  return r->vt->run(r->p, r->in, r->out);
}

static void usage(FILE *f)
{
  fprintf(f,
          "usage: peer_check [--extra] [--layer LINE]... [--no-time] [--rounds N] [--round-ms MS]\n"
          "                  [--cpu N] [--tol T] [--seed S] MODEL.txt...\n");
}

int main(int argc, char **argv)
{
  int do_extra = 0, do_time = 1, rounds = 15, cpu = -1;
  double round_ms = 2.0, tol = 1e-4;
  unsigned long long seed = 1;
  bench_layer_list list = {0};
  int extra_lines = 0;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--extra")) do_extra = 1;
    else if (!strcmp(a, "--no-time")) do_time = 0;
    else if (!strcmp(a, "--layer") && i + 1 < argc) {
      char where[32];
      snprintf(where, sizeof where, "--layer #%d", ++extra_lines);
      if (bench_layer_list_add(&list, argv[++i], where, "peer_check") != 0) return 2;
    } else if (!strcmp(a, "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (!strcmp(a, "--round-ms") && i + 1 < argc) round_ms = atof(argv[++i]);
    else if (!strcmp(a, "--cpu") && i + 1 < argc) cpu = atoi(argv[++i]);
    else if (!strcmp(a, "--tol") && i + 1 < argc) tol = atof(argv[++i]);
    else if (!strcmp(a, "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (a[0] == '-') {
      usage(stderr);
      return 2;
    } else if (bench_layer_list_read(&list, a, "peer_check") != 0) {
      return 2;
    }
  }
  if (do_extra) {
    for (size_t i = 0; i < sizeof extra_layers / sizeof extra_layers[0]; i++)
      if (bench_layer_list_add(&list, extra_layers[i], "extra", "peer_check") != 0) return 2;
  }
  const bench_layer_entry *layers = list.v;
  size_t nlayers = list.n;
  if (nlayers == 0) {
    usage(stderr);
    return 2;
  }

  const bench_peer_vtbl *peers[MAX_PEERS];
  int npeers = 0;
  for (int i = 0; bench_peers_all[i] && npeers < MAX_PEERS; i++) peers[npeers++] = bench_peers_all[i];

  int pinned = bench_pin_cpu(cpu);
  const char *peak_isa = "none";
  double peak = do_time ? bench_fma_peak_gflops(&peak_isa) : 0.0;
  printf("peer_check: %zu layers, %d peers:", nlayers, npeers);
  for (int i = 0; i < npeers; i++) printf(" %s", peers[i]->name);
  printf("%s\n", npeers ? "" : " (none built: install libxnnpack-dev / libdnnl-dev)");
  if (pinned >= 0) printf("pinned to CPU %d", pinned);
  else printf("not pinned (sched_setaffinity failed)");
  if (do_time) printf("; single-thread fp32 FMA peak %.1f GFLOP/s (%s)", peak, peak_isa);
  printf("\n\n");

  row *rows = calloc(nlayers, sizeof *rows);
  if (!rows) return 2;
  int failures = 0;

  for (size_t li = 0; li < nlayers; li++) {
    const septune_layer *L = &layers[li].layer;
    const septune_op *op = &L->op;
    row *R = &rows[li];
    septune_error err;
    size_t n_in, n_out, n_w, n_b;
    if (L->name[0]) snprintf(R->name, sizeof R->name, "%s", L->name);
    else snprintf(R->name, sizeof R->name, "#%zu", li + 1);
    bench_shape_string(op, 1, R->shape, sizeof R->shape);
    R->kind = op->kind;
    R->flops = septune_op_flops(op);
    if (septune_op_tensor_sizes(op, &n_in, &n_out, &n_w, &n_b, &err) != SEPTUNE_OK) {
      fprintf(stderr, "peer_check: %s: %s\n", layers[li].where, err.message);
      return 2;
    }
    int has_bias = op->kind == SEPTUNE_OP_DEPTHWISE ? op->u.dw.has_bias : op->u.pw.has_bias;
    float *in = bench_peer_alloc(n_in * sizeof(float));
    float *w = bench_peer_alloc(n_w * sizeof(float));
    float *b = bench_peer_alloc((n_b ? n_b : 1) * sizeof(float));
    float *ref = bench_peer_alloc(n_out * sizeof(float));
    float *outs[MAX_PEERS] = {0};
    bench_peer *inst[MAX_PEERS] = {0};
    if (!in || !w || !b || !ref) {
      fprintf(stderr, "peer_check: out of memory\n");
      return 2;
    }
    bench_rng rng;
    bench_rng_seed(&rng, seed, li);
    /* Inputs in [-2, 2) so hswish and relu6 see both their bends. */
    bench_fill(&rng, in, n_in, 2.0f);
    bench_fill(&rng, w, n_w, 1.0f);
    bench_fill(&rng, b, n_b, 1.0f);
    if (septune_reference_execute(op, w, has_bias ? b : NULL, in, ref, &err) != SEPTUNE_OK) {
      fprintf(stderr, "peer_check: %s: reference: %s\n", layers[li].where, err.message);
      return 2;
    }

    printf("%-14s %-44s", R->name, R->shape);
    for (int pi = 0; pi < npeers; pi++) {
      peer_result *P = &R->r[pi];
      inst[pi] = peers[pi]->create(op, w, has_bias ? b : NULL, P->why, sizeof P->why);
      if (!inst[pi]) {
        P->status = 0;
        printf("\n    %-8s unsupported: %s", peers[pi]->name, P->why);
        continue;
      }
      snprintf(P->impl, sizeof P->impl, "%s", peers[pi]->impl(inst[pi]));
      outs[pi] = bench_peer_alloc(n_out * sizeof(float));
      if (!outs[pi]) {
        fprintf(stderr, "peer_check: out of memory\n");
        return 2;
      }
      for (size_t i = 0; i < n_out; i++) outs[pi][i] = NAN;
      int rc = peers[pi]->run(inst[pi], in, outs[pi]);
      if (rc != 0) {
        P->status = -1;
        snprintf(P->why, sizeof P->why, "run failed (%d)", rc);
        printf("\n    %-8s RUN FAILED (%d)", peers[pi]->name, rc);
        failures++;
        continue;
      }
      bench_compare(outs[pi], ref, n_out, &P->max_abs, &P->max_rel);
      int ok = P->max_rel <= tol;
      P->status = ok ? 1 : -1;
      if (!ok) failures++;
      printf("\n    %-8s %s max abs %.2e  max rel %.2e  [%s]", peers[pi]->name,
             ok ? "ok  " : "FAIL", P->max_abs, P->max_rel, P->impl);
    }
    printf("\n");
    fflush(stdout);

    if (do_time) {
      bench_fn fns[MAX_PEERS];
      void *ctxs[MAX_PEERS];
      run_ctx rc[MAX_PEERS];
      bench_stats st[MAX_PEERS];
      int idx[MAX_PEERS], k = 0;
      for (int pi = 0; pi < npeers; pi++) {
        if (R->r[pi].status != 1) continue;
        rc[k] = (run_ctx){peers[pi], inst[pi], in, outs[pi]};
        fns[k] = run_cb;
        ctxs[k] = &rc[k];
        idx[k++] = pi;
      }
      if (k > 0) {
        if (bench_measure_interleaved((size_t)k, fns, ctxs, rounds, round_ms, st) != 0) {
          printf("    timing failed\n");
          failures++;
        } else {
          for (int j = 0; j < k; j++) R->r[idx[j]].t = st[j];
        }
      }
    }
    for (int pi = 0; pi < npeers; pi++) {
      if (inst[pi]) peers[pi]->destroy(inst[pi]);
      free(outs[pi]);
    }
    free(in), free(w), free(b), free(ref);
  }

  if (do_time && npeers > 0) {
    printf("\nTimes: median of %d interleaved rounds of >= %.1f ms each, single thread, µs per call"
           " (min in brackets); GFLOP/s from the median.\n\n",
           rounds, round_ms);
    printf("%-14s %-44s %9s", "layer", "shape", "MFLOP");
    for (int pi = 0; pi < npeers; pi++) printf(" | %-25s", peers[pi]->name);
    printf("\n");
    double tot_us[2][MAX_PEERS] = {{0}}, tot_fl[2] = {0};
    int tot_ok[2] = {1, 1}, tot_n[2] = {0, 0};
    for (size_t li = 0; li < nlayers; li++) {
      const row *R = &rows[li];
      int kind = R->kind == SEPTUNE_OP_DEPTHWISE ? 0 : 1;
      printf("%-14s %-44s %9.2f", R->name, R->shape, R->flops * 1e-6);
      tot_fl[kind] += R->flops;
      tot_n[kind]++;
      for (int pi = 0; pi < npeers; pi++) {
        const peer_result *P = &R->r[pi];
        if (P->status == 1) {
          char cell[64];
          snprintf(cell, sizeof cell, "%9.2f [%8.2f] %6.1f", P->t.median_us, P->t.min_us,
                   R->flops / (P->t.median_us * 1e3));
          printf(" | %-25s", cell);
          tot_us[kind][pi] += P->t.median_us;
        } else {
          printf(" | %-25s", P->status == 0 ? "      unsupported" : "      FAILED");
          tot_ok[kind] = 0;
        }
      }
      printf("\n");
    }
    const char *kname[2] = {"all dw", "all pw"};
    printf("\n");
    for (int kind = 0; kind < 2; kind++) {
      if (tot_n[kind] == 0) continue;
      printf("%-14s %-44s %9.2f", kname[kind], tot_ok[kind] ? "sum of medians" : "sum (some missing)",
             tot_fl[kind] * 1e-6);
      for (int pi = 0; pi < npeers; pi++) {
        char cell[64];
        snprintf(cell, sizeof cell, "%9.1f            %6.1f", tot_us[kind][pi],
                 tot_us[kind][pi] > 0 ? tot_fl[kind] / (tot_us[kind][pi] * 1e3) : 0.0);
        printf(" | %-25s", cell);
      }
      printf("\n");
    }
    if (peak > 0) printf("\nFMA peak of this core: %.1f GFLOP/s (%s).\n", peak, peak_isa);
  }

  printf("\n%s: %d failure%s\n", failures ? "FAIL" : "OK", failures, failures == 1 ? "" : "s");
  free(rows);
  bench_layer_list_free(&list);
  return failures ? 1 : 0;
}
