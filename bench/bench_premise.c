/*
 * bench_premise.c — the premise, measured: for each premise kernel (see
 * cmake/PremiseKernels.cmake) on this CPU, the median libtcc compile time of
 * its source, and its run time as built by libtcc and by the system
 * compiler, measured interleaved in one process; prints gcc/libtcc ratios.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jit.h"
#include "plan.h"
#include "premise_kernels.h"
#include "septune.h"
#include "timing.h"

typedef struct run_ctx {
  const septune_plan *plan;
  septune_kernel_fn kernel; /* NULL: the plan's own (libtcc) build */
  const float *in;
  float *out;
} run_ctx;

static int run(void *p)
{
  run_ctx *c = p;
  septune_status st = c->kernel ? septune_plan_execute_with(c->plan, c->kernel, c->in, c->out, NULL)
                                : septune_execute(c->plan, c->in, c->out, NULL);
  return st == SEPTUNE_OK ? 0 : 1;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of `n` libtcc compiles of `source`, in ms. */
static double compile_ms(const char *source, int n)
{
  double *t = malloc((size_t)n * sizeof *t);
  char err[512];
  for (int i = 0; i < n; i++) {
    septune_jit *m = NULL;
    double t0 = bench_now_us();
    if (septune_jit_compile(source, "premise.c", &m, err, sizeof err) != 0) {
      fprintf(stderr, "bench_premise: compile failed: %s\n", err);
      exit(1);
    }
    t[i] = (bench_now_us() - t0) / 1e3;
    septune_jit_free(m);
  }
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  double med = t[n / 2];
  free(t);
  return med;
}

int main(void)
{
  bench_pin_cpu(-1);
  printf("%-58s %-7s %10s %12s %12s %10s\n", "kernel", "isa", "compile ms", "libtcc us", "gcc -O2 us",
         "gcc/libtcc");
  double log_sum = 0;
  int count = 0;
  for (size_t i = 0; i < PREMISE_KERNEL_COUNT; i++) {
    const struct premise_kernel *pk = &premise_kernels[i];
    septune_isa isa;
    septune_layer layer;
    septune_error err;
    if (septune_isa_from_name(pk->isa, &isa) != SEPTUNE_OK || !septune_cpu_has_isa(isa)) continue;
    if (septune_layer_parse(pk->line, &layer, &err) != SEPTUNE_OK) {
      fprintf(stderr, "bench_premise: %s: %s\n", pk->line, err.message);
      return 1;
    }
    size_t ni, no, nw, nb;
    septune_op_tensor_sizes(&layer.op, &ni, &no, &nw, &nb, NULL);
    float *in, *w, *bias, *out;
    if (posix_memalign((void **)&in, 64, ni * 4 + 64) || posix_memalign((void **)&out, 64, no * 4 + 64) ||
        !(w = malloc(nw * 4)) || !(bias = malloc(nb * 4 + 4))) {
      fprintf(stderr, "bench_premise: out of memory\n");
      return 1;
    }
    unsigned long long seed = 5;
    septune_fill_random(in, ni, &seed);
    septune_fill_random(w, nw, &seed);
    septune_fill_random(bias, nb, &seed);
    septune_plan_options opts = { .isa = isa, .knobs = NULL, .threads = 1 }; /* as septune source renders */
    septune_plan *plan = NULL;
    if (septune_plan_create(&layer.op, w, bias, &opts, &plan, &err) != SEPTUNE_OK) {
      fprintf(stderr, "bench_premise: %s: %s\n", pk->line, err.message);
      return 1;
    }
    void *sym = dlsym(RTLD_DEFAULT, septune_plan_symbol(plan));
    if (!sym) {
      fprintf(stderr, "bench_premise: gcc build of %s not linked in\n", septune_plan_symbol(plan));
      return 1;
    }
    run_ctx tcc = { plan, NULL, in, out }, gcc = { plan, NULL, in, out };
    memcpy(&gcc.kernel, &sym, sizeof sym);
    const bench_fn fns[2] = { run, run };
    void *const ctxs[2] = { &tcc, &gcc };
    bench_stats st[2];
    double cms = compile_ms(septune_plan_source(plan), 50);
    if (bench_measure_interleaved(2, fns, ctxs, 15, 2.0, st) != 0) {
      fprintf(stderr, "bench_premise: %s: execution failed\n", pk->line);
      return 1;
    }
    double ratio = st[1].median_us / st[0].median_us;
    printf("%-58s %-7s %10.2f %12.2f %12.2f %10.3f\n", pk->line, pk->isa, cms, st[0].median_us,
           st[1].median_us, ratio);
    /* The portable-C template is libtcc's correctness fallback, not a claim
     * of the premise: only machine-code kernels enter the mean. */
    if (isa != SEPTUNE_ISA_SCALAR) {
      log_sum += log(ratio);
      count++;
    }
    septune_plan_destroy(plan);
    free(in); free(w); free(bias); free(out);
  }
  if (count)
    printf("geometric mean gcc/libtcc over %d machine-code kernels: %.3f (scalar = portable C, not included)\n",
           count, exp(log_sum / count));
  return 0;
}
