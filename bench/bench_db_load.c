/*
 * bench_db_load — how long the tuning database takes with many records:
 * writing them, loading the file, selecting a record, and the lookup every
 * plan makes (the first one parses the file, later ones share the copy).
 *
 *   bench_db_load [--records N] [--lookups M]   (defaults: 100000, 10000)
 *
 * The records are this machine's (single thread, the current template
 * version, scalar), one per pointwise shape, so every lookup finds one. The
 * file goes to a fresh directory under $TMPDIR (else /tmp) and is removed
 * at the end. Times are wall-clock on whatever else the machine is doing:
 * read them as orders of magnitude, and compare runs on one machine.
 *
 * Exit status: 0, or 1 when a step failed (the message says which).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "internal.h"
#include "timing.h"

#define PROG "bench_db_load"

static int fail(const char *what, const septune_error *err)
{
  fprintf(stderr, PROG ": %s: %s\n", what, err ? err->message : strerror(errno));
  return 1;
}

/* The i-th shape: pw 7x7 with ci and co from i, all distinct. */
static septune_op shape(long i)
{
  septune_op op;
  memset(&op, 0, sizeof op);
  op.kind = SEPTUNE_OP_POINTWISE;
  septune_pointwise_desc_init(&op.u.pw);
  op.u.pw.h = 7;
  op.u.pw.w = 7;
  op.u.pw.ci = 1 + i % 1000;
  op.u.pw.co = 1 + i / 1000;
  return op;
}

static long arg_long(const char *s)
{
  char *end;
  long v = strtol(s, &end, 10);
  return *end || v < 1 ? -1 : v;
}

int main(int argc, char **argv)
{
  long n = 100000, lookups = 10000;
  for (int i = 1; i < argc; i++) {
    long *dst = !strcmp(argv[i], "--records") ? &n : !strcmp(argv[i], "--lookups") ? &lookups : NULL;
    if (!dst || i + 1 == argc || (*dst = arg_long(argv[++i])) < 0) {
      fprintf(stderr, "usage: " PROG " [--records N] [--lookups M]\n");
      return 2;
    }
  }
  const char *tmp = getenv("TMPDIR");
  char dir[512], path[600];
  snprintf(dir, sizeof dir, "%s/" PROG "_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) return fail("mkdtemp", NULL);
  snprintf(path, sizeof path, "%s/tuning.db", dir);

  septune_error err;
  septune_db_record *recs = calloc((size_t)n, sizeof *recs);
  if (!recs) return fail("out of memory", NULL);
  int tv;
  char cpu[sizeof recs->cpu];
  if (septune_db_template_version(&tv, &err) != SEPTUNE_OK) return fail("template version", &err);
  septune_cpu_signature(cpu, sizeof cpu);
  for (long i = 0; i < n; i++) {
    septune_db_record *r = &recs[i];
    memcpy(r->cpu, cpu, sizeof cpu);
    r->threads = 1;
    r->template_version = tv;
    r->op = shape(i);
    r->isa = SEPTUNE_ISA_SCALAR;
    snprintf(r->knobs, sizeof r->knobs, "mr=1,nr=4,kc=0,mc=0,pf=0,ku=1,nt=0");
    r->median_us = r->min_us = 1.0 + (double)(i % 97);
    r->gflops = 1.0;
    r->date = (long long)time(NULL);
  }

  double t0 = bench_now_us();
  if (septune_db_store(path, recs, (size_t)n, &err) != SEPTUNE_OK) return fail("store", &err);
  double store_ms = (bench_now_us() - t0) / 1e3;
  struct stat st;
  if (stat(path, &st) != 0) return fail("stat", NULL);
  printf(PROG ": %ld records, %.1f MB\n", n, (double)st.st_size / 1e6);
  printf("  septune_db_store, all records          %10.1f ms\n", store_ms);

  septune_db *db = NULL;
  t0 = bench_now_us();
  if (septune_db_load(path, &db, NULL, NULL, &err) != SEPTUNE_OK) return fail("load", &err);
  printf("  septune_db_load                        %10.1f ms\n", (bench_now_us() - t0) / 1e3);
  if (septune_db_count(db) != (size_t)n) {
    fprintf(stderr, PROG ": loaded %zu records, not %ld\n", septune_db_count(db), n);
    return 1;
  }

  septune_db_query q = {cpu, 1, tv, NULL, SEPTUNE_ISA_AUTO, septune_db_signature_isa(cpu)};
  septune_op *ops = malloc((size_t)lookups * sizeof *ops);
  if (!ops) return fail("out of memory", NULL);
  for (long k = 0; k < lookups; k++) ops[k] = shape((long)((unsigned long long)k * 7919 % (unsigned long long)n));
  t0 = bench_now_us();
  for (long k = 0; k < lookups; k++) {
    q.op = &ops[k];
    if (!septune_db_select(db, &q)) {
      fprintf(stderr, PROG ": select found no record for lookup %ld\n", k);
      return 1;
    }
  }
  printf("  septune_db_select                      %10.2f us per call (%ld calls)\n",
         (bench_now_us() - t0) / (double)lookups, lookups);
  septune_db_free(db);

  /* What plans do. The file is dated back a minute, as a database not
   * written just now is: a file changed in the last two seconds is parsed
   * on every lookup (db_lookup.c says why). */
  struct timespec old[2];
  clock_gettime(CLOCK_REALTIME, &old[0]);
  old[0].tv_sec -= 60;
  old[1] = old[0];
  if (utimensat(AT_FDCWD, path, old, 0) != 0) return fail("utimensat", NULL);
  septune_db_record got;
  int found = 0;
  t0 = bench_now_us();
  if (septune_db_lookup(path, &ops[0], SEPTUNE_ISA_AUTO, 1, &got, &found, &err) != SEPTUNE_OK || !found)
    return fail("lookup", &err);
  printf("  septune_db_lookup, first (parses)      %10.1f ms\n", (bench_now_us() - t0) / 1e3);
  t0 = bench_now_us();
  for (long k = 0; k < lookups; k++)
    if (septune_db_lookup(path, &ops[k], SEPTUNE_ISA_AUTO, 1, &got, &found, &err) != SEPTUNE_OK || !found)
      return fail("lookup", &err);
  printf("  septune_db_lookup, shared copy         %10.2f us per call (%ld calls, %lu parse%s in all)\n",
         (bench_now_us() - t0) / (double)lookups, lookups, septune_db_lookup_loads(),
         septune_db_lookup_loads() == 1 ? "" : "s");

  septune_db_record one = recs[0];
  one.median_us = 0.5;
  t0 = bench_now_us();
  if (septune_db_store(path, &one, 1, &err) != SEPTUNE_OK) return fail("store", &err);
  printf("  septune_db_store, one record           %10.1f ms\n", (bench_now_us() - t0) / 1e3);

  unlink(path);
  strcat(path, ".lock");
  unlink(path);
  rmdir(dir);
  free(ops);
  free(recs);
  return 0;
}
