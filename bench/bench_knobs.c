/*
 * bench_knobs — one layer, several knob strings, timed side by side.
 *
 *   bench_knobs [--cpu K | --threads T] [--rounds N] [--round-ms MS] [--cold MB] [--isa ISA]
 *               LAYER KNOBS... [LAYER KNOBS...]...
 *
 * LAYER is a layer line ("dw h=28 w=28 c=192 k=3 s=1 pad=same act=relu6");
 * each KNOBS after it is a knob string for it, "-" for the heuristic
 * default. Every kernel is checked against the reference, then all are
 * timed interleaved (bench_measure_interleaved, median of rounds), so a
 * busy machine slows them alike: the ratio column (GFLOP/s against the
 * first kernel's) is what to read, with the share of the FMA peak measured
 * in the same run. With --cold MB each round times a single execution of
 * each kernel, right after MB MiB have been written and read: the caches
 * hold none of its weights or tensors, as in an inference (the hot timing
 * favours what wins when everything sits in L2).
 *
 * Exit status: 0 every kernel built and agreed with the reference; 1 one did
 * not (the row says why); 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "peers.h"
#include "septune.h"
#include "timing.h"

#define PROG "bench_knobs"
#define MAX_KNOBS 32

typedef struct candidate {
  septune_op op;
  septune_plan *plan;
  float *in, *out;
  char shape[64];
  char used[256];
} candidate;

static int run(void *p)
{
  candidate *c = p;
  return septune_execute(c->plan, c->in, c->out, NULL) == SEPTUNE_OK ? 0 : 1;
}

/* Plans op with `knobs` ("-": the default) and checks it against the
 * reference. Returns 0; -1 when the plan cannot be made (knobs invalid for
 * the shape: the candidate is left out, the others still run); 1 when it
 * computes a wrong result or memory runs out. Says why on stderr. */
static int make_candidate(candidate *c, const septune_op *op, size_t layer, const char *knobs, septune_isa isa,
                          int threads)
{
  memset(c, 0, sizeof *c);
  c->op = *op;
  bench_shape_string(op, 0, c->shape, sizeof c->shape);
  size_t nin, nout, nw, nb;
  septune_op_tensor_sizes(op, &nin, &nout, &nw, &nb, NULL);
  if (nb == 0) nb = 1;
  float *w = malloc(nw * 4), *b = malloc(nb * 4), *ref = malloc(nout * 4);
  /* 64-byte aligned as in bench_layers, so that both time the same
   * accesses: malloc's large blocks start 16 bytes into a page, where
   * every vector load would straddle two cache lines. */
  c->in = bench_peer_alloc(nin * 4);
  c->out = bench_peer_alloc(nout * 4);
  int rc = 1;
  if (!w || !b || !ref || !c->in || !c->out) {
    fprintf(stderr, PROG ": out of memory\n");
    goto out;
  }
  bench_rng r;
  bench_rng_seed(&r, 1, layer);
  bench_fill(&r, c->in, nin, 1);
  bench_fill(&r, w, nw, 1);
  bench_fill(&r, b, nb, 1);
  septune_reference_execute(op, w, b, c->in, ref, NULL);
  septune_plan_options po = {.isa = isa, .knobs = strcmp(knobs, "-") ? knobs : NULL, .db_path = "", .threads = threads};
  septune_error err;
  if (septune_plan_create(op, w, b, &po, &c->plan, &err) != SEPTUNE_OK) {
    fprintf(stderr, PROG ": %s %s: left out: %s\n", c->shape, knobs, err.message);
    rc = -1;
    goto out;
  }
  septune_plan_info info;
  septune_plan_get_info(c->plan, &info);
  snprintf(c->used, sizeof c->used, "%s %s", septune_isa_name(info.isa), info.knobs);
  septune_execute(c->plan, c->in, c->out, NULL);
  double ma, mr;
  bench_compare(c->out, ref, nout, &ma, &mr);
  if (mr > 1e-4) {
    fprintf(stderr, PROG ": %s %s: wrong result (max rel error %g)\n", c->shape, knobs, mr);
    goto out;
  }
  rc = 0;
out:
  free(w), free(b), free(ref);
  return rc;
}

static void free_candidate(candidate *c)
{
  septune_plan_destroy(c->plan);
  free(c->in), free(c->out);
}

static void usage(FILE *f)
{
  fprintf(f, "usage: " PROG " [--cpu K | --threads T] [--rounds N] [--round-ms MS] [--cold MB] [--isa ISA]\n"
             "                   LAYER KNOBS... [LAYER KNOBS...]...\n"
             "  KNOBS is a knob string for the layer before it, or - for the default; the first kernel is the\n"
             "  baseline of the ratios. --threads T: plans of T threads pinned to T CPUs (the knob th says how\n"
             "  many an execution wakes), each round after a pause that lets the pool's threads go to sleep.\n"
             "  --cold MB: each round times one execution per kernel, each after writing and reading MB MiB\n"
             "  (twice the last-level cache flushes it), as an inference meets a layer\n");
}

int main(int argc, char **argv)
{
  int cpu = -1, rounds = 21, threads = 1, i = 1;
  double round_ms = 2, cold_mb = 0;
  septune_isa isa = SEPTUNE_ISA_AUTO;
  for (; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
    if (i + 1 >= argc) {
      usage(stderr);
      return 2;
    }
    if (!strcmp(argv[i], "--cpu")) cpu = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--rounds")) rounds = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--round-ms")) round_ms = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--cold")) {
      char *end;
      cold_mb = strtod(argv[i + 1], &end);
      if (*end || !(cold_mb > 0 && cold_mb <= 65536)) {
        fprintf(stderr, PROG ": --cold: MiB to flush, more than 0 and at most 65536, not '%s'\n", argv[i + 1]);
        return 2;
      }
    }
    else if (!strcmp(argv[i], "--isa")) {
      if (septune_isa_from_name(argv[i + 1], &isa) != SEPTUNE_OK) {
        fprintf(stderr, PROG ": --isa: unknown '%s'\n", argv[i + 1]);
        return 2;
      }
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (argc - i < 2) {
    usage(stderr);
    return 2;
  }
  if (rounds < 1) {
    fprintf(stderr, PROG ": --rounds: at least 1, not %d\n", rounds);
    return 2;
  }
  if (threads < 1 || threads > SEPTUNE_MAX_THREADS) {
    fprintf(stderr, PROG ": --threads: 1 to %d, not %d\n", SEPTUNE_MAX_THREADS, threads);
    return 2;
  }
  if ((threads > 1 ? bench_pin_cpus(threads) : bench_pin_cpu(cpu)) < 0) fprintf(stderr, PROG ": not pinned\n");
  double peak = bench_fma_peak_gflops(NULL);

  /* One candidate per knob string, each with the tensors of its layer. */
  bench_layer_list list = {0};
  candidate cs[MAX_KNOBS];
  int nk = 0, rc = 0;
  for (; i < argc; i++) {
    if (!strncmp(argv[i], "dw ", 3) || !strncmp(argv[i], "pw ", 3) || !strncmp(argv[i], "sep ", 4) ||
        !strncmp(argv[i], "ir ", 3)) {
      if (bench_layer_list_add(&list, argv[i], "LAYER", PROG) != 0) {
        rc = 2;
        goto done;
      }
      continue;
    }
    if (list.n == 0 || nk == MAX_KNOBS) {
      usage(stderr);
      rc = 2;
      goto done;
    }
    int made = make_candidate(&cs[nk], &list.v[list.n - 1].layer.op, list.n - 1, argv[i], isa, threads);
    if (made > 0) rc = 1;
    if (made < 0) free_candidate(&cs[nk]);
    else nk++;
  }
  if (rc || nk == 0) {
    if (!rc) fprintf(stderr, PROG ": no candidate could be planned\n");
    rc = rc ? rc : 1;
    goto done;
  }
  bench_fn fns[MAX_KNOBS];
  void *ctxs[MAX_KNOBS];
  for (int k = 0; k < nk; k++) {
    fns[k] = run;
    ctxs[k] = &cs[k];
  }
  bench_stats st[MAX_KNOBS];
  if (cold_mb > 0) {
    if (bench_measure_cold((size_t)nk, fns, ctxs, rounds, cold_mb, st) != 0) {
      fprintf(stderr, PROG ": --cold: out of memory or a run failed\n");
      rc = 1;
      goto done;
    }
  } else {
    /* with threads, as bench_layers does: a pool woken from sleep each round */
    bench_measure_interleaved_settled((size_t)nk, fns, ctxs, rounds, round_ms, threads > 1 ? 50 : 0, st);
  }
  /* The fastest round too: on a machine shared with other work it is the
   * steadier figure. */
  printf("FMA peak %.1f GFLOP/s; x: GFLOP/s against the first kernel's (median, fastest round)\n", peak);
  double base = 0, base_min = 0;
  for (int k = 0; k < nk; k++) {
    double flops = septune_op_flops(&cs[k].op);
    double gflops = flops / (st[k].median_us * 1e3), gflops_min = flops / (st[k].min_us * 1e3);
    if (k == 0) base = gflops, base_min = gflops_min;
    printf("%9.2f us %6.1f%% peak  x%.3f  min %9.2f us x%.3f  %-24s %s\n", st[k].median_us, 100 * gflops / peak,
           gflops / base, st[k].min_us, gflops_min / base_min, cs[k].shape, cs[k].used);
  }
done:
  for (int k = 0; k < nk; k++) free_candidate(&cs[k]);
  bench_layer_list_free(&list);
  return rc;
}
