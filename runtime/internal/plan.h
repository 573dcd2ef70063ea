/*
 * plan.h — plan internals: the plan itself, shared by plan_common.c and the
 * two kernel choosers (plan_jit.c in libseptune, plan_rt.c in
 * libseptune_rt), and what tests and benchmarks use to run another build of
 * the same kernel source (e.g. gcc's) with a plan's packed weights.
 */
#ifndef SEPTUNE_PLAN_H
#define SEPTUNE_PLAN_H

#include "generic.h"
#include "internal.h"
#include "pool.h"
#include "septune.h"

struct septune_plan {
  septune_op op;
  septune_isa isa;
  int threads;             /* T, >= 1: what the kernel's knobs were chosen for */
  int tuned_threads;       /* the tuning record's thread count (TUNED), else 0 */
  septune_kernel_source source_kind;
  septune_kernel_build build;
  septune_cache_budget budget; /* this CPU's, for the default knobs and the generic kernels */
  char knobs[SEPTUNE_KNOBS_SIZE];
  char table[64];          /* the emitted table's name, for SEPTUNE_BUILD_EMITTED */
  char symbol[SEPTUNE_SYMBOL_SIZE];
  char *source;            /* JIT only: the generated C */
  void *jit;               /* JIT only: the compiled code (a septune_jit) */
  void (*release)(struct septune_plan *plan); /* frees jit; NULL when none */
  septune_kernel_fn kernel;                  /* a generated kernel, or NULL */
  long (*kernel_work)(void);                 /* a generated kernel's items per image */
  long (*kernel_threads)(void);              /* and the most threads worth waking (knob th) */
  long (*pw_packed_floats)(void);            /* a generated pointwise kernel's packer */
  void (*pw_pack)(const float *weights, const float *bias, float *packed);
  const septune_generic_kernels *generic;    /* instead of kernel */
  float *packed;           /* depthwise: [bias][kh*kw taps], co_pad floats each;
                              pointwise: the layout of the kernel's own packer */
  float *zero_row;         /* stands in for input rows in the padding */
  size_t scratch_floats;   /* per execute: the multiplier-expanded input */
  long work;               /* the kernel's work items per image */
  int wake;                /* threads an execution wakes at most: min(T, knob th, n * work) */
  struct pthreadpool *pool;  /* the caller's pool (options.pool), or NULL */
  septune_pool_share *share; /* else the library's pool of T threads, when wake > 1 */
  struct septune_fused *fused; /* a block: its stage plans and bands (plan_fused.c) */
};

/* Implemented once per library: sets the plan's kernel (kernel, its work
 * and threads functions and, for pointwise, its packer; or generic), isa,
 * source_kind, tuned_threads, build, knobs and symbol. plan->isa holds the
 * ISA choose_isa picked (the best the CPU has when opts->isa is AUTO),
 * plan->threads the plan's thread count. Returns as septune_plan_create. */
septune_status septune_plan_select_kernel(septune_plan *plan, const septune_plan_options *opts,
                                          septune_error *err);

/* Implemented once per library: the knobs of a tuning-database record for
 * plan->op (a block: its band knob) on the plan's ISA choice and thread
 * count (else the 1-thread record's), into knobs (n bytes) with *found 1
 * and *threads the record's thread count; *found 0 when there is none (no
 * database, libseptune_rt). Never fails. */
void septune_plan_tuned_knobs(const septune_plan *plan, const septune_plan_options *opts, char *knobs, size_t n,
                              int *found, int *threads);

/* Takes the kernel of an emitted table entry (kernel_table.c found it). */
void septune_plan_use_entry(septune_plan *plan, const septune_kernel_table *table,
                            const septune_kernel_entry *entry);

/* Runs `kernel` in place of the plan's own (the same source built another
 * way: the same work items), with the plan's packed weights, zero row,
 * scratch and threads. Returns as septune_execute, plus
 * SEPTUNE_ERR_INVALID_ARGUMENT for a NULL kernel. */
septune_status septune_plan_execute_with(const septune_plan *plan, septune_kernel_fn kernel,
                                         const float *input, float *output, septune_error *err);

/* The name of the plan's kernel function in its source; "" for NULL or a
 * generic kernel. */
const char *septune_plan_symbol(const septune_plan *plan);

/* ------------------------------------------------------------------------ */
/* plan_fused.c: blocks (separable, inverted residual)                      */

typedef struct septune_fused septune_fused;

/* Sets up a block's plan (plan->op a block; isa, threads and budget
 * chosen): the band rows (opts->knobs "band=R", else the default), the
 * stages' plans, plan->knobs, source_kind, build and work (bands per
 * image; 1 layer by layer). Returns as septune_plan_create; on failure the
 * caller destroys the plan (septune_fused_free frees what was made). */
septune_status septune_fused_create(septune_plan *plan, const float *weights, const float *bias,
                                    const septune_plan_options *opts, septune_error *err);

/* Runs a block's plan (checked arguments) on pool: bands spread over it, or
 * layer by layer each stage on it. Returns as septune_execute. */
septune_status septune_fused_execute(const septune_plan *plan, const float *input, float *output,
                                     struct pthreadpool *pool, septune_error *err);

/* The band rows (0: layer by layer); *stage_plans gets the stage plans'
 * count. */
int septune_fused_rows(const septune_fused *f, int *stage_plans);

/* The layers a block's plan runs its stages on, one image each (its band
 * shapes; layer by layer, its stages), at most max of them into out;
 * returns their count (0 for a layer's plan). What `septune emit` emits for
 * a block. */
int septune_plan_stage_ops(const septune_plan *plan, septune_op *out, int max);

/* Frees a block's stage plans and bands. NULL is a no-op. */
void septune_fused_free(septune_fused *f);

/* ------------------------------------------------------------------------ */
/* kernel_table.c                                                            */

/* The entry for op among opts->kernels (when given) and then the registered
 * tables: the first table with a match, and in it the widest ISA that the
 * CPU runs and `isa` admits (AUTO: any), with `knobs` (NULL or "": any).
 * Returns NULL when none matches; sets *table to the entry's table. */
const septune_kernel_entry *septune_kernel_table_find(const septune_plan_options *opts, const septune_op *op,
                                                      septune_isa isa, const char *knobs,
                                                      const septune_kernel_table **table);

#endif
