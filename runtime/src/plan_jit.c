/*
 * plan_jit.c — libseptune's kernel choice: forced knobs, an emitted table
 * entry, a tuning-database record or the heuristic default, the generated
 * ones compiled by libtcc.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "generator.h"
#include "internal.h"
#include "jit.h"
#include "plan.h"

static void release_jit(septune_plan *plan)
{
  septune_jit_free(plan->jit);
  plan->jit = NULL;
}

/* The compiled function the source exports for `role`, NULL when there is
 * none; *name says which it was looking for. */
static void *exported(septune_jit *jit, const septune_kernel_source_text *text, septune_gen_role role,
                      const char **name)
{
  const septune_gen_export *x = septune_gen_export_of(text, role);
  *name = x ? x->name : "(not exported)";
  return x ? septune_jit_symbol(jit, x->name) : NULL;
}

/* The kernel's work and threads functions, and a pointwise kernel's
 * packer, as the source exports them. */
static int find_extras(septune_plan *plan, septune_jit *jit, const septune_kernel_source_text *text,
                       const char **missing)
{
  void *work_fn = exported(jit, text, SEPTUNE_GEN_WORK, missing);
  if (!work_fn) return 0;
  void *threads_fn = exported(jit, text, SEPTUNE_GEN_THREADS, missing);
  if (!threads_fn) return 0;
  /* ISO C forbids converting void * to a function pointer; copy the bits. */
  memcpy(&plan->kernel_work, &work_fn, sizeof work_fn);
  memcpy(&plan->kernel_threads, &threads_fn, sizeof threads_fn);
  if (plan->op.kind != SEPTUNE_OP_POINTWISE) return 1;
  void *size_fn = exported(jit, text, SEPTUNE_GEN_PACKED_FLOATS, missing);
  if (!size_fn) return 0;
  void *pack_fn = exported(jit, text, SEPTUNE_GEN_PACK, missing);
  if (!pack_fn) return 0;
  memcpy(&plan->pw_packed_floats, &size_fn, sizeof size_fn);
  memcpy(&plan->pw_pack, &pack_fn, sizeof pack_fn);
  return 1;
}

/* Renders and compiles the kernel for plan->op on isa with knobs for the
 * plan's threads (resplit: the knobs' split replaced by the default one).
 * On success the plan takes the source, the compiled code, the kernel and
 * its ISA; on failure the plan is left as it was. */
static septune_status build_kernel(septune_plan *plan, septune_isa isa, const char *knobs, int resplit,
                                   septune_error *err)
{
  septune_kernel_source_text text;
  septune_gen_request req = { knobs, NULL, &plan->budget, plan->threads, resplit };
  septune_status st = septune_gen_render_request(&plan->op, isa, &req, &text, err);
  if (st != SEPTUNE_OK) return st;

  char msg[SEPTUNE_ERROR_MESSAGE_SIZE];
  char file[SEPTUNE_SYMBOL_SIZE + 8];
  const char *missing = NULL;
  septune_jit *jit = NULL;
  void *fn = NULL;
  septune_plan trial = *plan;
  snprintf(file, sizeof file, "%s.c", text.symbol);
  if (septune_jit_compile(text.source, file, &jit, msg, sizeof msg) != 0)
    st = septune_error_set(err, SEPTUNE_ERR_COMPILE, "plan: libtcc rejected the generated kernel: %s", msg);
  else if (!(fn = exported(jit, &text, SEPTUNE_GEN_KERNEL, &missing)) || !find_extras(&trial, jit, &text, &missing))
    st = septune_error_set(err, SEPTUNE_ERR_COMPILE, "plan: the generated source does not define %s", missing);
  if (st != SEPTUNE_OK) {
    septune_jit_free(jit);
    septune_gen_free(&text);
    return st;
  }
  plan->isa = isa;
  plan->build = SEPTUNE_BUILD_JIT;
  plan->source = text.source;
  plan->jit = jit;
  plan->release = release_jit;
  plan->kernel_work = trial.kernel_work;
  plan->kernel_threads = trial.kernel_threads;
  plan->pw_packed_floats = trial.pw_packed_floats;
  plan->pw_pack = trial.pw_pack;
  memcpy(plan->knobs, text.knobs, sizeof plan->knobs);
  snprintf(plan->symbol, sizeof plan->symbol, "%s", text.symbol);
  memcpy(&plan->kernel, &fn, sizeof fn);
  return SEPTUNE_OK;
}

void septune_plan_tuned_knobs(const septune_plan *plan, const septune_plan_options *opts, char *knobs, size_t n,
                              int *found, int *threads)
{
  const char *path = opts ? opts->db_path : NULL;
  septune_isa want = opts ? opts->isa : SEPTUNE_ISA_AUTO;
  septune_db_record rec;
  *found = 0;
  if (path && !*path) return;
  if (septune_db_lookup(path, &plan->op, want == SEPTUNE_ISA_AUTO ? SEPTUNE_ISA_AUTO : plan->isa, plan->threads,
                        &rec, found, NULL) != SEPTUNE_OK)
    *found = 0;
  if (!*found) return;
  snprintf(knobs, n, "%s", rec.knobs);
  *threads = rec.threads;
}

/* Builds the kernel from the tuning database's record for this op and the
 * plan's thread count, else from the 1-thread record's knobs with the
 * default split, when there is one the plan's ISA choice admits (and from
 * the 1-thread record as it is when the T record runs on one thread too
 * and measured slower: septune_db_lookup). No record,
 * an unreadable database, or a record that no longer builds all leave
 * plan->kernel NULL for the heuristic default; only running out of memory
 * is an error. */
static septune_status build_tuned_kernel(septune_plan *plan, const septune_plan_options *opts,
                                         septune_error *err)
{
  const char *path = opts ? opts->db_path : NULL;
  septune_isa want = opts ? opts->isa : SEPTUNE_ISA_AUTO;
  septune_db_record rec;
  int found = 0;
  if (path && !*path) return SEPTUNE_OK;
  if (septune_db_lookup(path, &plan->op, want == SEPTUNE_ISA_AUTO ? SEPTUNE_ISA_AUTO : plan->isa, plan->threads,
                        &rec, &found, NULL) != SEPTUNE_OK ||
      !found)
    return SEPTUNE_OK;
  septune_status st = build_kernel(plan, rec.isa, rec.knobs, found == 1 && rec.threads != plan->threads, NULL);
  if (st == SEPTUNE_OK) {
    plan->source_kind = SEPTUNE_KERNEL_TUNED;
    plan->tuned_threads = rec.threads;
  }
  if (st == SEPTUNE_ERR_OUT_OF_MEMORY)
    return septune_error_set(err, st, "plan: out of memory building the tuned kernel");
  return SEPTUNE_OK;
}

septune_status septune_plan_select_kernel(septune_plan *plan, const septune_plan_options *opts,
                                          septune_error *err)
{
  const char *knobs = opts ? opts->knobs : NULL;
  if (knobs && *knobs) {
    plan->source_kind = SEPTUNE_KERNEL_FORCED;
    return build_kernel(plan, plan->isa, knobs, 0, err);
  }
  const septune_kernel_table *table = NULL;
  const septune_kernel_entry *entry =
      septune_kernel_table_find(opts, &plan->op, opts ? opts->isa : SEPTUNE_ISA_AUTO, NULL, &table);
  if (entry) {
    septune_plan_use_entry(plan, table, entry);
    return SEPTUNE_OK;
  }
  septune_status st = build_tuned_kernel(plan, opts, err);
  if (st != SEPTUNE_OK || plan->kernel) return st;
  plan->source_kind = SEPTUNE_KERNEL_DEFAULT;
  return build_kernel(plan, plan->isa, NULL, 0, err);
}
