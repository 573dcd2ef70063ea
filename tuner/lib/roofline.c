/*
 * roofline.c — machine ceilings, per-layer roofline limits and the SVG
 * chart (see roofline.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#endif
#include "roofline.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "safe_file.h"
#include "timing.h"

/* ------------------------------------------------------------------------ */
/* Ceilings */

/* L2 size from the CPU signature's "l2=<n>K" field. */
static size_t l2_from_signature(void)
{
  char sig[512];
  septune_cpu_signature(sig, sizeof sig);
  const char *p = strstr(sig, "l2=");
  unsigned long kib = p ? strtoul(p + 3, NULL, 10) : 0;
  return kib ? (size_t)kib * 1024 : (size_t)1 << 20;
}

/* Best read+write bandwidth in GB/s of memcpy between two buffers of
 * `half` bytes each, over about `ms` milliseconds. glibc's memcpy uses the
 * widest vector moves of the CPU, like the kernels. */
static double copy_bandwidth(size_t half, double ms)
{
  char *a = malloc(half), *b = malloc(half);
  double best = 0;
  if (a && b) {
    memset(a, 1, half);
    memset(b, 2, half);
    memcpy(b, a, half); /* warm: page faults, caches */
    double start = bench_now_us();
    int passes = 0;
    while (passes < 5 || bench_now_us() - start < ms * 1000) {
      double t0 = bench_now_us();
      if (passes % 2) memcpy(a, b, half);
      else memcpy(b, a, half);
      double dt = bench_now_us() - t0;
      double gbs = dt > 0 ? 2.0 * (double)half / (dt * 1e3) : 0;
      if (gbs > best) best = gbs;
      passes++;
    }
  }
  free(a);
  free(b);
  return best;
}

void roofline_measure(roofline *rf)
{
  memset(rf, 0, sizeof *rf);
  rf->cores = 1;
  rf->l2_bytes = l2_from_signature();
  rf->peak_gflops = bench_fma_peak_gflops(&rf->peak_isa);
  /* Both buffers together fill half of L2 (the rest is the kernels' other
   * data), or 8x L2 for the traffic that goes beyond it. */
  rf->bw_l2_gbs = copy_bandwidth(rf->l2_bytes / 4, 60);
  rf->bw_far_gbs = copy_bandwidth(rf->l2_bytes * 4, 120);
}

int roofline_measure_cpus(roofline per[], int cpus[], int max)
{
  cpu_set_t allowed, one;
  int n = 0;
  if (max < 1 || sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) break;
    roofline_measure(&per[n]);
    cpus[n++] = cpu;
  }
  return sched_setaffinity(0, sizeof allowed, &allowed) == 0 ? n : 0;
}

void roofline_for_cores(roofline *rf, int cores)
{
  if (cores <= 1 || rf->cores != 1) return;
  rf->cores = cores;
  rf->peak_gflops *= cores;
  rf->bw_l2_gbs *= cores;
  rf->bw_far_gbs *= cores;
  rf->l2_bytes *= (size_t)cores;
}

void roofline_measure_again(roofline *rf)
{
  roofline again;
  roofline_measure(&again);
  if (again.peak_gflops > rf->peak_gflops) {
    rf->peak_gflops = again.peak_gflops;
    rf->peak_isa = again.peak_isa;
  }
  if (again.bw_l2_gbs > rf->bw_l2_gbs) rf->bw_l2_gbs = again.bw_l2_gbs;
  if (again.bw_far_gbs > rf->bw_far_gbs) rf->bw_far_gbs = again.bw_far_gbs;
}

double roofline_bytes(const septune_op *op)
{
  size_t in = 0, out = 0, w = 0, b = 0;
  if (septune_op_tensor_sizes(op, &in, &out, &w, &b, NULL) != SEPTUNE_OK) return 0;
  return 4.0 * (double)(in + out + w + b);
}

double roofline_intensity(const septune_op *op)
{
  double bytes = roofline_bytes(op);
  return bytes > 0 ? septune_op_flops(op) / bytes : 0;
}

double roofline_limit(const roofline *rf, const septune_op *op)
{
  double bytes = roofline_bytes(op);
  double bw = bytes <= (double)rf->l2_bytes ? rf->bw_l2_gbs : rf->bw_far_gbs;
  double memory = roofline_intensity(op) * bw;
  return memory < rf->peak_gflops ? memory : rf->peak_gflops;
}

/* ------------------------------------------------------------------------ */
/* SVG */

enum { W = 960, H = 640, LEFT = 80, RIGHT = 40, TOP = 50, BOTTOM = 70 };

typedef struct axes {
  double x0, x1, y0, y1; /* log10 of the ranges */
} axes;

static double px(const axes *a, double x) { return LEFT + (log10(x) - a->x0) / (a->x1 - a->x0) * (W - LEFT - RIGHT); }
static double py(const axes *a, double y) { return H - BOTTOM - (log10(y) - a->y0) / (a->y1 - a->y0) * (H - TOP - BOTTOM); }

static void xml_text(FILE *f, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputc(*s, f);
    }
  }
}

static void widen(double v, double *lo, double *hi)
{
  if (!(v > 0) || !isfinite(v)) return;
  if (v < *lo) *lo = v;
  if (v > *hi) *hi = v;
}

/* A bandwidth ceiling: y = bw * x from the left edge until it meets the
 * compute ceiling. */
static void bandwidth_line(FILE *f, const axes *a, double bw, double peak, const char *name, const char *dash)
{
  if (!(bw > 0)) return;
  double xl = pow(10, a->x0), ridge = peak / bw;
  double yl = bw * xl;
  if (yl < pow(10, a->y0)) xl = pow(10, a->y0) / bw, yl = pow(10, a->y0);
  fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\" stroke-width=\"1.5\"%s/>\n",
          px(a, xl), py(a, yl), px(a, ridge), py(a, peak), dash);
  /* The label runs along the middle of the visible segment. */
  double x1 = px(a, xl), y1 = py(a, yl), x2 = px(a, ridge), y2 = py(a, peak);
  double angle = atan2(y2 - y1, x2 - x1) * 180 / 3.14159265358979;
  fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#444\" text-anchor=\"middle\" "
             "transform=\"rotate(%.1f %.1f %.1f)\">%s %.1f GB/s</text>\n",
          (x1 + x2) / 2, (y1 + y2) / 2 - 5, angle, (x1 + x2) / 2, (y1 + y2) / 2 - 5, name, bw);
}

static void write_chart(FILE *f, const char *title, const roofline *rf, const roofline_point *pts, size_t n)
{
  double xlo = INFINITY, xhi = 0, ylo = INFINITY, yhi = 0;
  for (size_t i = 0; i < n; i++) {
    widen(pts[i].intensity, &xlo, &xhi);
    widen(pts[i].default_gflops, &ylo, &yhi);
    widen(pts[i].tuned_gflops, &ylo, &yhi);
  }
  widen(rf->peak_gflops, &ylo, &yhi);
  if (rf->bw_far_gbs > 0) widen(rf->peak_gflops / rf->bw_far_gbs, &xlo, &xhi);
  if (rf->bw_l2_gbs > 0) widen(rf->peak_gflops / rf->bw_l2_gbs, &xlo, &xhi);
  if (!isfinite(xlo)) xlo = 0.1, xhi = 100;
  if (!isfinite(ylo)) ylo = 1, yhi = 100;
  /* Lower ends on a decade, upper ends just above the highest value. */
  axes a = { floor(log10(xlo * 0.8)), log10(xhi * 1.5), floor(log10(ylo * 0.8)), log10(yhi * 1.4) };
  /* At least a decade on each axis, extended downwards. */
  if (a.x1 < a.x0 + 1) a.x0 = floor(a.x1 - 1);
  if (a.y1 < a.y0 + 1) a.y0 = floor(a.y1 - 1);

  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
             "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
             "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n",
          W, H, W, H);
  fprintf(f, "<title>");
  xml_text(f, title);
  fprintf(f, "</title>\n<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
  fprintf(f, "<text x=\"%d\" y=\"28\" font-size=\"16\" text-anchor=\"middle\">", W / 2);
  xml_text(f, title);
  fprintf(f, "</text>\n");

  /* Decade grid with 2x and 5x minor lines. */
  for (double e = a.x0; e <= a.x1; e++)
    for (int m = 1; m <= 9; m++) {
      double v = m * pow(10, e);
      if (log10(v) > a.x1 + 1e-9) break;
      fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\"/>\n", px(&a, v), TOP, px(&a, v),
              H - BOTTOM, m == 1 ? "#bbb" : "#eee");
      if (m == 1 || m == 2 || m == 5)
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%g</text>\n", px(&a, v),
                H - BOTTOM + 16, v);
    }
  for (double e = a.y0; e <= a.y1; e++)
    for (int m = 1; m <= 9; m++) {
      double v = m * pow(10, e);
      if (log10(v) > a.y1 + 1e-9) break;
      fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>\n", LEFT, py(&a, v), W - RIGHT,
              py(&a, v), m == 1 ? "#bbb" : "#eee");
      if (m == 1 || m == 2 || m == 5)
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%g</text>\n", LEFT - 6,
                py(&a, v) + 4, v);
    }
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n", LEFT, TOP,
          W - LEFT - RIGHT, H - TOP - BOTTOM);
  fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"middle\">arithmetic intensity "
             "(flop/byte of input + output + weights)</text>\n",
          (LEFT + W - RIGHT) / 2, H - 24);
  fprintf(f, "<text x=\"20\" y=\"%d\" font-size=\"13\" text-anchor=\"middle\" transform=\"rotate(-90 20 %d)\">"
             "GFLOP/s (one thread)</text>\n",
          (TOP + H - BOTTOM) / 2, (TOP + H - BOTTOM) / 2);

  /* Ceilings. */
  double left_ridge = rf->bw_l2_gbs > 0 ? rf->peak_gflops / rf->bw_l2_gbs : pow(10, a.x0);
  if (rf->peak_gflops > 0) {
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#444\" stroke-width=\"1.5\"/>\n",
            px(&a, left_ridge), py(&a, rf->peak_gflops), W - RIGHT, py(&a, rf->peak_gflops));
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#444\" text-anchor=\"end\">FMA peak (%s) "
               "%.1f GFLOP/s</text>\n",
            W - RIGHT - 6, py(&a, rf->peak_gflops) - 6, rf->peak_isa ? rf->peak_isa : "?", rf->peak_gflops);
  }
  bandwidth_line(f, &a, rf->bw_l2_gbs, rf->peak_gflops, "L2", " stroke-dasharray=\"6,4\"");
  bandwidth_line(f, &a, rf->bw_far_gbs, rf->peak_gflops, "beyond L2", "");

  /* Points: default (hollow) -> tuned (filled). */
  for (size_t i = 0; i < n; i++) {
    const roofline_point *p = &pts[i];
    if (!(p->intensity > 0)) continue;
    double x = px(&a, p->intensity);
    if (p->default_gflops > 0 && p->tuned_gflops > 0)
      fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#8ab\" stroke-width=\"1\"/>\n", x,
              py(&a, p->default_gflops), x, py(&a, p->tuned_gflops));
    if (p->default_gflops > 0)
      fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"white\" stroke=\"#d62\" stroke-width=\"1.5\"/>\n",
              x, py(&a, p->default_gflops));
    if (p->tuned_gflops > 0) {
      fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#27c\"/>\n", x, py(&a, p->tuned_gflops));
      fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"#235\">", x + 6, py(&a, p->tuned_gflops) + 3);
      xml_text(f, p->label ? p->label : "");
      fprintf(f, "</text>\n");
    }
  }
  /* Legend. */
  fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"white\" stroke=\"#d62\" stroke-width=\"1.5\"/>"
             "<text x=\"%d\" y=\"%d\" font-size=\"11\">default knobs</text>\n",
          LEFT + 16, TOP + 18, LEFT + 26, TOP + 22);
  fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"#27c\"/>"
             "<text x=\"%d\" y=\"%d\" font-size=\"11\">tuned</text>\n",
          LEFT + 16, TOP + 36, LEFT + 26, TOP + 40);
  fprintf(f, "</svg>\n");
}

/* err's message without the "report: " that safe_file.c puts first: the
 * caller names the option. */
static int fail(const septune_error *err, char *why, size_t why_size)
{
  const char *m = err->message;
  snprintf(why, why_size, "%s", strncmp(m, "report: ", 8) ? m : m + 8);
  return -1;
}

int roofline_svg(const char *path, const char *title, const roofline *rf, const roofline_point *pts, size_t n,
                 char *why, size_t why_size)
{
  septune_file_target t;
  septune_file_writer w;
  septune_error err;
  if (septune_file_resolve(path, "report", &t, &err) != SEPTUNE_OK ||
      septune_file_begin(&t, t.exists ? &t.st : NULL, "report", &w, &err) != SEPTUNE_OK)
    return fail(&err, why, why_size);
  write_chart(w.f, title, rf, pts, n);
  if (septune_file_commit(&w, "report", &err) != SEPTUNE_OK) return fail(&err, why, why_size);
  return 0;
}
