/*
 * test_split.h — drawing a work split for the randomized kernel tests: a
 * complete knob string from the generator's split space of a knob set for a
 * thread count (rb, cb, th / mc, np, th), and the check that a plan's knobs
 * are the ones asked for, whose split knobs the plan may have filled in.
 */
#ifndef SEPTUNE_TEST_SPLIT_H
#define SEPTUNE_TEST_SPLIT_H

#include <stdlib.h>
#include <string.h>

#include "generator.h"
#include "septune.h"
#include "test_random.h"

/* A random line of the split space of `knobs` (a knob string, with or
 * without its split knobs) for `threads` threads, malloc'd; NULL when the
 * generator refuses (the caller then keeps its knobs). */
static inline char *random_split(const septune_op *op, septune_isa isa, const char *knobs, int threads)
{
  septune_gen_request req = { knobs, NULL, NULL, threads, 0 };
  char *space = NULL;
  if (septune_gen_call("split_space", op, isa, &req, &space, NULL) != SEPTUNE_OK) return NULL;
  size_t lines = 1;
  for (char *p = space; *p; p++) lines += *p == '\n';
  char *line = space;
  for (size_t i = (size_t)(rng() % lines); i > 0; i--) line = strchr(line, '\n') + 1;
  size_t len = strcspn(line, "\n");
  char *out = malloc(len + 1);
  if (out) {
    memcpy(out, line, len);
    out[len] = 0;
  }
  free(space);
  return out;
}

/* 1 when a plan's knobs `got` are `asked`, or `asked` followed by the split
 * knobs the plan filled in. */
static inline int knobs_as_asked(const char *got, const char *asked)
{
  size_t n = strlen(asked);
  return strncmp(got, asked, n) == 0 && (got[n] == 0 || got[n] == ',');
}

#endif
