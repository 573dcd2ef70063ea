/*
 * cache_budget.c — cache sizes into the budgets of cache_budget.h.
 */
#include "cache_budget.h"

/* The machine the heuristics were measured on; stands in for what a CPU does
 * not report. */
#define MEASURED_L1D (48 * 1024)
#define MEASURED_L2 (2048 * 1024)
#define MEASURED_L3 (32768 * 1024)

void septune_cache_budget_of(const septune_caches *caches, septune_cache_budget *budget)
{
  septune_caches c = *caches;
  if (c.l1d == 0) c.l1d = MEASURED_L1D;
  if (c.l2 == 0) c.l2 = MEASURED_L2;
  if (c.l3 == 0) c.l3 = MEASURED_L3;
  budget->caches = c;
  budget->resident = c.l2 / 4 * 3;
  budget->panel = c.l1d / 3 * 2;
  budget->m_block = c.l2 / 8;
  budget->dw_band = c.l2 / 4;
}

void septune_cpu_cache_budget(septune_cache_budget *budget)
{
  septune_caches c;
  septune_cpu_caches(&c);
  septune_cache_budget_of(&c, budget);
}
