/*
 * search.c — knob spaces and the search strategies (see search.h).
 */
#include "search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "septune.h"

/* ------------------------------------------------------------------------ */
/* Spaces */

void search_space_free(search_space *s)
{
  if (!s) return;
  for (size_t j = 0; j < s->n_knobs; j++) free(s->names[j]);
  for (size_t i = 0; i < s->n; i++) free(s->text[i]);
  free(s->names);
  free(s->text);
  free(s->values);
  memset(s, 0, sizeof *s);
}

/* Splits "a=1,b=2" into names and values (at most max items). Returns the
 * number of items, or -1 when malformed. names[k] point into buf. */
static long split_knobs(char *buf, char **names, int *values, size_t max)
{
  size_t k = 0;
  char *p = buf;
  while (*p) {
    char *item = p;
    char *comma = strchr(p, ',');
    if (comma) *comma = 0;
    p = comma ? comma + 1 : p + strlen(p);
    char *eq = strchr(item, '=');
    if (!eq || eq == item || k == max) return -1;
    *eq = 0;
    char *end;
    long v = strtol(eq + 1, &end, 10);
    if (end == eq + 1 || *end || v < -1000000 || v > 1000000) return -1;
    names[k] = item;
    values[k] = (int)v;
    k++;
  }
  return (long)k;
}

#define MAX_KNOBS 32

/* Appends one configuration; the first one defines the knob names. */
static int space_append(search_space *s, const char *line, size_t *cap, char *why, size_t why_size)
{
  char buf[SEPTUNE_KNOBS_SIZE];
  char *names[MAX_KNOBS];
  int values[MAX_KNOBS];
  if (strlen(line) >= sizeof buf) {
    snprintf(why, why_size, "knob string too long: '%.40s...'", line);
    return -1;
  }
  strcpy(buf, line);
  long k = split_knobs(buf, names, values, MAX_KNOBS);
  if (k <= 0) {
    snprintf(why, why_size, "malformed knob string '%s' (expected name=integer,...)", line);
    return -1;
  }
  if (s->n == 0 && s->n_knobs == 0) {
    s->names = calloc((size_t)k, sizeof *s->names);
    if (!s->names) goto oom;
    s->n_knobs = (size_t)k;
    for (long j = 0; j < k; j++)
      if (!(s->names[j] = strdup(names[j]))) goto oom;
  } else {
    int same = (size_t)k == s->n_knobs;
    for (long j = 0; same && j < k; j++) same = !strcmp(names[j], s->names[j]);
    if (!same) {
      snprintf(why, why_size, "knob string '%s' does not have the knobs of the space's first line", line);
      return -1;
    }
  }
  if (s->n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 64;
    char **t = realloc(s->text, ncap * sizeof *t);
    if (!t) goto oom;
    s->text = t;
    int *v = realloc(s->values, ncap * s->n_knobs * sizeof *v);
    if (!v) goto oom;
    s->values = v;
    *cap = ncap;
  }
  if (!(s->text[s->n] = strdup(line))) goto oom;
  memcpy(s->values + s->n * s->n_knobs, values, s->n_knobs * sizeof *values);
  s->n++;
  return 0;
oom:
  snprintf(why, why_size, "out of memory reading the knob space");
  return -1;
}

int search_space_parse(const char *listing, search_space *s, char *why, size_t why_size)
{
  memset(s, 0, sizeof *s);
  size_t cap = 0;
  const char *p = listing ? listing : "";
  while (*p) {
    size_t len = strcspn(p, "\n");
    char line[SEPTUNE_KNOBS_SIZE];
    if (len >= sizeof line) {
      snprintf(why, why_size, "knob string too long: '%.40s...'", p);
      search_space_free(s);
      return -1;
    }
    memcpy(line, p, len);
    line[len] = 0;
    p += len + (p[len] == '\n');
    if (strspn(line, " \t\r") == len) continue;
    if (space_append(s, line, &cap, why, why_size) != 0) {
      search_space_free(s);
      return -1;
    }
  }
  return 0;
}

long search_space_find(const search_space *s, const char *knobs)
{
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->text[i], knobs)) return (long)i;
  return -1;
}

long search_space_add(search_space *s, const char *knobs)
{
  long i = search_space_find(s, knobs);
  if (i >= 0) return i;
  char why[128];
  size_t cap = s->n; /* full: space_append grows the arrays */
  if (space_append(s, knobs, &cap, why, sizeof why) != 0) return -1;
  return (long)s->n - 1;
}

size_t search_space_distance(const search_space *s, size_t a, size_t b)
{
  size_t d = 0;
  const int *va = s->values + a * s->n_knobs, *vb = s->values + b * s->n_knobs;
  for (size_t j = 0; j < s->n_knobs; j++) d += va[j] != vb[j];
  return d;
}

/* ------------------------------------------------------------------------ */
/* Search */

void search_trace_free(search_trace *t)
{
  if (!t) return;
  free(t->order);
  free(t->costs);
  memset(t, 0, sizeof *t);
}

typedef struct searcher {
  const search_space *s;
  const search_options *o;
  const search_callbacks *cb;
  search_trace *t;
  double *cost;        /* per configuration; NAN while not evaluated */
  unsigned char *climbed;
  size_t *perm;        /* every configuration in a seeded random order */
  size_t cursor;       /* next position of perm for random sampling */
  int stopped;         /* budget or candidate limit reached */
} searcher;

static int evaluated(const searcher *z, size_t i) { return !isnan(z->cost[i]); }

/* Evaluates configuration i unless done before. Returns 0, or -1 once the
 * search must stop (the budget or the candidate limit is reached). */
static int visit(searcher *z, size_t i)
{
  if (z->stopped) return -1;
  if (evaluated(z, i)) return 0;
  /* The start (the default) is evaluated whatever the budget: every tune
   * measures the default. */
  int first = z->t->n == 0;
  if (!first && ((z->o->max_candidates && z->t->n >= z->o->max_candidates) || z->cb->spent(z->cb->ctx) >= 1)) {
    z->stopped = 1;
    return -1;
  }
  double c = z->cb->cost(z->cb->ctx, i);
  if (isnan(c)) c = INFINITY;
  z->cost[i] = c;
  z->t->order[z->t->n] = i;
  z->t->costs[z->t->n] = c;
  z->t->n++;
  return 0;
}

/* The next configuration of the random order not evaluated yet; -1 when
 * none is left. */
static long next_sample(searcher *z)
{
  while (z->cursor < z->s->n) {
    size_t i = z->perm[z->cursor++];
    if (!evaluated(z, i)) return (long)i;
  }
  return -1;
}

/* The best evaluated, finite configuration not climbed from yet; -1 if none. */
static long best_unclimbed(const searcher *z)
{
  long best = -1;
  for (size_t i = 0; i < z->s->n; i++)
    if (evaluated(z, i) && !z->climbed[i] && isfinite(z->cost[i]) && (best < 0 || z->cost[i] < z->cost[best]))
      best = (long)i;
  return best;
}

/* Best-improvement hill climbing from `from`: evaluates every neighbour
 * (configurations differing in one knob, in the seeded random order), moves
 * to the best one while it improves. */
static void climb(searcher *z, size_t from)
{
  size_t cur = from;
  z->t->climbs++;
  for (;;) {
    z->climbed[cur] = 1;
    long best = -1;
    for (size_t p = 0; p < z->s->n; p++) {
      size_t i = z->perm[p];
      if (search_space_distance(z->s, cur, i) != 1) continue;
      if (visit(z, i) != 0) return;
      if (best < 0 || z->cost[i] < z->cost[best]) best = (long)i;
    }
    if (best < 0 || !(z->cost[best] < z->cost[cur])) return;
    cur = (size_t)best;
  }
}

int search_run(const search_space *s, const search_options *o, const search_callbacks *cb, search_trace *t)
{
  memset(t, 0, sizeof *t);
  if (s->n == 0) return 0;
  searcher z = { s, o, cb, t, NULL, NULL, NULL, 0, 0 };
  t->order = malloc(s->n * sizeof *t->order);
  t->costs = malloc(s->n * sizeof *t->costs);
  z.cost = malloc(s->n * sizeof *z.cost);
  z.climbed = calloc(s->n, 1);
  z.perm = malloc(s->n * sizeof *z.perm);
  int rc = -1;
  if (!t->order || !t->costs || !z.cost || !z.climbed || !z.perm) goto done;
  rc = 0;

  unsigned long long rng = o->seed;
  for (size_t i = 0; i < s->n; i++) {
    z.cost[i] = NAN;
    z.perm[i] = i;
  }
  for (size_t i = s->n - 1; i > 0; i--) {
    size_t j = (size_t)(septune_random_next(&rng) % (i + 1));
    size_t tmp = z.perm[i];
    z.perm[i] = z.perm[j];
    z.perm[j] = tmp;
  }

  size_t start = o->start < s->n ? o->start : 0;
  if (visit(&z, start) != 0) goto done;

  if (s->n <= o->exhaustive_max) {
    t->exhaustive = 1;
    long i;
    while ((i = next_sample(&z)) >= 0)
      if (visit(&z, (size_t)i) != 0) break;
    goto done;
  }

  /* Random sampling over a share of the budget and of the candidate limit. */
  double share = o->sample_share > 0 ? o->sample_share : 0.35;
  size_t sample_max = o->max_candidates ? (size_t)ceil(share * (double)o->max_candidates) : s->n;
  while (t->n < sample_max && cb->spent(cb->ctx) < share) {
    long i = next_sample(&z);
    if (i < 0 || visit(&z, (size_t)i) != 0) break;
  }
  /* Then climb from the best point not climbed from yet; when every finite
   * point has been a start, sample one more point and try again. */
  while (!z.stopped) {
    long from = best_unclimbed(&z);
    if (from >= 0) {
      climb(&z, (size_t)from);
      continue;
    }
    long i = next_sample(&z);
    if (i < 0 || visit(&z, (size_t)i) != 0) break;
  }
done:
  free(z.cost);
  free(z.climbed);
  free(z.perm);
  return rc;
}
