/*
 * embed — runs every depthwise and pointwise layer of a model with the
 * kernels `septune emit` generated for it, on one thread and on every CPU
 * this process may use, and checks each output against septune's plain-C
 * reference.
 *
 * The kernels are compiled into this program (see CMakeLists.txt); it links
 * libseptune_rt only: no Lua, no JIT, no tuning database at run time. A
 * plan's threads are the library's: it splits each kernel's work items
 * across a pthreadpool it shares between the plans of one thread count.
 *
 *   embed [MODEL]    MODEL: the layer list the kernels were emitted for
 *                    (default: the one given to CMake)
 *
 * Exit status: 0 when every layer ran on an emitted kernel, matched the
 * reference and gave the same bits on all the threads as on one, 1
 * otherwise.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <septune.h>

#include "mobilenet_v2.h" /* written by `septune emit`: declares mobilenet_v2_kernels */

#ifndef EMBED_MODEL_PATH
#define EMBED_MODEL_PATH "mobilenet_v2.txt"
#endif

/* Reproducible values in [-1, 1) (xorshift64). */
static void fill_random(float *x, size_t n, unsigned long long *state)
{
  for (size_t i = 0; i < n; i++) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    x[i] = (float)((double)(*state >> 11) / 4503599627370496.0 - 1.0);
  }
}

/* A kernel sums its products in another order than the reference does, so
 * the outputs differ by rounding: a few float ulps per term summed (taps for
 * depthwise, input channels for pointwise), relative to the output's size.
 * Returns the worst |got - want| / bound over the tensor: <= 1 is a match. */
static double worst_error_ratio(const septune_op *op, const float *want, const float *got, size_t n)
{
  double terms = op->kind == SEPTUNE_OP_DEPTHWISE ? (double)(op->u.dw.kh * op->u.dw.kw) : (double)op->u.pw.ci;
  double rel = 4.0 * FLT_EPSILON * (terms + 2.0);
  double worst = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(got[i])) return INFINITY;
    double ratio = fabs((double)got[i] - (double)want[i]) / (rel * (1.0 + fabs((double)want[i])));
    if (ratio > worst) worst = ratio;
  }
  return worst;
}

static double now_us(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* 1 for a line with nothing but blanks or a # comment. */
static int is_blank_or_comment(const char *line)
{
  while (isspace((unsigned char)*line)) line++;
  return *line == '\0' || *line == '#';
}

/* Runs the plan into output once to warm the caches (and start the pool's
 * threads), then five times; returns the fastest of those in microseconds,
 * a negative value when it failed (printed). */
static double timed_run(const septune_plan *plan, const float *input, float *output)
{
  septune_error err;
  if (septune_execute(plan, input, output, &err) != SEPTUNE_OK) {
    printf(" execute: %s\n", err.message);
    return -1.0;
  }
  double best = -1.0;
  for (int i = 0; i < 5; i++) {
    double t0 = now_us();
    septune_execute(plan, input, output, &err);
    double t = now_us() - t0;
    if (best < 0 || t < best) best = t;
  }
  return best;
}

/* Plans, runs and checks one layer. Prints one table row; returns 1 when the
 * layer ran on an emitted kernel, matched the reference and gave the same
 * bits on all the threads as on one. */
static int run_layer(const septune_layer *layer, unsigned long long *seed)
{
  const septune_op *op = &layer->op;
  size_t n_in, n_out, n_w, n_b;
  septune_error err;
  if (septune_op_tensor_sizes(op, &n_in, &n_out, &n_w, &n_b, &err) != SEPTUNE_OK) {
    printf("%-14s %s\n", layer->name, err.message);
    return 0;
  }
  float *input = malloc(n_in * sizeof(float));
  float *output = malloc(n_out * sizeof(float));
  float *threaded = malloc(n_out * sizeof(float));
  float *expected = malloc(n_out * sizeof(float));
  float *weights = malloc(n_w * sizeof(float));
  float *bias = malloc((n_b ? n_b : 1) * sizeof(float));
  int ok = 0;
  septune_plan *plan = NULL, *all = NULL;
  if (!input || !output || !threaded || !expected || !weights || !bias) {
    printf("%-14s out of memory\n", layer->name);
    goto done;
  }
  fill_random(input, n_in, seed);
  fill_random(weights, n_w, seed);
  fill_random(bias, n_b, seed);
  const float *bias_arg = n_b ? bias : NULL;

  /* The plans look in the registered tables first. One on one thread, one
   * (NULL options) on every CPU this process may use. */
  septune_plan_options one = { .threads = 1 };
  if (septune_plan_create(op, weights, bias_arg, &one, &plan, &err) != SEPTUNE_OK ||
      septune_plan_create(op, weights, bias_arg, NULL, &all, &err) != SEPTUNE_OK) {
    printf("%-14s plan: %s\n", layer->name, err.message);
    goto done;
  }
  septune_plan_info info, info_all;
  septune_plan_get_info(plan, &info);
  septune_plan_get_info(all, &info_all);
  const char *op_name = op->kind == SEPTUNE_OP_DEPTHWISE ? "dw" : "pw";
  const char *knobs = info.source == SEPTUNE_KERNEL_TUNED     ? "tuned"
                      : info.source == SEPTUNE_KERNEL_GENERIC ? "generic"
                      : info.source == SEPTUNE_KERNEL_FORCED  ? "forced"
                                                              : "default";
  printf("%-14s %-3s %-7s %-8s %3d of %-3d", layer->name, op_name, septune_isa_name(info.isa), knobs, info_all.wake,
         info_all.threads);

  double elapsed = timed_run(plan, input, output), elapsed_all = timed_run(all, input, threaded);
  if (elapsed < 0 || elapsed_all < 0) goto done;
  if (septune_reference_execute(op, weights, bias_arg, input, expected, &err) != SEPTUNE_OK) {
    printf(" reference: %s\n", err.message);
    goto done;
  }
  double ratio = worst_error_ratio(op, expected, output, n_out);
  int emitted = info.build == SEPTUNE_BUILD_EMITTED && info_all.build == SEPTUNE_BUILD_EMITTED;
  int same = memcmp(output, threaded, n_out * sizeof(float)) == 0;
  ok = emitted && ratio <= 1.0 && same;
  printf(" %10.1f %10.1f %9.3f  %s\n", elapsed, elapsed_all, ratio,
         !emitted       ? "FAIL: not an emitted kernel"
         : ratio > 1.0  ? "FAIL: differs from the reference"
         : !same        ? "FAIL: the threads changed the output"
                        : "ok");

done:
  septune_plan_destroy(plan);
  septune_plan_destroy(all);
  free(input);
  free(output);
  free(threaded);
  free(expected);
  free(weights);
  free(bias);
  return ok;
}

int main(int argc, char **argv)
{
  const char *model = argc > 1 ? argv[1] : EMBED_MODEL_PATH;
  septune_error err;

  /* Every plan created from now on finds the emitted kernels of this model. */
  if (septune_register_kernels(&mobilenet_v2_kernels, &err) != SEPTUNE_OK) {
    fprintf(stderr, "embed: cannot register the kernel table: %s\n", err.message);
    return 1;
  }

  FILE *f = fopen(model, "r");
  if (!f) {
    fprintf(stderr, "embed: cannot open %s\n", model);
    return 1;
  }
  printf("model %s, kernel table %s (%ld kernels)\n\n", model, mobilenet_v2_kernels.name,
         mobilenet_v2_kernels.count);
  printf("%-14s %-3s %-7s %-8s %-10s %10s %10s %9s\n", "layer", "op", "isa", "knobs", "threads", "1 thr (us)",
         "all (us)", "err/bound");
  printf("(threads: those an execution wakes, of the plan's; times: the best of 5 runs)\n");

  unsigned long long seed = 0x5e97u;
  int layers = 0, passed = 0, line_no = 0, bad_lines = 0;
  char line[1024];
  while (fgets(line, sizeof line, f)) {
    line_no++;
    line[strcspn(line, "\r\n")] = '\0';
    if (is_blank_or_comment(line)) continue;
    septune_layer layer;
    if (septune_layer_parse(line, &layer, &err) != SEPTUNE_OK) {
      fprintf(stderr, "embed: %s:%d: %s\n", model, line_no, err.message);
      bad_lines++;
      continue;
    }
    if (layer.name[0] == '\0') snprintf(layer.name, sizeof layer.name, "line%d", line_no);
    layers++;
    passed += run_layer(&layer, &seed);
  }
  fclose(f);

  printf("\n%d of %d layers ran on emitted kernels, matched the reference and gave the same bits on all the "
         "threads as on one\n", passed, layers);
  return (layers > 0 && passed == layers && bad_lines == 0) ? 0 : 1;
}
