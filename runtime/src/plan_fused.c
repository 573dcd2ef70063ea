/*
 * plan_fused.c — plans of the blocks (separable, inverted residual), in
 * both libraries.
 *
 * Fused: the output rows are cut into bands of R rows. A band needs the
 * input rows its depthwise windows cover (the halo rows of the next and
 * previous bands included); the expand stage computes just those rows into
 * a per-thread scratch, the depthwise stage filters them into a second
 * one, the project stage writes the band's output rows (plus the residual).
 * A thread that runs the next band of the same image keeps the expanded
 * halo rows the two share (moved to the top of its scratch) and expands
 * only the rows after them.
 * The full intermediate tensor is never allocated: a thread holds one
 * band's expanded rows and one band's filtered rows, sized to stay in L2.
 *
 * Each stage runs on a plan of its own, made by septune_plan_create for the
 * stage's layer cut to a band: a band is an image of its own, rows
 * [a, e) of the input for expand and depthwise, its output rows for
 * project. A band at the image's top or bottom edge keeps that edge's
 * padding; an interior band has none (its halo rows are real rows). The
 * bands of a layer come in a few shapes (top, interior, bottom, a short
 * last band), so a stage has one plan per distinct shape: its kernel (the
 * JIT's, an emitted one or the generic one), its packed weights. A stage
 * plan runs on one thread; the block's plan spreads bands over its pool,
 * each band computed by the same stage plans whatever the thread count.
 *
 * Layer by layer (knobs band=0, a band of every output row, or a block a
 * band cannot cut: a depthwise window that lies wholly in the padding):
 * one plan per stage for the whole layer, each on the block's threads,
 * through full-size intermediates kept between executions as the band
 * scratch is.
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_budget.h"
#include "internal.h"
#include "plan.h"

#define ALIGNMENT 64
/* A stage has at most this many band shapes (top, interior, bottom, short
 * last band, and the mixes a tall padding makes); a block with more runs
 * layer by layer. */
#define MAX_VARIANTS 16
/* Scratch buffers kept between executions, shared by every block's plan of
 * the process (as a framework shares one workspace between its operators):
 * memory already mapped (a fresh page costs a fault, on every execution)
 * and, when the block before ran on it, in cache. At most this many, one
 * per thread that ran a block at once; freed with the last block's plan. */
#define MAX_SPARE 64

static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  float *p;
  size_t floats;
} spare[MAX_SPARE];
static int spares, block_plans;

typedef struct band {
  int64_t r0, r1;                   /* output rows */
  int64_t lo, hi;                   /* the rows its windows cover, padding included */
  int64_t a, e;                     /* of them, the input rows: the dw stage's rows */
  int64_t kept;                     /* expand: rows [a, a + kept) are the previous band's last ones */
  septune_plan *plan[SEPTUNE_MAX_STAGES];
  septune_plan *cont;               /* expand of rows [a + kept, e) after the previous band, or NULL */
} band;

struct septune_fused {
  septune_op stage[SEPTUNE_MAX_STAGES]; /* the whole layer's stages */
  int stages;
  int dw_at;                        /* index of the depthwise stage */
  int residual;
  int64_t rows;                     /* output rows per band; 0: layer by layer */
  int64_t h, w, ci, oh, ow, co, mid; /* mid: the dw stage's channels (out, c*m) */
  int64_t bands;                    /* per image */
  band *band;
  septune_plan *plans[(SEPTUNE_MAX_STAGES + 1) * MAX_VARIANTS]; /* + the continuing expand */
  int nplans;
  size_t scratch[2];                /* floats per thread: expanded rows, filtered rows */
  size_t spare_floats;              /* a thread's scratch: a band's, or layer by layer the intermediates */
  size_t weights_at[SEPTUNE_MAX_STAGES], bias_at[SEPTUNE_MAX_STAGES];
};

static float *alloc_floats(size_t n)
{
  void *p = NULL;
  if (n == 0) n = 1;
  if (n > SIZE_MAX / sizeof(float) - ALIGNMENT) return NULL;
  return posix_memalign(&p, ALIGNMENT, (n * sizeof(float) + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT) == 0 ? p : NULL;
}

/* n floats rounded up to whole cache lines. */
static size_t round_floats(size_t n)
{
  return (n * sizeof(float) + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT / sizeof(float);
}

/* ---- band geometry -------------------------------------------------------------- */

/* Rows [r0, r1) of the output read input rows [lo, hi) of the padded
 * input; the depthwise stage of a band sees rows [a, e) = [lo, hi) inside
 * the image and pads the rest. Returns 0 when no input row is inside. */
static int band_rows(const septune_fused *f, int64_t r0, int64_t r1, band *b)
{
  const septune_depthwise_desc *d = &f->stage[f->dw_at].u.dw;
  b->r0 = r0;
  b->r1 = r1;
  b->lo = r0 * d->stride_h - d->pad_top;
  b->hi = (r1 - 1) * d->stride_h - d->pad_top + d->dilation_h * (d->kh - 1) + 1;
  b->a = b->lo < 0 ? 0 : b->lo;
  b->e = b->hi > f->h ? f->h : b->hi;
  return b->e > b->a;
}

/* The stage `i` layer cut to band b (one image). */
static void band_stage(const septune_fused *f, const band *b, int i, septune_op *op)
{
  septune_op_one_image(&f->stage[i], op);
  if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    septune_depthwise_desc *d = &op->u.dw;
    d->h = b->e - b->a;
    d->pad_top = b->a - b->lo;
    d->pad_bottom = b->hi - b->e;
  } else {
    op->u.pw.h = i < f->dw_at ? b->e - b->a : b->r1 - b->r0;
  }
}

/* The expand layer of the rows band b adds to those it keeps from the band
 * before it. */
static void cont_stage(const septune_fused *f, const band *b, septune_op *op)
{
  septune_op_one_image(&f->stage[0], op);
  op->u.pw.h = b->e - b->a - b->kept;
}

static int same_op(const septune_op *x, const septune_op *y)
{
  char a[SEPTUNE_OP_LINE_SIZE], b[SEPTUNE_OP_LINE_SIZE];
  return septune_op_format(x, a, sizeof a) >= 0 && septune_op_format(y, b, sizeof b) >= 0 && strcmp(a, b) == 0;
}

/* The index of op among seen[0..count), count when it is not there. */
static int find_shape(const septune_op *seen, int count, const septune_op *op)
{
  int j = 0;
  while (j < count && !same_op(&seen[j], op)) j++;
  return j;
}

/* ---- plans of the stages ---------------------------------------------------------- */

/* The plan for stage i's layer `op` (a band's or the whole layer's), with
 * that stage's part of the block's weights and bias. */
static septune_status stage_plan(septune_plan *plan, int i, const septune_op *op, const float *weights,
                                 const float *bias, const septune_plan_options *stage_opts, septune_plan **out,
                                 septune_error *err)
{
  septune_fused *f = plan->fused;
  septune_error why;
  if (f->nplans == (int)(sizeof f->plans / sizeof f->plans[0]))
    return septune_error_set(err, SEPTUNE_ERR_UNSUPPORTED, "plan: a block's bands take more than %d stage plans",
                             f->nplans);
  const float *b = septune_op_has_bias(op) ? bias + f->bias_at[i] : NULL;
  septune_status st = septune_plan_create(op, weights + f->weights_at[i], b, stage_opts, out, &why);
  if (st != SEPTUNE_OK) {
    char line[SEPTUNE_OP_LINE_SIZE];
    septune_op_format(op, line, sizeof line);
    return septune_error_set(err, st, "plan: stage '%s': %s", line, why.message);
  }
  f->plans[f->nplans++] = *out;
  return SEPTUNE_OK;
}

/* The number of distinct band shapes of stage i (at most MAX_VARIANTS + 1:
 * more than enough). */
static int variants(const septune_fused *f, int i)
{
  septune_op seen[MAX_VARIANTS + 1];
  int count = 0;
  for (int64_t k = 0; k < f->bands && count <= MAX_VARIANTS; k++) {
    septune_op op;
    band_stage(f, &f->band[k], i, &op);
    if (find_shape(seen, count, &op) == count) seen[count++] = op;
  }
  return count;
}

/* The same for the expand stage of the bands that continue the band before. */
static int cont_variants(const septune_fused *f)
{
  septune_op seen[MAX_VARIANTS + 1];
  int count = 0;
  for (int64_t k = 0; k < f->bands && count <= MAX_VARIANTS; k++) {
    septune_op op;
    if (f->band[k].kept == 0 || f->band[k].a + f->band[k].kept == f->band[k].e) continue;
    cont_stage(f, &f->band[k], &op);
    if (find_shape(seen, count, &op) == count) seen[count++] = op;
  }
  return count;
}

/* The plans of every band's stages, one per distinct band shape. */
static septune_status band_plans(septune_plan *plan, const float *weights, const float *bias,
                                 const septune_plan_options *stage_opts, septune_error *err)
{
  septune_fused *f = plan->fused;
  for (int i = 0; i < f->stages; i++) {
    septune_op seen[MAX_VARIANTS];
    septune_plan *made[MAX_VARIANTS];
    int count = 0;
    for (int64_t k = 0; k < f->bands; k++) {
      septune_op op;
      band_stage(f, &f->band[k], i, &op);
      int j = find_shape(seen, count, &op);
      if (j == count) {
        septune_status st = stage_plan(plan, i, &op, weights, bias, stage_opts, &made[count], err);
        if (st != SEPTUNE_OK) return st;
        seen[count++] = op;
      }
      f->band[k].plan[i] = made[j];
    }
  }
  if (f->dw_at == 0) return SEPTUNE_OK;
  /* the expand stage of a band that follows its predecessor on one thread */
  septune_op seen[MAX_VARIANTS];
  septune_plan *made[MAX_VARIANTS];
  int count = 0;
  for (int64_t k = 0; k < f->bands; k++) {
    band *b = &f->band[k];
    if (b->kept == 0 || b->a + b->kept == b->e) continue;
    septune_op op;
    cont_stage(f, b, &op);
    int j = find_shape(seen, count, &op);
    if (j == count) {
      septune_status st = stage_plan(plan, 0, &op, weights, bias, stage_opts, &made[count], err);
      if (st != SEPTUNE_OK) return st;
      seen[count++] = op;
    }
    b->cont = made[j];
  }
  return SEPTUNE_OK;
}

/* Input rows (clipped to the image) of an interior band of `rows` output
 * rows. */
static int64_t band_in_rows(const septune_fused *f, int64_t rows)
{
  const septune_depthwise_desc *d = &f->stage[f->dw_at].u.dw;
  int64_t in_rows = (rows - 1) * d->stride_h + d->dilation_h * (d->kh - 1) + 1;
  return in_rows < f->h ? in_rows : f->h;
}

/* Bytes a thread's scratch takes for bands of `rows` output rows. */
static double band_bytes(const septune_fused *f, int64_t rows)
{
  double expanded = f->dw_at > 0 ? (double)band_in_rows(f, rows) * (double)(f->w * f->stage[f->dw_at].u.dw.c) : 0;
  return (expanded + (double)(rows * f->ow * f->mid)) * sizeof(float);
}

/* Bytes of traffic beyond L2 of bands of `rows` rows:
 *   - the weights, once when they stay in L2 beside a band's scratch (both
 *     within 3/4 of it), once per band when they do not;
 *   - the intermediates written out to L3 and read back when a band's
 *     scratch does not fit 3/4 of L2 (counted a quarter);
 *   - the expanded rows a band keeps from the one before, copied;
 *   - a cost per band, 64 KiB's worth: three stage calls, each kernel's
 *     start and its tails on a band's few pixels. */
static double band_cost(const septune_plan *plan, int64_t rows)
{
  const septune_fused *f = plan->fused;
  int64_t bands = (f->oh + rows - 1) / rows;
  double weights = 0, scratch = band_bytes(f, rows), l2 = (double)plan->budget.resident;
  for (int i = 0; i < f->stages; i++) {
    size_t n = 0;
    septune_op_tensor_sizes(&f->stage[i], NULL, NULL, &n, NULL, NULL);
    weights += (double)n * sizeof(float);
  }
  double cost = scratch + weights <= l2 ? weights : weights * (double)bands;
  /* spilled intermediates go to L3 and come back: a quarter of the cost of
   * weights that come from memory, as an inference's do (about the ratio of
   * the two bandwidths) */
  if (scratch > (double)plan->budget.resident) cost += 0.25 * 2.0 * band_bytes(f, f->oh);
  if (f->dw_at > 0) {
    const septune_depthwise_desc *d = &f->stage[f->dw_at].u.dw;
    double kept = (double)(band_in_rows(f, rows) - rows * d->stride_h);
    if (kept > 0) cost += 2.0 * kept * (double)(f->w * d->c) * sizeof(float) * (double)(bands - 1);
  }
  return cost + 65536.0 * (double)bands;
}

/* The default band: the rows of least band_cost (the most rows among
 * equals); then, with threads, the fewest more bands that share out evenly:
 * a thread takes whole bands. On 2 threads MobileNetV2's b0 (112 rows) took
 * 136 us in 3 bands of 54 rows, 76 us in 4 of 28; its b7 (14x14, one band
 * of the whole image at 1 thread) 67 us in 2 bands of 7 rows against 89 us
 * layer by layer, each stage split over both threads. The band size
 * does not change the output bits (each element comes from the same stage
 * plans in the same order), so the bands may follow the thread count. */
static int64_t default_rows(const septune_plan *plan)
{
  const septune_fused *f = plan->fused;
  int64_t best = f->oh;
  double best_cost = band_cost(plan, best);
  for (int64_t rows = f->oh - 1; rows >= 1; rows--) {
    double c = band_cost(plan, rows);
    if (c < best_cost) best = rows, best_cost = c;
  }
  int64_t n = (int64_t)septune_op_batch(&plan->op);
  int64_t t = septune_threads_worth(septune_op_flops(&plan->op) / (double)n, plan->threads);
  if (t > 1)
    for (int64_t want = (f->oh + best - 1) / best; want <= f->oh; want++) {
      int64_t rows = (f->oh + want - 1) / want;
      if ((f->oh + rows - 1) / rows == want && n * want % t == 0) return rows;
    }
  return best;
}

/* "band=R" (R >= 0) into *rows; -1 when the knobs are not of that form. */
static int parse_knobs(const char *knobs, int64_t *rows)
{
  char *end;
  if (strncmp(knobs, "band=", 5) != 0 || knobs[5] < '0' || knobs[5] > '9') return -1;
  long long v = strtoll(knobs + 5, &end, 10);
  if (*end != '\0' || v < 0 || v > INT32_MAX) return -1;
  *rows = v;
  return 0;
}

/* Cuts the output into bands of f->rows rows; 0 when a band would read no
 * input row or a stage would need more than MAX_VARIANTS plans (then the
 * block runs layer by layer), -1 when out of memory. */
static int cut_bands(septune_fused *f)
{
  f->bands = (f->oh + f->rows - 1) / f->rows;
  f->band = calloc((size_t)f->bands, sizeof *f->band);
  if (!f->band) return -1;
  size_t s0 = 0, s1 = 0;
  for (int64_t k = 0; k < f->bands; k++) {
    band *b = &f->band[k];
    int64_t r1 = (k + 1) * f->rows;
    if (!band_rows(f, k * f->rows, r1 > f->oh ? f->oh : r1, b)) return 0;
    if (k > 0 && f->dw_at > 0 && b[-1].e > b->a) b->kept = b[-1].e - b->a;
    size_t in_rows = (size_t)(b->e - b->a), out_rows = (size_t)(b->r1 - b->r0);
    if (f->dw_at > 0 && in_rows * (size_t)(f->w * f->stage[f->dw_at].u.dw.c) > s0)
      s0 = in_rows * (size_t)(f->w * f->stage[f->dw_at].u.dw.c);
    if (out_rows * (size_t)(f->ow * f->mid) > s1) s1 = out_rows * (size_t)(f->ow * f->mid);
  }
  f->scratch[0] = s0;
  f->scratch[1] = s1;
  for (int i = 0; i < f->stages; i++)
    if (variants(f, i) > MAX_VARIANTS) return 0;
  if (cont_variants(f) > MAX_VARIANTS) return 0;
  return 1;
}

septune_status septune_fused_create(septune_plan *plan, const float *weights, const float *bias,
                                    const septune_plan_options *opts, septune_error *err)
{
  septune_fused *f = plan->fused = calloc(1, sizeof *plan->fused);
  if (!f) return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "plan: out of memory");
  pthread_mutex_lock(&spare_lock);
  block_plans++;
  pthread_mutex_unlock(&spare_lock);
  f->stages = septune_op_stages(&plan->op, f->stage);
  f->dw_at = f->stages == 3 ? 1 : 0;
  f->residual = plan->op.kind == SEPTUNE_OP_INVERTED_RESIDUAL && plan->op.u.ir.residual;
  size_t wat = 0, bat = 0;
  for (int i = 0; i < f->stages; i++) {
    size_t nw = 0, nb = 0;
    septune_op_tensor_sizes(&f->stage[i], NULL, NULL, &nw, &nb, NULL);
    f->weights_at[i] = wat;
    f->bias_at[i] = bat;
    wat += nw;
    if (septune_op_has_bias(&f->stage[i])) bat += nb;
  }
  const septune_depthwise_desc *d = &f->stage[f->dw_at].u.dw;
  const septune_pointwise_desc *last = &f->stage[f->stages - 1].u.pw;
  f->h = d->h;
  f->w = d->w;
  f->ci = f->dw_at > 0 ? f->stage[0].u.pw.ci : d->c;
  septune_op_output_size(&f->stage[f->dw_at], &f->oh, &f->ow, NULL);
  f->co = last->co;
  f->mid = d->c * d->multiplier;

  const char *knobs = opts ? opts->knobs : NULL;
  if (knobs && *knobs) {
    if (parse_knobs(knobs, &f->rows) != 0)
      return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                               "plan: knobs '%s': a block takes band=R (R output rows per band; 0: layer by layer)",
                               knobs);
    plan->source_kind = SEPTUNE_KERNEL_FORCED;
  } else {
    char tuned[SEPTUNE_KNOBS_SIZE];
    int found = 0, threads = 0;
    septune_plan_tuned_knobs(plan, opts, tuned, sizeof tuned, &found, &threads);
    if (found && parse_knobs(tuned, &f->rows) == 0 && f->rows <= f->oh) {
      plan->source_kind = SEPTUNE_KERNEL_TUNED;
      plan->tuned_threads = threads;
    } else {
      f->rows = default_rows(plan);
      plan->source_kind = SEPTUNE_KERNEL_DEFAULT;
    }
  }
  /* One band of the whole image runs the layers' own shapes: that is the
   * layer-by-layer run, which spreads each stage over the plan's threads
   * where a lone band keeps to one. */
  if (f->rows >= f->oh) f->rows = 0;
  septune_plan_options stage_opts;
  memset(&stage_opts, 0, sizeof stage_opts);
  if (opts) stage_opts = *opts;
  stage_opts.knobs = NULL;
  stage_opts.isa = plan->isa;
  if (f->rows > 0) {
    int cut = cut_bands(f);
    if (cut < 0) return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "plan: out of memory");
    if (cut == 0) f->rows = 0;
  }
  septune_status st = SEPTUNE_OK;
  if (f->rows > 0) {
    /* Each band runs on one thread; the block's plan spreads the bands. */
    stage_opts.threads = 1;
    stage_opts.pool = NULL;
    st = band_plans(plan, weights, bias, &stage_opts, err);
  } else {
    free(f->band);
    f->band = NULL;
    f->bands = 0;
    stage_opts.threads = plan->threads;
    for (int i = 0; i < f->stages && st == SEPTUNE_OK; i++) {
      septune_plan *p;
      st = stage_plan(plan, i, &f->stage[i], weights, bias, &stage_opts, &p, err);
      /* the intermediates take the scratch's place */
      if (i + 1 < f->stages) septune_op_tensor_sizes(&f->stage[i], NULL, &f->scratch[i], NULL, NULL, NULL);
    }
  }
  if (st != SEPTUNE_OK) return st;
  /* the second part starts on a cache line */
  f->spare_floats = round_floats(f->scratch[0]) + f->scratch[1];
  septune_plan_info info;
  septune_plan_get_info(f->plans[0], &info);
  plan->isa = info.isa;
  plan->build = info.build;
  snprintf(plan->knobs, sizeof plan->knobs, "band=%lld", (long long)f->rows);
  plan->work = f->rows > 0 ? (long)f->bands : 1;
  return SEPTUNE_OK;
}

int septune_fused_rows(const septune_fused *f, int *stage_plans)
{
  *stage_plans = f->nplans;
  return (int)f->rows;
}

int septune_plan_stage_ops(const septune_plan *plan, septune_op *out, int max)
{
  const septune_fused *f = plan ? plan->fused : NULL;
  int n = 0;
  for (int i = 0; f && i < f->nplans && n < max; i++) septune_op_one_image(&f->plans[i]->op, &out[n++]);
  return n;
}

void septune_fused_free(septune_fused *f)
{
  if (!f) return;
  for (int i = 0; i < f->nplans; i++) septune_plan_destroy(f->plans[i]);
  pthread_mutex_lock(&spare_lock);
  if (--block_plans == 0) {
    for (int i = 0; i < spares; i++) free(spare[i].p);
    spares = 0;
  }
  pthread_mutex_unlock(&spare_lock);
  free(f->band);
  free(f);
}

/* ---- execution -------------------------------------------------------------------- */

typedef struct fused_run {
  const septune_fused *f;
  const float *input;
  float *output;
  int failed;          /* a band's stage failed (set with __atomic) */
  septune_error why;   /* the first failure's, written by the thread that set failed */
} fused_run;

static void fail(fused_run *r, const septune_error *why)
{
  if (__atomic_exchange_n(&r->failed, 1, __ATOMIC_ACQ_REL) == 0) r->why = *why;
}

/* out[i] += in[i] for n floats: the residual. */
static void add_rows(float *out, const float *in, size_t n)
{
  for (size_t i = 0; i < n; i++) out[i] += in[i];
}

/* A thread's scratch of `floats`: the smallest spare one that is large
 * enough, else a new one (NULL: out of memory). *size gets its size. */
static float *take_scratch(size_t floats, size_t *size)
{
  float *s = NULL;
  pthread_mutex_lock(&spare_lock);
  int best = -1;
  for (int i = 0; i < spares; i++)
    if (spare[i].floats >= floats && (best < 0 || spare[i].floats < spare[best].floats)) best = i;
  if (best >= 0) {
    s = spare[best].p;
    *size = spare[best].floats;
    spare[best] = spare[--spares];
  }
  pthread_mutex_unlock(&spare_lock);
  if (s) return s;
  *size = floats;
  return alloc_floats(floats);
}

/* Keeps s (of `floats`) for the next execution, in place of the smallest
 * spare one when there are MAX_SPARE already (which is freed). */
static void give_scratch(float *s, size_t floats)
{
  if (!s) return;
  pthread_mutex_lock(&spare_lock);
  if (spares < MAX_SPARE) {
    spare[spares].p = s, spare[spares++].floats = floats;
    s = NULL;
  } else {
    int small = 0;
    for (int i = 1; i < spares; i++)
      if (spare[i].floats < spare[small].floats) small = i;
    if (spare[small].floats < floats) {
      float *old = spare[small].p;
      spare[small].p = s, spare[small].floats = floats;
      s = old;
    }
  }
  pthread_mutex_unlock(&spare_lock);
  free(s);
}

/* Bands [begin, end) of all images (band k of image k / bands), on the
 * calling thread, with this thread's scratch. */
static void run_bands(void *p, long begin, long end)
{
  fused_run *r = p;
  const septune_fused *f = r->f;
  septune_error why;
  size_t size = 0;
  float *scratch = take_scratch(f->spare_floats, &size);
  float *expanded = scratch, *filtered = scratch ? scratch + round_floats(f->scratch[0]) : NULL;
  if (!scratch) {
    septune_error_set(&why, SEPTUNE_ERR_OUT_OF_MEMORY, "execute: out of memory for a band's scratch (%zu floats)",
                      f->scratch[0] + f->scratch[1]);
    fail(r, &why);
  }
  /* floats of an input row, of an expanded row */
  size_t in_row = (size_t)(f->w * f->ci), mid_row = f->dw_at > 0 ? (size_t)(f->w * f->stage[f->dw_at].u.dw.c) : 0;
  for (long item = begin; item < end && !__atomic_load_n(&r->failed, __ATOMIC_ACQUIRE); item++) {
    int64_t image = item / f->bands;
    const band *b = &f->band[item % f->bands];
    const float *in = r->input + (size_t)(image * f->h + b->a) * in_row;
    float *out = r->output + ((size_t)(image * f->oh + b->r0) * (size_t)f->ow) * (size_t)f->co;
    const float *x = in;
    septune_status st = SEPTUNE_OK;
    if (f->dw_at > 0 && item > begin && item % f->bands != 0 && b->kept > 0) {
      /* this thread expanded the band before: keep its last rows, expand the rest */
      memmove(expanded, expanded + (size_t)(b->a - b[-1].a) * mid_row, (size_t)b->kept * mid_row * sizeof(float));
      if (b->cont)
        st = septune_execute_on(b->cont, in + (size_t)b->kept * in_row, expanded + (size_t)b->kept * mid_row, NULL,
                                &why);
      x = expanded;
    } else if (f->dw_at > 0) {
      st = septune_execute_on(b->plan[0], x, expanded, NULL, &why);
      x = expanded;
    }
    if (st == SEPTUNE_OK) st = septune_execute_on(b->plan[f->dw_at], x, filtered, NULL, &why);
    if (st == SEPTUNE_OK) st = septune_execute_on(b->plan[f->dw_at + 1], filtered, out, NULL, &why);
    if (st != SEPTUNE_OK) {
      fail(r, &why);
      break;
    }
    /* stride 1 and the input's size: output row r is input row r */
    if (f->residual)
      add_rows(out, r->input + (size_t)(image * f->h + b->r0) * in_row, (size_t)((b->r1 - b->r0) * f->ow * f->co));
  }
  give_scratch(scratch, size);
}

/* Layer by layer: each stage's plan on the whole layer, on `pool`, through
 * the intermediates (a spare scratch). */
static septune_status run_layers(const septune_plan *plan, const float *input, float *output,
                                 struct pthreadpool *pool, septune_error *err)
{
  const septune_fused *f = plan->fused;
  size_t size = 0;
  float *scratch = take_scratch(f->spare_floats, &size);
  if (!scratch)
    return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "execute: out of memory for %zu intermediate floats",
                             f->spare_floats);
  float *mid[2] = { scratch, scratch + round_floats(f->scratch[0]) };
  const float *x = input;
  septune_status st = SEPTUNE_OK;
  for (int i = 0; i < f->stages && st == SEPTUNE_OK; i++) {
    float *y = i + 1 < f->stages ? mid[i] : output;
    st = septune_execute_on(f->plans[i], x, y, pool, err);
    x = y;
  }
  if (st == SEPTUNE_OK && f->residual) {
    size_t n = 0;
    septune_op_tensor_sizes(&plan->op, NULL, &n, NULL, NULL, NULL);
    add_rows(output, input, n);
  }
  give_scratch(scratch, size);
  return st;
}

septune_status septune_fused_execute(const septune_plan *plan, const float *input, float *output,
                                     struct pthreadpool *pool, septune_error *err)
{
  const septune_fused *f = plan->fused;
  if (f->rows == 0) return run_layers(plan, input, output, pool, err);
  fused_run r;
  memset(&r, 0, sizeof r);
  r.f = f;
  r.input = input;
  r.output = output;
  septune_pool_run(pool, plan->wake, (long)(septune_op_batch(&plan->op) * f->bands), run_bands, &r);
  if (r.failed) return septune_error_set(err, r.why.status, "%s", r.why.message);
  return SEPTUNE_OK;
}
