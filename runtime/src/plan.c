/*
 * plan.c — septune_plan_create / septune_execute / septune_plan_destroy:
 * validate, choose the ISA, pack the weights once, render and JIT the kernel.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "generator.h"
#include "internal.h"
#include "jit.h"
#include "plan.h"

/* Packed weights are padded to this many channels so that a full vector of
 * any ISA can be loaded at the channel tail (generator/dw_geometry.lua). */
#define PACK_LANES 16
#define ALIGNMENT 64

struct septune_plan {
  septune_op op;
  septune_isa isa;
  septune_kernel_source source_kind;
  char knobs[128];
  char *source;
  septune_jit *jit;
  septune_dw_kernel_fn kernel;
  char symbol[96];
  float *packed;          /* depthwise: [bias][kh*kw taps], co_pad floats each;
                             pointwise: the layout of the kernel's own packer */
  float *zero_row;        /* stands in for input rows in the padding */
  size_t scratch_floats;  /* per execute: the multiplier-expanded input */
};

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
 * [bias][taps] rows of co_pad floats, the padding zero. */
static septune_status pack_depthwise(septune_plan *plan, const float *weights, const float *bias,
                                     septune_error *err)
{
  const septune_depthwise_desc *d = &plan->op.u.dw;
  size_t co = (size_t)(d->c * d->multiplier);
  size_t co_pad = round_up(co, PACK_LANES);
  size_t taps = (size_t)(d->kh * d->kw);
  plan->packed = alloc_floats((taps + 1) * co_pad);
  /* One input row of the (expanded) input, plus a vector of slack. */
  plan->zero_row = alloc_floats((size_t)d->w * co + PACK_LANES);
  if (!plan->packed || !plan->zero_row)
    return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "plan: out of memory packing weights");
  if (d->has_bias) memcpy(plan->packed, bias, co * sizeof(float));
  for (size_t t = 0; t < taps; t++)
    memcpy(plan->packed + (t + 1) * co_pad, weights + t * co, co * sizeof(float));
  if (d->multiplier > 1) plan->scratch_floats = (size_t)(d->n * d->h * d->w) * co;
  return SEPTUNE_OK;
}

/* Pointwise weights are packed by the kernel's own generated code: the
 * panel layout follows the knobs, and an emitted kernel carries its packer. */
static septune_status pack_pointwise(septune_plan *plan, const float *weights, const float *bias,
                                     septune_error *err)
{
  char name[128];
  long (*size_fn)(void);
  void (*pack_fn)(const float *, const float *, float *);
  snprintf(name, sizeof name, "%s_packed_floats", plan->symbol);
  void *sym = septune_jit_symbol(plan->jit, name);
  snprintf(name, sizeof name, "%s_pack", plan->symbol);
  void *pack = septune_jit_symbol(plan->jit, name);
  if (!sym || !pack)
    return septune_error_set(err, SEPTUNE_ERR_COMPILE, "plan: generated source lacks %s_pack or %s_packed_floats",
                             plan->symbol, plan->symbol);
  memcpy(&size_fn, &sym, sizeof sym);
  memcpy(&pack_fn, &pack, sizeof pack);
  long floats = size_fn();
  if (floats <= 0)
    return septune_error_set(err, SEPTUNE_ERR_GENERATOR, "plan: generated packer reports %ld floats", floats);
  plan->packed = alloc_floats((size_t)floats);
  if (!plan->packed)
    return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "plan: out of memory for %ld packed floats", floats);
  pack_fn(weights, bias, plan->packed);
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

/* Renders and compiles the kernel for plan->op on isa with knobs. On
 * success the plan takes the source, the compiled code, the kernel and its
 * ISA; on failure the plan is left as it was. */
static septune_status build_kernel(septune_plan *plan, septune_isa isa, const char *knobs, septune_error *err)
{
  septune_kernel_source_text text;
  septune_status st = septune_gen_render(&plan->op, isa, knobs, &text, err);
  if (st != SEPTUNE_OK) return st;

  char msg[SEPTUNE_ERROR_MESSAGE_SIZE];
  char file[112];
  septune_jit *jit = NULL;
  void *fn = NULL;
  snprintf(file, sizeof file, "%s.c", text.symbol);
  if (septune_jit_compile(text.source, file, &jit, msg, sizeof msg) != 0)
    st = septune_error_set(err, SEPTUNE_ERR_COMPILE, "plan: libtcc rejected the generated kernel: %s", msg);
  else if (!(fn = septune_jit_symbol(jit, text.symbol)))
    st = septune_error_set(err, SEPTUNE_ERR_COMPILE, "plan: generated source defines no function %s",
                           text.symbol);
  if (st != SEPTUNE_OK) {
    septune_jit_free(jit);
    septune_gen_free(&text);
    return st;
  }
  plan->isa = isa;
  plan->source = text.source;
  plan->jit = jit;
  memcpy(plan->knobs, text.knobs, sizeof plan->knobs);
  memcpy(plan->symbol, text.symbol, sizeof plan->symbol);
  /* ISO C forbids converting void * to a function pointer; copy the bits. */
  memcpy(&plan->kernel, &fn, sizeof fn);
  return SEPTUNE_OK;
}

/* Builds the kernel from the tuning database's record for this op when
 * there is one the plan's ISA choice admits. No record, an unreadable
 * database, or a record that no longer builds all leave plan->kernel NULL
 * for the heuristic default; only running out of memory is an error. */
static septune_status build_tuned_kernel(septune_plan *plan, const septune_plan_options *opts,
                                         septune_error *err)
{
  const char *path = opts ? opts->db_path : NULL;
  septune_isa want = opts ? opts->isa : SEPTUNE_ISA_AUTO;
  septune_db_record rec;
  int found = 0;
  if (path && !*path) return SEPTUNE_OK;
  if (septune_db_lookup(path, &plan->op, want == SEPTUNE_ISA_AUTO ? SEPTUNE_ISA_AUTO : plan->isa, &rec, &found,
                        NULL) != SEPTUNE_OK || !found)
    return SEPTUNE_OK;
  septune_status st = build_kernel(plan, rec.isa, rec.knobs, NULL);
  if (st == SEPTUNE_OK) plan->source_kind = SEPTUNE_KERNEL_TUNED;
  if (st == SEPTUNE_ERR_OUT_OF_MEMORY)
    return septune_error_set(err, st, "plan: out of memory building the tuned kernel");
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
  int has_bias = op->kind == SEPTUNE_OP_DEPTHWISE ? op->u.dw.has_bias : op->u.pw.has_bias;
  if (has_bias && !bias)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "plan: bias is NULL but has_bias is 1");
  septune_plan *plan = calloc(1, sizeof *plan);
  if (!plan) return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "plan: out of memory");
  plan->op = *op;
  const char *knobs = opts ? opts->knobs : NULL;
  plan->source_kind = (knobs && *knobs) ? SEPTUNE_KERNEL_FORCED : SEPTUNE_KERNEL_DEFAULT;

  st = choose_isa(opts, &plan->isa, err);
  if (st == SEPTUNE_OK && plan->source_kind == SEPTUNE_KERNEL_DEFAULT)
    st = build_tuned_kernel(plan, opts, err);
  if (st == SEPTUNE_OK && !plan->kernel) st = build_kernel(plan, plan->isa, knobs, err);
  if (st == SEPTUNE_OK)
    st = op->kind == SEPTUNE_OP_DEPTHWISE ? pack_depthwise(plan, weights, bias, err)
                                          : pack_pointwise(plan, weights, has_bias ? bias : NULL, err);
  if (st != SEPTUNE_OK) {
    septune_plan_destroy(plan);
    return st;
  }
  *plan_out = plan;
  return septune_error_clear(err);
}

septune_status septune_plan_execute_with(const septune_plan *plan, septune_dw_kernel_fn kernel,
                                         const float *input, float *output, septune_error *err)
{
  if (!plan) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "execute: plan is NULL");
  if (!kernel) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "execute: kernel is NULL");
  if (!input) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "execute: input is NULL");
  if (!output) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "execute: output is NULL");
  float *scratch = NULL;
  if (plan->scratch_floats) {
    scratch = alloc_floats(plan->scratch_floats);
    if (!scratch)
      return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "execute: out of memory for %zu scratch floats",
                               plan->scratch_floats);
  }
  if (scratch) {
    /* Multiplier m: every kernel reads an input whose channel o = c*m + j
     * holds input channel c, so it sees a multiplier-1 layer. This pass is
     * built by the system compiler in every configuration, JIT or not. */
    const septune_depthwise_desc *d = &plan->op.u.dw;
    size_t pixels = (size_t)(d->n * d->h * d->w), c = (size_t)d->c, m = (size_t)d->multiplier;
    for (size_t p = 0; p < pixels; p++)
      for (size_t ci = 0; ci < c; ci++)
        for (size_t j = 0; j < m; j++) scratch[(p * c + ci) * m + j] = input[p * c + ci];
    input = scratch;
  }
  kernel(input, output, plan->packed, plan->zero_row, scratch);
  free(scratch);
  return septune_error_clear(err);
}

septune_status septune_execute(const septune_plan *plan, const float *input, float *output, septune_error *err)
{
  if (!plan) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "execute: plan is NULL");
  return septune_plan_execute_with(plan, plan->kernel, input, output, err);
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
  memcpy(info->knobs, plan->knobs, sizeof info->knobs);
  return SEPTUNE_OK;
}

const char *septune_plan_source(const septune_plan *plan)
{
  return plan ? plan->source : NULL;
}

void septune_plan_destroy(septune_plan *plan)
{
  if (!plan) return;
  septune_jit_free(plan->jit);
  free(plan->source);
  free(plan->packed);
  free(plan->zero_row);
  free(plan);
}
