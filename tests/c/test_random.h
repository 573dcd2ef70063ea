/*
 * test_random.h — the randomized tests' reproducible draws (the runtime's
 * septune_random_next) and their environment overrides (SEPTUNE_TEST_SEED,
 * SEPTUNE_TEST_SHAPES).
 */
#ifndef SEPTUNE_TEST_RANDOM_H
#define SEPTUNE_TEST_RANDOM_H

#include <stdint.h>
#include <stdlib.h>

#include "check.h"

static unsigned long long rng_state;

static inline uint64_t rng(void) { return septune_random_next(&rng_state); }

/* Uniform in [lo, hi]. */
static inline int64_t pick(int64_t lo, int64_t hi) { return lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1)); }

/* The value of environment variable `name` as a number, else fallback. */
static inline unsigned long long env_ull(const char *name, unsigned long long fallback)
{
  const char *v = getenv(name);
  return (v && *v) ? strtoull(v, NULL, 0) : fallback;
}

#endif
