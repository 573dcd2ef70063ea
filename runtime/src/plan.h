/*
 * plan.h — plan internals the tests and benchmarks use to run another build
 * of the same kernel source (e.g. gcc's) with a plan's packed weights.
 */
#ifndef SEPTUNE_PLAN_H
#define SEPTUNE_PLAN_H

#include "septune.h"

/* The signature of every generated depthwise kernel. */
typedef void (*septune_dw_kernel_fn)(const float *in, float *out, const float *packed, const float *zero_row,
                                     float *scratch);

/* Runs `kernel` in place of the plan's own, with the plan's packed weights,
 * zero row and scratch. Returns as septune_execute, plus
 * SEPTUNE_ERR_INVALID_ARGUMENT for a NULL kernel. */
septune_status septune_plan_execute_with(const septune_plan *plan, septune_dw_kernel_fn kernel,
                                         const float *input, float *output, septune_error *err);

/* The name of the plan's kernel function in its source; "" for NULL. */
const char *septune_plan_symbol(const septune_plan *plan);

#endif
