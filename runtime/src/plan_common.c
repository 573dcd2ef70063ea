/*
 * plan_common.c — septune_plan_create / septune_execute / septune_plan_destroy
 * for both libraries: validate, choose the ISA and the thread count, let the
 * library's chooser (plan_jit.c or plan_rt.c) find the kernel, pack the
 * weights once, run the kernel's work items on the plan's threads.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "plan.h"

#define ALIGNMENT 64

static size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

static float *alloc_floats(size_t n)
{
  void *p = NULL;
  if (n == 0) n = 1;
  if (n > SIZE_MAX / sizeof(float) - ALIGNMENT) return NULL;
  if (posix_memalign(&p, ALIGNMENT, round_up(n * sizeof(float), ALIGNMENT)) != 0) return NULL;
  memset(p, 0, n * sizeof(float));
  return p;
}

/* Packs canonical depthwise weights [kh][kw][co] and bias [co] into
 * [bias][taps] rows of co_pad floats, the padding zero
 * (septune_kernel_table.h documents the layout for emitted kernels). */
static septune_status pack_depthwise(septune_plan *plan, const float *weights, const float *bias,
                                     septune_error *err)
{
  const septune_depthwise_desc *d = &plan->op.u.dw;
  size_t co = (size_t)(d->c * d->multiplier);
  size_t co_pad = round_up(co, SEPTUNE_KERNEL_PACK_LANES);
  size_t taps = (size_t)(d->kh * d->kw);
  plan->packed = alloc_floats((taps + 1) * co_pad);
  /* One input row of the (expanded) input, plus a vector of slack. */
  plan->zero_row = alloc_floats((size_t)d->w * co + SEPTUNE_KERNEL_PACK_LANES);
  if (!plan->packed || !plan->zero_row)
    return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "plan: out of memory packing weights");
  if (d->has_bias) memcpy(plan->packed, bias, co * sizeof(float));
  for (size_t t = 0; t < taps; t++)
    memcpy(plan->packed + (t + 1) * co_pad, weights + t * co, co * sizeof(float));
  if (d->multiplier > 1) plan->scratch_floats = (size_t)(d->n * d->h * d->w) * co;
  return SEPTUNE_OK;
}

/* Pointwise weights are packed by the kernel's own code: a generated kernel
 * carries its packer (the panel layout follows its knobs), a generic kernel
 * has one too. */
static septune_status pack_pointwise(septune_plan *plan, const float *weights, const float *bias,
                                     septune_error *err)
{
  const septune_pointwise_desc *d = &plan->op.u.pw;
  long floats = plan->generic ? (long)plan->generic->pw_packed_floats(d, &plan->budget)
                              : plan->pw_packed_floats ? plan->pw_packed_floats() : 0;
  if (floats <= 0 || (!plan->generic && !plan->pw_pack))
    return septune_error_set(err, SEPTUNE_ERR_GENERATOR, "plan: kernel %s has no usable packer (%ld floats)",
                             plan->symbol, floats);
  plan->packed = alloc_floats((size_t)floats);
  if (!plan->packed)
    return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "plan: out of memory for %ld packed floats", floats);
  if (plan->generic)
    plan->generic->pw_pack(d, &plan->budget, weights, bias, plan->packed);
  else
    plan->pw_pack(weights, bias, plan->packed);
  return SEPTUNE_OK;
}

static septune_status choose_isa(const septune_plan_options *opts, septune_isa *isa, septune_error *err)
{
  septune_isa want = opts ? opts->isa : SEPTUNE_ISA_AUTO;
  if (want == SEPTUNE_ISA_AUTO) {
    *isa = septune_cpu_best_isa();
    return SEPTUNE_OK;
  }
  if (want < SEPTUNE_ISA_SCALAR || want > SEPTUNE_ISA_AVX512)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "plan: options.isa %d is not a septune_isa",
                             (int)want);
  if (!septune_cpu_has_isa(want))
    return septune_error_set(err, SEPTUNE_ERR_UNSUPPORTED, "plan: this CPU cannot run isa %s",
                             septune_isa_name(want));
  *isa = want;
  return SEPTUNE_OK;
}

void septune_plan_use_entry(septune_plan *plan, const septune_kernel_table *table,
                            const septune_kernel_entry *entry)
{
  plan->isa = (septune_isa)entry->isa;
  plan->build = SEPTUNE_BUILD_EMITTED;
  plan->source_kind = entry->tuned ? SEPTUNE_KERNEL_TUNED : SEPTUNE_KERNEL_DEFAULT;
  snprintf(plan->knobs, sizeof plan->knobs, "%s", entry->knobs ? entry->knobs : "");
  snprintf(plan->symbol, sizeof plan->symbol, "%s", entry->symbol ? entry->symbol : "");
  snprintf(plan->table, sizeof plan->table, "%s", table->name ? table->name : "");
  plan->kernel = entry->kernel;
  plan->kernel_work = entry->work;
  plan->kernel_threads = entry->threads;
  plan->pw_packed_floats = entry->packed_floats;
  plan->pw_pack = entry->pack;
}

/* The plan's thread count: options.threads, else the caller's pool's, else
 * the CPUs this process may run on. */
static septune_status choose_threads(const septune_plan_options *opts, int *threads, septune_error *err)
{
  int want = opts ? opts->threads : 0;
  if (want < 0 || want > SEPTUNE_MAX_THREADS)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "plan: options.threads %d is not 0 (the CPUs this process may run on) or 1 to %d",
                             want, SEPTUNE_MAX_THREADS);
  if (want == 0) want = opts && opts->pool ? septune_pool_threads(opts->pool) : septune_cpu_threads();
  *threads = want;
  return SEPTUNE_OK;
}

/* The kernel's items per image and the threads an execution wakes; with
 * neither a caller's pool nor a single thread, a share of the library's
 * pool of T threads. */
static septune_status setup_threads(septune_plan *plan, const septune_plan_options *opts, septune_error *err)
{
  const septune_op *op = &plan->op;
  long knob_threads;
  int stage_plans;
  if (plan->fused && septune_fused_rows(plan->fused, &stage_plans) == 0) {
    /* layer by layer: the stages' plans spread themselves over the pool */
    plan->work = plan->threads;
    knob_threads = plan->threads;
  } else if (plan->fused) {
    knob_threads = septune_threads_worth(septune_op_flops(op) / (double)septune_op_batch(op), plan->threads);
  } else if (plan->generic) {
    septune_depthwise_desc view = op->u.dw;
    view.c *= view.multiplier;
    view.multiplier = 1;
    plan->work = op->kind == SEPTUNE_OP_POINTWISE ? plan->generic->pw_work(&op->u.pw, &plan->budget, plan->threads)
                                                  : plan->generic->dw_work(&view, &plan->budget, plan->threads);
    knob_threads = septune_threads_worth(septune_op_flops(op) / (double)(op->kind == SEPTUNE_OP_POINTWISE
                                                                             ? op->u.pw.n
                                                                             : op->u.dw.n),
                                         plan->threads);
  } else {
    plan->work = plan->kernel_work ? plan->kernel_work() : 0;
    knob_threads = plan->kernel_threads ? plan->kernel_threads() : 0;
  }
  if (plan->work < 1 || knob_threads < 1)
    return septune_error_set(err, SEPTUNE_ERR_GENERATOR, "plan: kernel %s reports %ld work items and %ld threads",
                             plan->symbol, plan->work, knob_threads);
  long n = (long)septune_op_batch(op);
  long total = n > LONG_MAX / plan->work ? LONG_MAX : n * plan->work;
  long wake = plan->threads;
  if (knob_threads < wake) wake = knob_threads;
  if (total < wake) wake = total;
  plan->pool = opts ? opts->pool : NULL;
  if (plan->pool && septune_pool_threads(plan->pool) < wake) wake = septune_pool_threads(plan->pool);
  plan->wake = (int)wake;
  if (!plan->pool && plan->wake > 1) return septune_pool_share_acquire(plan->threads, &plan->share, err);
  return SEPTUNE_OK;
}

septune_status septune_plan_create(const septune_op *op, const float *weights, const float *bias,
                                   const septune_plan_options *opts, septune_plan **plan_out,
                                   septune_error *err)
{
  if (!plan_out) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "plan: plan is NULL");
  *plan_out = NULL;
  if (!op) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "plan: op is NULL");
  septune_status st = septune_op_validate(op, err);
  if (st != SEPTUNE_OK) return st;
  if (!weights) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "plan: weights is NULL");
  int has_bias = septune_op_has_bias(op);
  if (has_bias && !bias)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "plan: bias is NULL but has_bias is 1");
  if (opts && opts->kernels) {
    septune_error why;
    if (septune_kernel_table_check(opts->kernels, &why) != SEPTUNE_OK)
      return septune_error_set(err, why.status, "plan: options.kernels: %s", why.message);
  }
  septune_plan *plan = calloc(1, sizeof *plan);
  if (!plan) return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "plan: out of memory");
  plan->op = *op;
  septune_cpu_cache_budget(&plan->budget);

  st = choose_isa(opts, &plan->isa, err);
  if (st == SEPTUNE_OK) st = choose_threads(opts, &plan->threads, err);
  if (st == SEPTUNE_OK && (op->kind == SEPTUNE_OP_SEPARABLE || op->kind == SEPTUNE_OP_INVERTED_RESIDUAL))
    st = septune_fused_create(plan, weights, bias, opts, err);
  else if (st == SEPTUNE_OK && (st = septune_plan_select_kernel(plan, opts, err)) == SEPTUNE_OK)
    st = op->kind == SEPTUNE_OP_DEPTHWISE ? pack_depthwise(plan, weights, bias, err)
                                          : pack_pointwise(plan, weights, has_bias ? bias : NULL, err);
  if (st == SEPTUNE_OK) st = setup_threads(plan, opts, err);
  if (st != SEPTUNE_OK) {
    septune_plan_destroy(plan);
    return st;
  }
  *plan_out = plan;
  return septune_error_clear(err);
}

/* One execution: what the work items read and write. */
typedef struct run {
  const septune_plan *plan;
  septune_kernel_fn kernel;   /* NULL: the generic kernel */
  septune_depthwise_desc view; /* generic depthwise: the multiplier-1 view */
  const float *input;         /* the op's input (before the expansion) */
  const float *in;            /* what the kernel reads */
  float *out, *scratch;
} run;

/* Multiplier m: every kernel reads an input whose channel o = c*m + j holds
 * input channel c, so it sees a multiplier-1 layer. This pass is built by
 * the system compiler in every configuration, JIT or not; its items are
 * input rows. */
static void expand_rows(void *p, long begin, long end)
{
  const run *r = p;
  const septune_depthwise_desc *d = &r->plan->op.u.dw;
  size_t c = (size_t)d->c, m = (size_t)d->multiplier, w = (size_t)d->w;
  for (size_t px = (size_t)begin * w; px < (size_t)end * w; px++)
    for (size_t ci = 0; ci < c; ci++)
      for (size_t j = 0; j < m; j++) r->scratch[(px * c + ci) * m + j] = r->input[px * c + ci];
}

static void run_items(void *p, long begin, long end)
{
  const run *r = p;
  const septune_plan *plan = r->plan;
  if (r->kernel)
    r->kernel(r->in, r->out, plan->packed, plan->zero_row, r->scratch, begin, end);
  else if (plan->op.kind == SEPTUNE_OP_POINTWISE)
    plan->generic->pw(&plan->op.u.pw, &plan->budget, plan->threads, plan->packed, r->in, r->out, begin, end);
  else
    plan->generic->dw(&r->view, &plan->budget, plan->threads, plan->packed, r->in, r->out, begin, end);
}

/* 1 when the op's input at `input` and its output at `output` share a
 * byte. The plan's op is valid, so the sizes fit size_t. */
static int tensors_overlap(const septune_plan *plan, const float *input, const float *output)
{
  size_t in_n = 0, out_n = 0;
  septune_op_tensor_sizes(&plan->op, &in_n, &out_n, NULL, NULL, NULL);
  uintptr_t in = (uintptr_t)input, out = (uintptr_t)output;
  return in < out ? out - in < in_n * sizeof(float) : in - out < out_n * sizeof(float);
}

/* The pool an execution of plan runs on: the caller's, the library's
 * share (made again in a forked child), or NULL for the calling thread. */
static septune_status plan_pool(const septune_plan *plan, struct pthreadpool **pool, septune_error *err)
{
  *pool = plan->pool;
  if (!plan->share) return SEPTUNE_OK;
  septune_error why;
  if (!(*pool = septune_pool_share_get(plan->share, &why)))
    return septune_error_set(err, why.status, "execute: %s", why.message);
  return SEPTUNE_OK;
}

static septune_status execute(const septune_plan *plan, septune_kernel_fn kernel, const float *input,
                              float *output, struct pthreadpool *pool, septune_error *err)
{
  if (!input) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "execute: input is NULL");
  if (!output) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "execute: output is NULL");
  if (tensors_overlap(plan, input, output))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "execute: input and output overlap (input at %p, output at %p): the kernels need "
                             "separate tensors", (const void *)input, (const void *)output);
  if (plan->fused) {
    septune_status st = septune_fused_execute(plan, input, output, pool, err);
    return st == SEPTUNE_OK ? septune_error_clear(err) : st;
  }
  run r = { plan, kernel, plan->op.u.dw, input, input, output, NULL };
  long n = plan->op.kind == SEPTUNE_OP_POINTWISE ? (long)plan->op.u.pw.n : (long)plan->op.u.dw.n;
  if (plan->op.kind == SEPTUNE_OP_DEPTHWISE) {
    r.view.c *= r.view.multiplier;
    r.view.multiplier = 1;
  }
  if (plan->scratch_floats) {
    r.scratch = alloc_floats(plan->scratch_floats);
    if (!r.scratch)
      return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "execute: out of memory for %zu scratch floats",
                               plan->scratch_floats);
    septune_pool_run(pool, plan->wake, n * (long)plan->op.u.dw.h, expand_rows, &r);
    r.in = r.scratch;
  }
  septune_pool_run(pool, plan->wake, n * plan->work, run_items, &r);
  free(r.scratch);
  return septune_error_clear(err);
}

septune_status septune_plan_execute_with(const septune_plan *plan, septune_kernel_fn kernel,
                                         const float *input, float *output, septune_error *err)
{
  struct pthreadpool *pool;
  if (!plan) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "execute: plan is NULL");
  if (!kernel) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "execute: kernel is NULL");
  if (plan->fused)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "execute: a block's plan runs its stages' kernels");
  septune_status st = plan_pool(plan, &pool, err);
  return st == SEPTUNE_OK ? execute(plan, kernel, input, output, pool, err) : st;
}

septune_status septune_execute(const septune_plan *plan, const float *input, float *output, septune_error *err)
{
  struct pthreadpool *pool;
  if (!plan) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "execute: plan is NULL");
  septune_status st = plan_pool(plan, &pool, err);
  return st == SEPTUNE_OK ? execute(plan, plan->kernel, input, output, pool, err) : st;
}

septune_status septune_execute_on(const septune_plan *plan, const float *input, float *output,
                                  struct pthreadpool *pool, septune_error *err)
{
  if (!plan) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "execute: plan is NULL");
  return execute(plan, plan->kernel, input, output, pool, err);
}

const char *septune_plan_symbol(const septune_plan *plan)
{
  return plan ? plan->symbol : "";
}

septune_status septune_plan_get_info(const septune_plan *plan, septune_plan_info *info)
{
  if (!plan || !info) return SEPTUNE_ERR_INVALID_ARGUMENT;
  memset(info, 0, sizeof *info);
  info->op = plan->op;
  info->isa = plan->isa;
  info->source = plan->source_kind;
  info->build = plan->build;
  memcpy(info->knobs, plan->knobs, sizeof info->knobs);
  memcpy(info->table, plan->table, sizeof info->table);
  info->threads = plan->threads;
  info->tuned_threads = plan->source_kind == SEPTUNE_KERNEL_TUNED ? plan->tuned_threads : 0;
  info->work = plan->work;
  info->wake = plan->wake;
  info->fused = plan->fused ? septune_fused_rows(plan->fused, &info->stage_plans) > 0 : -1;
  return SEPTUNE_OK;
}

const char *septune_plan_source(const septune_plan *plan)
{
  return plan ? plan->source : NULL;
}

void septune_plan_destroy(septune_plan *plan)
{
  if (!plan) return;
  if (plan->release) plan->release(plan);
  septune_pool_share_release(plan->share);
  septune_fused_free(plan->fused);
  free(plan->source);
  free(plan->packed);
  free(plan->zero_row);
  free(plan);
}
