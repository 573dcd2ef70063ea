/*
 * check.c — output comparison and reproducible test data.
 */
#include "check.h"
#include "internal.h"

#include <math.h>
#include <string.h>

void septune_activation_accuracy(septune_activation act, double *rel, double *floor, double *slope)
{
  const double ulp = 1.1920928955078125e-7; /* 2^-23 */
  double r = 0, f = 0x1p-126, s = 1;
  switch (act) {
    case SEPTUNE_ACT_NONE:
    case SEPTUNE_ACT_RELU:
    case SEPTUNE_ACT_RELU6:
    case SEPTUNE_ACT_CLAMP:
      break;
    case SEPTUNE_ACT_HSWISH:
    case SEPTUNE_ACT_HSIGMOID:
      r = 2 * ulp;
      break;
    case SEPTUNE_ACT_SIGMOID:
      r = 3 * ulp;
      break;
    case SEPTUNE_ACT_SILU:
      r = 3 * ulp, s = 1.25;
      break;
    case SEPTUNE_ACT_GELU:
    case SEPTUNE_ACT_GELU_TANH:
      r = 3 * ulp, f = 1, s = 1.25;
      break;
  }
  if (rel) *rel = r;
  if (floor) *floor = f;
  if (slope) *slope = s;
}

/* The relative bound of one layer (see septune_check_output). */
static double layer_bound(const septune_op *op)
{
  double terms = 1, act_rel = 0, slope = 1;
  if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    terms = (double)(op->u.dw.kh * op->u.dw.kw);
    septune_activation_accuracy(op->u.dw.act, &act_rel, NULL, &slope);
  } else if (op->kind == SEPTUNE_OP_POINTWISE) {
    terms = (double)op->u.pw.ci;
    septune_activation_accuracy(op->u.pw.act, &act_rel, NULL, &slope);
  }
  /* A few ulps per term: every summation order is within this of another.
   * The activation's own error is within act_rel * (1 + |want|), its floor
   * being at most 1. */
  return 4.0 * 1.1920929e-7 * (terms + 2.0) * slope + act_rel;
}

/* A block: a stage's error reaches the output through the later stages,
 * each summing `terms` of them with weights in [-1, 1) (the test data): it
 * grows by about sqrt(terms) against outputs that grow alike, so the bound
 * of stage i is taken times sqrt(terms) of every later stage, and the
 * stages' bounds add up. */
static double block_bound(const septune_op *op)
{
  septune_op stage[SEPTUNE_MAX_STAGES];
  int stages = septune_op_stages(op, stage);
  double rel = 0;
  for (int i = 0; i < stages; i++) {
    double r = layer_bound(&stage[i]);
    for (int j = i + 1; j < stages; j++)
      r *= sqrt(stage[j].kind == SEPTUNE_OP_DEPTHWISE ? (double)(stage[j].u.dw.kh * stage[j].u.dw.kw)
                                                      : (double)stage[j].u.pw.ci) + 1.0;
    rel += r;
  }
  return rel;
}

int septune_check_output(const septune_op *op, const float *want, const float *got, size_t n,
                         septune_check_result *res)
{
  double rel = !op ? layer_bound(&(septune_op){ .kind = 0 })
               : op->kind == SEPTUNE_OP_SEPARABLE || op->kind == SEPTUNE_OP_INVERTED_RESIDUAL ? block_bound(op)
                                                                                              : layer_bound(op);
  septune_check_result r;
  memset(&r, 0, sizeof r);
  for (size_t i = 0; i < n; i++) {
    double w = want[i], g = got[i];
    if (isfinite(w) && !isfinite(g)) {
      r.non_finite++;
      r.worst_index = i;
      r.worst_ratio = INFINITY;
      continue;
    }
    double err = fabs(g - w);
    double ratio = err / (rel * (1.0 + fabs(w)));
    if (err > r.max_abs_error) r.max_abs_error = err;
    if (ratio > r.worst_ratio) {
      r.worst_ratio = ratio;
      r.worst_index = i;
    }
  }
  if (res) *res = r;
  return r.non_finite == 0 && r.worst_ratio <= 1.0;
}

unsigned long long septune_random_next(unsigned long long *state)
{
  unsigned long long s = *state ? *state : 0x9e3779b97f4a7c15ull;
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  *state = s;
  return s * 0x2545f4914f6cdd1dull;
}

void septune_fill_random(float *x, size_t n, unsigned long long *seed)
{
  for (size_t i = 0; i < n; i++)
    x[i] = (float)((double)(septune_random_next(seed) >> 11) * (2.0 / 9007199254740992.0) - 1.0);
}
