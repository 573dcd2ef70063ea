/*
 * tune_report.c — the table, the JSON document and the roofline chart of a
 * tune (see tune_report.h).
 */
#include "tune_report.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* A short shape for the table: "56x56x144 k3 s2" or "56x56 24->144" (a
 * block: "ir 56x56 24->144->24 k3 s1", "sep 112x112 32->16 k3 s1"). */
static void short_shape(const septune_op *op, char *buf, size_t n)
{
  if (op->kind == SEPTUNE_OP_INVERTED_RESIDUAL) {
    const septune_inverted_residual_desc *b = &op->u.ir;
    snprintf(buf, n, "ir %" PRId64 "x%" PRId64 " %" PRId64 "->%" PRId64 "->%" PRId64 " k%" PRId64 " s%" PRId64,
             b->expand.h, b->expand.w, b->expand.ci, b->expand.co, b->project.co, b->dw.kh, b->dw.stride_h);
    return;
  }
  if (op->kind == SEPTUNE_OP_SEPARABLE) {
    const septune_separable_desc *b = &op->u.sep;
    snprintf(buf, n, "sep %" PRId64 "x%" PRId64 " %" PRId64 "->%" PRId64 " k%" PRId64 " s%" PRId64, b->dw.h,
             b->dw.w, b->dw.c, b->pw.co, b->dw.kh, b->dw.stride_h);
    return;
  }
  if (op->kind == SEPTUNE_OP_POINTWISE) {
    const septune_pointwise_desc *p = &op->u.pw;
    snprintf(buf, n, "%" PRId64 "x%" PRId64 " %" PRId64 "->%" PRId64, p->h, p->w, p->ci, p->co);
    return;
  }
  const septune_depthwise_desc *d = &op->u.dw;
  int len = snprintf(buf, n, "%" PRId64 "x%" PRId64 "x%" PRId64, d->h, d->w, d->c);
  if (len < 0 || (size_t)len >= n) return;
  if (d->kh == d->kw) len += snprintf(buf + len, n - (size_t)len, " k%" PRId64, d->kh);
  else len += snprintf(buf + len, n - (size_t)len, " k%" PRId64 "x%" PRId64, d->kh, d->kw);
  if ((size_t)len >= n) return;
  if (d->stride_h == d->stride_w) len += snprintf(buf + len, n - (size_t)len, " s%" PRId64, d->stride_h);
  else len += snprintf(buf + len, n - (size_t)len, " s%" PRId64 "x%" PRId64, d->stride_h, d->stride_w);
  if ((size_t)len < n && (d->dilation_h > 1 || d->dilation_w > 1))
    len += snprintf(buf + len, n - (size_t)len, " d%" PRId64, d->dilation_h);
  if ((size_t)len < n && d->multiplier > 1) snprintf(buf + len, n - (size_t)len, " m%" PRId64, d->multiplier);
}

static const char *layer_name(const tune_run *run, size_t i, char *buf, size_t n)
{
  const model_layer *l = &run->m->layers[i];
  if (l->layer.name[0]) return l->layer.name;
  snprintf(buf, n, "line%d", l->lineno);
  return buf;
}

static int has_default(const tune_result *r) { return r->ok && r->default_time.median_us > 0; }

static double speedup(const tune_result *r)
{
  return has_default(r) && r->tuned_time.median_us > 0 ? r->default_time.median_us / r->tuned_time.median_us : 0;
}

static double gflops(const septune_op *op, double us) { return us > 0 ? septune_op_flops(op) / (us * 1e3) : 0; }

void tune_compute_totals(const tune_run *run, tune_totals *t)
{
  memset(t, 0, sizeof *t);
  double log_sum = 0;
  size_t with_default = 0;
  t->layers = run->m->n;
  for (size_t i = 0; i < run->m->n; i++) {
    const tune_shape *s = &run->shapes[run->shape_of[i]];
    if (!s->res.ok) continue;
    t->tuned_layers++;
    t->tuned_us += s->res.tuned_time.median_us;
    t->flops += septune_op_flops(&s->op);
    if (has_default(&s->res)) {
      t->default_us += s->res.default_time.median_us;
      log_sum += log(speedup(&s->res));
      with_default++;
    }
  }
  for (size_t i = 0; i < run->n_shapes; i++) {
    t->candidates += run->shapes[i].res.n_cands;
    t->rejected += run->shapes[i].res.rejected;
  }
  t->geomean_speedup = with_default ? exp(log_sum / (double)with_default) : 0;
}

void tune_print_table(FILE *f, const tune_run *run)
{
  fprintf(f, "# %s on %s, %d thread%s, isa %s, seed %llu\n", run->model, run->cpu, run->threads,
          run->threads == 1 ? "" : "s", septune_isa_name(run->isa), run->seed);
  fprintf(f, "# ceilings%s: FMA peak %.1f GFLOP/s (%s); bandwidth %.1f GB/s within L2 (%zu KiB), %.1f GB/s beyond\n",
          run->rf.cores > 1 ? " (one core's, times the cores)" : "", run->rf.peak_gflops,
          run->rf.peak_isa ? run->rf.peak_isa : "?", run->rf.bw_l2_gbs, run->rf.l2_bytes / 1024, run->rf.bw_far_gbs);
  fprintf(f, "%-14s %-18s %-6s %-36s %10s %10s %8s %8s %6s  %s\n", "layer", "shape", "isa", "knobs", "default us",
          "tuned us", "speed-up", "GFLOP/s", "%roof", "note");
  for (size_t i = 0; i < run->m->n; i++) {
    const tune_shape *s = &run->shapes[run->shape_of[i]];
    const tune_result *r = &s->res;
    char nb[32], shape[64], note[96] = "";
    const char *name = layer_name(run, i, nb, sizeof nb);
    short_shape(&s->op, shape, sizeof shape);
    if (s->first_layer != i) {
      char fb[32];
      snprintf(note, sizeof note, "same shape as %s", layer_name(run, s->first_layer, fb, sizeof fb));
    }
    if (!r->ok) {
      fprintf(f, "%-14s %-18s %-6s %s\n", name, shape, septune_isa_name(r->isa),
              !s->tuned ? "not tuned: the budget ran out" : r->why);
      continue;
    }
    double g = gflops(&s->op, r->tuned_time.median_us), limit = roofline_limit(&run->rf, &s->op);
    char def[16] = "-", sp[16] = "-";
    if (has_default(r)) {
      snprintf(def, sizeof def, "%.2f", r->default_time.median_us);
      snprintf(sp, sizeof sp, "%.2fx", speedup(r));
    }
    fprintf(f, "%-14s %-18s %-6s %-36s %10s %10.2f %8s %8.1f %5.0f%%  %s\n", name, shape, septune_isa_name(r->isa),
            r->knobs, def, r->tuned_time.median_us, sp, g, limit > 0 ? 100 * g / limit : 0, note);
  }
  tune_totals t;
  tune_compute_totals(run, &t);
  fprintf(f, "total: %zu of %zu layers tuned (%zu distinct shapes), %zu candidates measured, %zu rejected\n",
          t.tuned_layers, t.layers, run->n_shapes, t.candidates, t.rejected);
  if (t.tuned_us > 0)
    fprintf(f, "total: default %.1f us, tuned %.1f us (%.2fx), %.1f GFLOP/s tuned\n", t.default_us, t.tuned_us,
            t.default_us / t.tuned_us, t.flops / (t.tuned_us * 1e3));
  fprintf(f, "geomean speed-up over %zu layers: %.2fx\n", t.tuned_layers, t.geomean_speedup);
  fprintf(f, "wall time: %.1f s (budget %.0f s)\n", run->wall_s, run->budget_s);
}

/* ------------------------------------------------------------------------ */
/* JSON */

static void json_rejected(json_writer *w, const tune_result *r)
{
  json_array_begin(w);
  for (size_t i = 0; i < r->n_cands; i++) {
    const tune_candidate *c = &r->cands[i];
    if (c->outcome == MEASURE_OK) continue;
    json_object_begin(w);
    json_key_string(w, "knobs", c->knobs);
    json_key_string(w, "outcome", measure_outcome_name(c->outcome));
    json_key_string(w, "reason", c->reason);
    json_object_end(w);
  }
  json_array_end(w);
}

static void json_layer(json_writer *w, const tune_run *run, size_t i)
{
  const tune_shape *s = &run->shapes[run->shape_of[i]];
  const tune_result *r = &s->res;
  char nb[32];
  json_object_begin(w);
  json_key_string(w, "name", layer_name(run, i, nb, sizeof nb));
  json_key_int(w, "line", run->m->layers[i].lineno);
  json_key_string(w, "op", s->line);
  json_key_string(w, "isa", septune_isa_name(r->isa));
  json_key_string(w, "same_as", s->first_layer != i ? layer_name(run, s->first_layer, nb, sizeof nb) : NULL);
  json_key_bool(w, "tuned", r->ok);
  json_key_string(w, "reason", r->ok ? NULL : s->tuned ? r->why : "not tuned: the budget ran out");
  json_key_string(w, "default_knobs", r->default_knobs);
  json_key_string(w, "knobs", r->knobs);
  double def = has_default(r) ? r->default_time.median_us : NAN;
  double tuned = r->ok ? r->tuned_time.median_us : NAN;
  json_key_number(w, "default_us", def);
  json_key_number(w, "tuned_us", tuned);
  json_key_number(w, "tuned_min_us", r->ok ? r->tuned_time.min_us : NAN);
  json_key_number(w, "speedup", has_default(r) ? speedup(r) : NAN);
  json_key_number(w, "flops", septune_op_flops(&s->op));
  json_key_number(w, "default_gflops", has_default(r) ? gflops(&s->op, def) : NAN);
  json_key_number(w, "gflops", r->ok ? gflops(&s->op, tuned) : NAN);
  json_key_number(w, "intensity", roofline_intensity(&s->op));
  double limit = roofline_limit(&run->rf, &s->op);
  json_key_number(w, "roofline_gflops", limit);
  json_key_number(w, "roofline_pct", r->ok && limit > 0 ? 100 * gflops(&s->op, tuned) / limit : NAN);
  if (s->first_layer == i) {
    json_key_string(w, "strategy", r->exhaustive ? "exhaustive" : "guided");
    json_key_uint(w, "space", r->space_size);
    json_key_uint(w, "candidates", r->n_cands);
    json_key_number(w, "seconds", r->seconds);
    json_key_bool(w, "stored", s->stored);
    json_key(w, "rejected");
    json_rejected(w, r);
  }
  json_object_end(w);
}

int tune_print_json(FILE *f, const tune_run *run)
{
  tune_totals t;
  json_writer w;
  tune_compute_totals(run, &t);
  json_document_begin(&w, f, "tune");
  json_key_string(&w, "model", run->model);
  json_key_string(&w, "cpu", run->cpu);
  json_key_string(&w, "isa", septune_isa_name(run->isa));
  json_key_int(&w, "threads", run->threads);
  json_key_uint(&w, "seed", run->seed);
  json_key_number(&w, "budget_s", run->budget_s);
  json_key_string(&w, "database", run->db_path);
  json_key(&w, "ceilings");
  json_object_begin(&w);
  json_key_number(&w, "peak_gflops", run->rf.peak_gflops);
  json_key_string(&w, "peak_isa", run->rf.peak_isa ? run->rf.peak_isa : "");
  json_key_number(&w, "bw_l2_gbs", run->rf.bw_l2_gbs);
  json_key_number(&w, "bw_beyond_l2_gbs", run->rf.bw_far_gbs);
  json_key_uint(&w, "l2_bytes", run->rf.l2_bytes);
  json_object_end(&w);
  json_key(&w, "layers");
  json_array_begin(&w);
  for (size_t i = 0; i < run->m->n; i++) json_layer(&w, run, i);
  json_array_end(&w);
  json_key(&w, "totals");
  json_object_begin(&w);
  json_key_uint(&w, "layers", t.layers);
  json_key_uint(&w, "tuned_layers", t.tuned_layers);
  json_key_uint(&w, "shapes", run->n_shapes);
  json_key_uint(&w, "candidates", t.candidates);
  json_key_uint(&w, "rejected", t.rejected);
  json_key_number(&w, "default_us", t.default_us);
  json_key_number(&w, "tuned_us", t.tuned_us);
  json_key_number(&w, "geomean_speedup", t.geomean_speedup);
  json_key_number(&w, "wall_s", run->wall_s);
  json_object_end(&w);
  return json_document_end(&w);
}

int tune_write_svg(const tune_run *run, const char *path, char *why, size_t why_size)
{
  roofline_point *pts = calloc(run->n_shapes ? run->n_shapes : 1, sizeof *pts);
  if (!pts) {
    snprintf(why, why_size, "out of memory");
    return -1;
  }
  char (*names)[32] = calloc(run->n_shapes ? run->n_shapes : 1, sizeof *names);
  if (!names) {
    free(pts);
    snprintf(why, why_size, "out of memory");
    return -1;
  }
  size_t n = 0;
  for (size_t i = 0; i < run->n_shapes; i++) {
    const tune_shape *s = &run->shapes[i];
    if (!s->res.ok) continue;
    pts[n].label = layer_name(run, s->first_layer, names[n], sizeof names[n]);
    pts[n].intensity = roofline_intensity(&s->op);
    pts[n].default_gflops = has_default(&s->res) ? gflops(&s->op, s->res.default_time.median_us) : 0;
    pts[n].tuned_gflops = gflops(&s->op, s->res.tuned_time.median_us);
    n++;
  }
  char title[512];
  snprintf(title, sizeof title, "septune tune %s: roofline, %s, one thread", run->model, septune_isa_name(run->isa));
  int rc = roofline_svg(path, title, &run->rf, pts, n, why, why_size);
  free(names);
  free(pts);
  return rc;
}
