/*
 * check.h — comparing a kernel's output with the reference's, and the one
 * generator of reproducible data; used by the tests, the benchmarks, the
 * septune command and the tuner (its check of every candidate and the
 * random order of its search).
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

/* The accuracy septune.h states for the kernels of act: every kernel's
 * activation of its accumulator x is within rel * max(|f(x)|, floor) of the
 * exact f(x). *slope bounds |f'(x)| (1 + |x|) / (1 + |f(x)|) over all x: how
 * much a relative error of x (another summation order) grows through f. Any
 * pointer may be NULL. */
void septune_activation_accuracy(septune_activation act, double *rel, double *floor, double *slope);

/* Compares `got` with the reference output `want` (n elements) of `op`. The
 * bound per element is rel * (1 + |want|) with rel growing with the number of
 * terms summed (taps or ci): float rounding of a different summation order,
 * times the activation's slope, plus the activation's own error
 * (septune_activation_accuracy). A block (separable, inverted residual)
 * adds its stages' bounds, each grown by sqrt(terms) + 1 of every later
 * stage (check.c says why). Returns 1 when every element is within its
 * bound, else 0. */
int septune_check_output(const septune_op *op, const float *want, const float *got, size_t n,
                         septune_check_result *res);

/* The next value of the xorshift64* sequence in *state (Marsaglia's
 * xorshift, the output multiplied by an odd constant so that low bits mix
 * too). A state of 0, which xorshift cannot leave, is taken as a fixed
 * non-zero one. The same sequence on every platform. */
unsigned long long septune_random_next(unsigned long long *state);

/* Fills x[0..n) with reproducible values in [-1, 1) drawn from *seed
 * (septune_random_next). */
void septune_fill_random(float *x, size_t n, unsigned long long *seed);

#endif
