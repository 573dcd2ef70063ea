/*
 * bench_common.c — helpers shared by the benchmark programs; see
 * bench_common.h.
 */
#include "bench_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model_file.h"
#include "roofline.h"

void bench_rng_seed(bench_rng *r, unsigned long long seed, size_t layer)
{
  /* Two odd constants spread seed and layer over all 64 bits. */
  r->state = (seed + 1) * 0x9E3779B97F4A7C15ULL + layer * 0xD1B54A32D192ED03ULL;
}

/* Uniform in [-1, 1): the top 24 bits of a draw as a float fraction. */
static float rng_sym(bench_rng *r)
{
  unsigned long long x = septune_random_next(&r->state);
  return (float)((double)(x >> 40) / (double)(1ULL << 24)) * 2.0f - 1.0f;
}

void bench_fill(bench_rng *r, float *v, size_t n, float scale)
{
  for (size_t i = 0; i < n; i++) v[i] = scale * rng_sym(r);
}

void bench_compare(const float *got, const float *ref, size_t n, double *max_abs,
                   double *max_rel)
{
  double ma = 0, mr = 0;
  for (size_t i = 0; i < n; i++) {
    double g = got[i], r = ref[i];
    double d = fabs(g - r);
    if (isnan(g) != isnan(r) || (isnan(d) && !isnan(r))) {
      ma = mr = INFINITY;
      break;
    }
    if (isnan(d)) continue; /* both NaN */
    double rel = d / (fabs(r) > 1.0 ? fabs(r) : 1.0);
    if (d > ma) ma = d;
    if (rel > mr) mr = rel;
  }
  *max_abs = ma, *max_rel = mr;
}

/* "k3" for a square pair, "k3x1" otherwise (kernel, stride, dilation). */
static void pair_string(char *buf, size_t n, const char *tag, int64_t a, int64_t b)
{
  if (a == b) snprintf(buf, n, "%s%lld", tag, (long long)a);
  else snprintf(buf, n, "%s%lldx%lld", tag, (long long)a, (long long)b);
}

static void dw_shape(const septune_depthwise_desc *d, int full, char *buf, size_t n)
{
  char k[48], s[48], dl[56] = "", m[32] = "", nb[32] = "", tail[96] = "";
  pair_string(k, sizeof k, "k", d->kh, d->kw);
  pair_string(s, sizeof s, "s", d->stride_h, d->stride_w);
  if (d->dilation_h != 1 || d->dilation_w != 1) {
    dl[0] = ' ';
    pair_string(dl + 1, sizeof dl - 1, "d", d->dilation_h, d->dilation_w);
  }
  if (d->multiplier != 1) snprintf(m, sizeof m, " m%lld", (long long)d->multiplier);
  if (d->n != 1) snprintf(nb, sizeof nb, "%lldx", (long long)d->n);
  if (full)
    snprintf(tail, sizeof tail, " p%lld%lld%lld%lld %s%s", (long long)d->pad_top,
             (long long)d->pad_left, (long long)d->pad_bottom, (long long)d->pad_right,
             septune_activation_name(d->act), d->has_bias ? " +b" : "");
  snprintf(buf, n, "dw %s%lldx%lldx%lld %s %s%s%s%s", nb, (long long)d->h, (long long)d->w,
           (long long)d->c, k, s, dl, m, tail);
}

static void pw_shape(const septune_pointwise_desc *p, int full, char *buf, size_t n)
{
  char nb[32] = "", tail[64] = "";
  if (p->n != 1) snprintf(nb, sizeof nb, "%lldx", (long long)p->n);
  if (full)
    snprintf(tail, sizeof tail, " %s%s", septune_activation_name(p->act), p->has_bias ? " +b" : "");
  snprintf(buf, n, "pw %s%lldx%lld %lld>%lld%s", nb, (long long)p->h, (long long)p->w,
           (long long)p->ci, (long long)p->co, tail);
}

void bench_shape_string(const septune_op *op, int full, char *buf, size_t n)
{
  if (op->kind == SEPTUNE_OP_INVERTED_RESIDUAL) {
    const septune_inverted_residual_desc *b = &op->u.ir;
    snprintf(buf, n, "ir %lldx%lld %lld>%lld>%lld k%lld s%lld%s", (long long)b->expand.h, (long long)b->expand.w,
             (long long)b->expand.ci, (long long)b->expand.co, (long long)b->project.co, (long long)b->dw.kh,
             (long long)b->dw.stride_h, b->residual ? " +res" : "");
  } else if (op->kind == SEPTUNE_OP_SEPARABLE) {
    const septune_separable_desc *b = &op->u.sep;
    snprintf(buf, n, "sep %lldx%lld %lld>%lld k%lld s%lld", (long long)b->dw.h, (long long)b->dw.w,
             (long long)b->dw.c, (long long)b->pw.co, (long long)b->dw.kh, (long long)b->dw.stride_h);
  } else if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    dw_shape(&op->u.dw, full, buf, n);
  } else {
    pw_shape(&op->u.pw, full, buf, n);
  }
}

static int grow(bench_layer_list *l, const char *prog)
{
  size_t nc = l->cap ? l->cap * 2 : 64;
  bench_layer_entry *g = realloc(l->v, nc * sizeof *g);
  if (!g) {
    fprintf(stderr, "%s: out of memory\n", prog);
    return -1;
  }
  l->v = g, l->cap = nc;
  return 0;
}

int bench_layer_list_add(bench_layer_list *l, const char *line, const char *where,
                         const char *prog)
{
  septune_layer layer;
  septune_error err;
  septune_status st = septune_layer_parse(line, &layer, &err);
  /* The parser reports blank and comment lines as this exact parse error. */
  if (st == SEPTUNE_ERR_PARSE && strcmp(err.message, "empty line") == 0) return 0;
  if (st != SEPTUNE_OK) {
    fprintf(stderr, "%s: %s: %s\n", prog, where, err.message);
    return -1;
  }
  if (l->n == l->cap && grow(l, prog) != 0) return -1;
  l->v[l->n].layer = layer;
  snprintf(l->v[l->n].where, sizeof l->v[l->n].where, "%s", where);
  l->n++;
  return 0;
}

static void report_bad_line(void *ctx, const char *path, int lineno, const char *why)
{
  fprintf(stderr, "%s: %s:%d: %s\n", (const char *)ctx, path, lineno, why);
}

int bench_layer_list_read(bench_layer_list *l, const char *path, const char *prog)
{
  model_file m;
  char why[SEPTUNE_ERROR_MESSAGE_SIZE + 4096];
  if (model_file_read(path, &m, report_bad_line, (void *)prog, why, sizeof why) != MODEL_FILE_OK) {
    fprintf(stderr, "%s: %s\n", prog, why);
    return -1;
  }
  int rc = m.bad_lines ? -1 : 0;
  for (size_t i = 0; i < m.n && rc == 0; i++) {
    if (l->n == l->cap && grow(l, prog) != 0) rc = -1;
    else {
      l->v[l->n].layer = m.layers[i].layer;
      snprintf(l->v[l->n].where, sizeof l->v[l->n].where, "%s:%d", path, m.layers[i].lineno);
      l->n++;
    }
  }
  model_file_free(&m);
  return rc;
}

void bench_layer_list_free(bench_layer_list *l)
{
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

double bench_print_cpu_ceilings(void)
{
  roofline per[64];
  int cpus[64];
  int n = roofline_measure_cpus(per, cpus, 64);
  double sum = 0;
  printf("each CPU alone:");
  for (int i = 0; i < n; i++) {
    printf("%s CPU %d %.1f GFLOP/s, %.1f GB/s within L2", i ? ";" : "", cpus[i], per[i].peak_gflops,
           per[i].bw_l2_gbs);
    sum += per[i].peak_gflops;
  }
  printf("%s\n", n ? "" : " could not be measured");
  return sum;
}
