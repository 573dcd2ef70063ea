/*
 * search.h — the tuner's search over a knob space: exhaustive for small
 * spaces, random sampling then hill climbing for large ones, under a budget,
 * reproducible for a given seed.
 *
 * The search knows nothing of kernels or clocks: it asks a callback for the
 * cost of a configuration (its time; INFINITY when it failed) and another
 * for how much of the budget is spent, so tests can drive it with a
 * synthetic cost.
 */
#ifndef SEPTUNE_SEARCH_H
#define SEPTUNE_SEARCH_H

#include <stddef.h>

/* A knob space as listed by the generator: one canonical knob string
 * ("ct=2,wt=4,...") per configuration, every line with the same knob names
 * in the same order. */
typedef struct search_space {
  size_t n;          /* configurations */
  size_t n_knobs;
  char **names;      /* n_knobs knob names */
  int *values;       /* n * n_knobs: values[i * n_knobs + j] is knob j of config i */
  char **text;       /* n knob strings */
} search_space;

/* Parses the generator's listing (lines separated by '\n'; blank lines
 * ignored). Returns 0, or -1 with a reason in why (a malformed line, knob
 * names that differ between lines, out of memory). */
int search_space_parse(const char *listing, search_space *s, char *why, size_t why_size);

/* Adds one configuration (a knob string with the space's knob names) unless
 * present; returns its index, or -1 when it does not fit the space. */
long search_space_add(search_space *s, const char *knobs);

/* Index of the configuration with this exact knob string, or -1. */
long search_space_find(const search_space *s, const char *knobs);

void search_space_free(search_space *s);

/* Number of knobs in which configurations a and b differ. */
size_t search_space_distance(const search_space *s, size_t a, size_t b);

typedef struct search_callbacks {
  /* The cost of configuration i (lower is better; INFINITY for a failure).
   * Called at most once per configuration. */
  double (*cost)(void *ctx, size_t i);
  /* The share of the budget spent so far, >= 1 meaning exhausted. */
  double (*spent)(void *ctx);
  void *ctx;
} search_callbacks;

typedef struct search_options {
  unsigned long long seed;
  size_t start;            /* evaluated first: the default configuration */
  size_t max_candidates;   /* evaluations in all, the start included; 0: no limit */
  size_t exhaustive_max;   /* spaces of at most this many configurations are
                              evaluated entirely (budget permitting) */
  double sample_share;     /* guided search: share of the budget (and of
                              max_candidates) spent on random sampling before
                              hill climbing; <= 0 means 0.35 */
} search_options;

typedef struct search_trace {
  size_t *order;           /* configurations in the order evaluated */
  double *costs;           /* their costs */
  size_t n;
  int exhaustive;          /* 1 when the exhaustive strategy was used */
  size_t climbs;           /* hill climbs started */
} search_trace;

/* Runs the search. The start is always evaluated; then the search stops
 * when every configuration has been evaluated, when max_candidates is
 * reached, or when spent() reaches 1 (checked before each evaluation, so the
 * budget is a wall-clock bound when spent() reads a clock). Returns 0, or -1 on out of memory. The trace is filled either
 * way; free it with search_trace_free. */
int search_run(const search_space *s, const search_options *o, const search_callbacks *cb, search_trace *t);

void search_trace_free(search_trace *t);

#endif
