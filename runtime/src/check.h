/*
 * check.h — comparing a kernel's output with the reference's, shared by the
 * tests, the septune command and (later) the tuner's validation step.
 */
#ifndef SEPTUNE_CHECK_H
#define SEPTUNE_CHECK_H

#include <stddef.h>

#include "septune.h"

typedef struct septune_check_result {
  size_t worst_index;   /* element with the largest error relative to its bound */
  double max_abs_error; /* largest |got - want| over all elements */
  double worst_ratio;   /* largest |got - want| / bound; > 1 means a mismatch */
  int non_finite;       /* count of NaN/inf in got where want is finite */
} septune_check_result;

/* Compares `got` with the reference output `want` (n elements) of `op`. The
 * bound per element is rel * (1 + |want|) with rel growing with the number of
 * terms summed (taps or ci): float rounding of a different summation order.
 * Returns 1 when every element is within its bound, else 0. */
int septune_check_output(const septune_op *op, const float *want, const float *got, size_t n,
                         septune_check_result *res);

/* Fills x[0..n) with reproducible values in [-1, 1) from *seed (xorshift). */
void septune_fill_random(float *x, size_t n, unsigned long long *seed);

#endif
