/*
 * plan_rt.c — libseptune_rt's kernel choice: an emitted table entry, else
 * the generic kernel. No generator, no JIT, no database here.
 */
#include "internal.h"
#include "plan.h"

septune_status septune_plan_select_kernel(septune_plan *plan, const septune_plan_options *opts,
                                          septune_error *err)
{
  const char *knobs = opts ? opts->knobs : NULL;
  const septune_kernel_table *table = NULL;
  const septune_kernel_entry *entry =
      septune_kernel_table_find(opts, &plan->op, opts ? opts->isa : SEPTUNE_ISA_AUTO, knobs, &table);
  if (entry) {
    septune_plan_use_entry(plan, table, entry);
    if (knobs && *knobs) plan->source_kind = SEPTUNE_KERNEL_FORCED;
    return SEPTUNE_OK;
  }
  if (knobs && *knobs) {
    char line[SEPTUNE_OP_LINE_SIZE];
    septune_op_format(&plan->op, line, sizeof line);
    return septune_error_set(err, SEPTUNE_ERR_UNSUPPORTED,
                             "plan: libseptune_rt has no emitted kernel for '%s' with knobs %s (it cannot "
                             "generate one: use libseptune, or emit this layer)", line, knobs);
  }
  plan->generic = septune_generic_select(plan->isa);
  plan->isa = plan->generic->isa;
  plan->build = SEPTUNE_BUILD_LIBRARY;
  plan->source_kind = SEPTUNE_KERNEL_GENERIC;
  return SEPTUNE_OK;
}

void septune_plan_tuned_knobs(const septune_plan *plan, const septune_plan_options *opts, char *knobs, size_t n,
                              int *found, int *threads)
{
  (void)plan, (void)opts, (void)knobs, (void)n, (void)threads;
  *found = 0;
}
