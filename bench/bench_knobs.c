/*
 * bench_knobs — one layer, several knob strings, timed side by side.
 *
 *   bench_knobs [--cpu K] [--rounds N] [--round-ms MS] [--isa ISA] LAYER KNOBS...
 *
 * LAYER is one layer line ("dw h=28 w=28 c=192 k=3 s=1 pad=same act=relu6");
 * each KNOBS is a knob string, "-" for the heuristic default. Every kernel
 * is checked against the reference, then all are timed interleaved
 * (bench_measure_interleaved, median of rounds), so a busy machine slows
 * them alike: the ratio column (time of the first / time of this one) is
 * what to read, with the share of the FMA peak measured in the same run.
 *
 * Exit status: 0 every kernel built and agreed with the reference; 1 one did
 * not (the row says why); 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "septune.h"
#include "timing.h"

#define PROG "bench_knobs"
#define MAX_KNOBS 32

typedef struct run_ctx {
  septune_plan *plan;
  const float *in;
  float *out;
} run_ctx;

static int run(void *p)
{
  run_ctx *c = p;
  return septune_execute(c->plan, c->in, c->out, NULL) == SEPTUNE_OK ? 0 : 1;
}

static void usage(FILE *f)
{
  fprintf(f, "usage: " PROG " [--cpu K] [--rounds N] [--round-ms MS] [--isa ISA] LAYER KNOBS...\n"
             "  KNOBS is a knob string, or - for the default; the first is the baseline of the ratios\n");
}

int main(int argc, char **argv)
{
  int cpu = -1, rounds = 21, i = 1;
  double round_ms = 2;
  septune_isa isa = SEPTUNE_ISA_AUTO;
  for (; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
    if (i + 1 >= argc) {
      usage(stderr);
      return 2;
    }
    if (!strcmp(argv[i], "--cpu")) cpu = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--rounds")) rounds = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--round-ms")) round_ms = atof(argv[i + 1]);
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
  if (argc - i < 2 || argc - i - 1 > MAX_KNOBS) {
    usage(stderr);
    return 2;
  }
  bench_layer_list list = {0};
  if (bench_layer_list_add(&list, argv[i], "LAYER", PROG) != 0 || list.n != 1) {
    if (list.n != 1) fprintf(stderr, PROG ": LAYER: one layer line expected\n");
    bench_layer_list_free(&list);
    return 2;
  }
  const septune_op *op = &list.v[0].layer.op;
  int nk = argc - i - 1;
  char **knobs = argv + i + 1;
  if (bench_pin_cpu(cpu) < 0) fprintf(stderr, PROG ": not pinned\n");
  double peak = bench_fma_peak_gflops(NULL);

  size_t nin, nout, nw, nb;
  septune_op_tensor_sizes(op, &nin, &nout, &nw, &nb, NULL);
  if (nb == 0) nb = 1;
  float *in = malloc(nin * 4), *w = malloc(nw * 4), *b = malloc(nb * 4), *ref = malloc(nout * 4);
  float *out = malloc(nout * 4);
  bench_rng r;
  bench_rng_seed(&r, 1, 0);
  bench_fill(&r, in, nin, 1);
  bench_fill(&r, w, nw, 1);
  bench_fill(&r, b, nb, 1);
  septune_reference_execute(op, w, b, in, ref, NULL);

  septune_plan *plans[MAX_KNOBS] = {0};
  run_ctx ctx[MAX_KNOBS];
  bench_fn fns[MAX_KNOBS];
  void *ctxs[MAX_KNOBS];
  char used[MAX_KNOBS][256];
  int rc = 0;
  for (int k = 0; k < nk; k++) {
    septune_plan_options po = {.isa = isa, .knobs = strcmp(knobs[k], "-") ? knobs[k] : NULL, .db_path = ""};
    septune_error err;
    if (septune_plan_create(op, w, b, &po, &plans[k], &err) != SEPTUNE_OK) {
      fprintf(stderr, PROG ": %s: %s\n", knobs[k], err.message);
      rc = 1;
      continue;
    }
    septune_plan_info info;
    septune_plan_get_info(plans[k], &info);
    snprintf(used[k], sizeof used[k], "%s %s", septune_isa_name(info.isa), info.knobs);
    memset(out, 0, nout * 4);
    septune_execute(plans[k], in, out, NULL);
    double ma, mr;
    bench_compare(out, ref, nout, &ma, &mr);
    if (mr > 1e-4) {
      fprintf(stderr, PROG ": %s: wrong result (max rel error %g)\n", knobs[k], mr);
      rc = 1;
    }
  }
  if (rc) goto done;
  for (int k = 0; k < nk; k++) {
    ctx[k] = (run_ctx){plans[k], in, out};
    fns[k] = run;
    ctxs[k] = &ctx[k];
  }
  bench_stats st[MAX_KNOBS];
  bench_measure_interleaved((size_t)nk, fns, ctxs, rounds, round_ms, st);
  double flops = septune_op_flops(op);
  printf("%s\nFMA peak %.1f GFLOP/s\n", argv[i], peak);
  for (int k = 0; k < nk; k++)
    printf("%9.2f us %6.1f%% peak  x%.3f  %s\n", st[k].median_us, 100 * flops / (st[k].median_us * 1e3) / peak,
           st[0].median_us / st[k].median_us, used[k]);
done:
  for (int k = 0; k < nk; k++) septune_plan_destroy(plans[k]);
  free(in), free(w), free(b), free(ref), free(out);
  bench_layer_list_free(&list);
  return rc;
}
