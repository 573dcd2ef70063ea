/*
 * fuzz_db.c — the tuning-database loader and rewriter (runtime/src/db_*.c)
 * on the input written to a database file.
 *
 * Loading never fails on a regular file. What the loader keeps and warns
 * about agrees with how the rewriter classifies the same lines. Every
 * record formats to a line that parses back to it; selecting its key finds
 * it, selecting any ISA finds the fastest of its key's records; adding the
 * records to a new database keeps them all. Storing one record (a faster
 * copy of one of the file's, or a new one) loses nothing else: every other
 * record, and every line the loader could not read, is still there after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  return 0;
}

static long count_lines(const uint8_t *data, size_t size)
{
  long n = 0;
  for (size_t pos = 0; pos < size; n++) {
    const uint8_t *nl = memchr(data + pos, '\n', size - pos);
    pos = nl ? (size_t)(nl - data) + 1 : size;
  }
  return n;
}

typedef struct warnings {
  const char *path;
  long lines;
  size_t n;
} warnings;

static void on_warning(void *ctx, const char *path, long line, const char *why)
{
  warnings *w = ctx;
  FUZZ_CHECK(strcmp(path, w->path) == 0, "warning for path %s", path);
  FUZZ_CHECK(line >= 1 && line <= w->lines, "warning for line %ld of %ld", line, w->lines);
  FUZZ_CHECK(why && why[0], "warning for line %ld without a reason", line);
  w->n++;
}

/* The rewriter's view of the lines (a dry run); lines < 0: any number. */
typedef struct kinds {
  size_t n[SEPTUNE_DB_LINE_BAD + 1];
  long last;
} kinds;

static int on_line(void *ctx, long line, septune_db_line_kind kind, const char *text, const septune_db_record *rec,
                   const char *why)
{
  kinds *k = ctx;
  FUZZ_CHECK(line == k->last + 1, "line %ld asked after line %ld", line, k->last);
  k->last = line;
  FUZZ_CHECK(kind >= SEPTUNE_DB_LINE_RECORD && kind <= SEPTUNE_DB_LINE_BAD, "line %ld: kind %d", line, (int)kind);
  FUZZ_CHECK(text != NULL, "line %ld without its text", line);
  int is_record = kind == SEPTUNE_DB_LINE_RECORD || kind == SEPTUNE_DB_LINE_SUPERSEDED;
  FUZZ_CHECK(is_record == (rec != NULL), "line %ld: kind %d with record %p", line, (int)kind, (const void *)rec);
  int has_why = kind == SEPTUNE_DB_LINE_SUPERSEDED || kind == SEPTUNE_DB_LINE_NEWER || kind == SEPTUNE_DB_LINE_BAD;
  FUZZ_CHECK(has_why == (why != NULL && why[0]), "line %ld: kind %d with reason '%s'", line, (int)kind,
             why ? why : "(null)");
  k->n[kind]++;
  return 1;
}

static kinds classify(const char *path, long lines)
{
  kinds k;
  septune_db_update u;
  septune_error err;
  memset(&k, 0, sizeof k);
  memset(&u, 0, sizeof u);
  u.keep = on_line;
  u.ctx = &k;
  u.dry_run = 1;
  FUZZ_CHECK(septune_db_update_file(path, &u, &err) == SEPTUNE_OK, "dry run: %s", err.message);
  FUZZ_CHECK(lines < 0 || k.last == lines, "dry run asked about %ld of %ld lines", k.last, lines);
  FUZZ_CHECK(u.dropped == 0 && u.added == 0, "a dry run that keeps everything dropped %zu", u.dropped);
  return k;
}

static septune_db_query key_query(const septune_db_record *r, septune_isa isa)
{
  septune_db_query q;
  memset(&q, 0, sizeof q);
  q.cpu = r->cpu;
  q.threads = r->threads;
  q.template_version = r->template_version;
  q.op = &r->op;
  q.isa = isa;
  q.widest = SEPTUNE_ISA_AUTO;
  return q;
}

static int same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static int same_record(const septune_db_record *a, const septune_db_record *b)
{
  return septune_db_same_key(a, b) && strcmp(a->knobs, b->knobs) == 0 && same_double(a->median_us, b->median_us) &&
         same_double(a->min_us, b->min_us) && same_double(a->gflops, b->gflops) &&
         same_double(a->default_us, b->default_us) && a->date == b->date;
}

/* Record i formats to a line that parses back to it, and formats again to
 * the same line. */
static void check_round_trip(const septune_db_record *r)
{
  char line[8192], again[8192];
  septune_db_record back;
  septune_error err;
  int n = septune_db_format(r, line, sizeof line);
  FUZZ_CHECK(n > 0 && (size_t)n < sizeof line, "a loaded record formats to %d characters", n);
  FUZZ_CHECK(septune_db_parse(line, &back, &err) == SEPTUNE_OK, "'%s' does not parse: %s", line, err.message);
  FUZZ_CHECK(same_record(r, &back), "'%s' parses to another record", line);
  FUZZ_CHECK(septune_db_format(&back, again, sizeof again) == n && strcmp(line, again) == 0, "'%s' became '%s'", line,
             again);
}

static void check_select(const septune_db *db, size_t i)
{
  const septune_db_record *r = septune_db_get(db, i);
  septune_db_query q = key_query(r, r->isa);
  FUZZ_CHECK(septune_db_select(db, &q) == r, "record %zu is not found by its key", i);
  q = key_query(r, SEPTUNE_ISA_AUTO);
  const septune_db_record *best = septune_db_select(db, &q);
  FUZZ_CHECK(best != NULL && best->median_us <= r->median_us, "any-ISA select of record %zu", i);
  FUZZ_CHECK(strcmp(best->cpu, r->cpu) == 0 && best->threads == r->threads &&
                 best->template_version == r->template_version,
             "any-ISA select of record %zu found another key", i);
  q.widest = r->isa;
  best = septune_db_select(db, &q);
  FUZZ_CHECK(best != NULL && best->isa <= r->isa && best->median_us <= r->median_us, "select up to %s of record %zu",
             septune_isa_name(r->isa), i);
}

/* The record stored: a faster copy of one of the file's, or a fixed one. */
static septune_db_record record_to_store(const septune_db *db, const uint8_t *data, size_t size)
{
  septune_db_record r;
  septune_error err;
  size_t n = septune_db_count(db);
  if (n) {
    r = *septune_db_get(db, (size ? data[size - 1] : 0) % n);
    r.median_us /= 2;
    snprintf(r.knobs, sizeof r.knobs, "stored=1");
    return r;
  }
  FUZZ_CHECK(septune_db_parse("septune-db/1\tcpu=Fuzz:1.2.3:Fuzz_CPU:sse:l1d=32K,l2=256K,l3=0K\tthreads=1\ttv=1\t"
                              "isa=sse\top=pw h=2 w=2 ci=3 co=4\tknobs=stored=1\tmedian_us=1.5\tmin_us=1.25\t"
                              "gflops=2\tdate=2024-01-02T03:04:05Z",
                              &r, &err) == SEPTUNE_OK,
             "the fixed record: %s", err.message);
  return r;
}

/* Stores one record and checks that nothing else was lost. */
static void check_store(const char *path, const septune_db *db, const kinds *before, const uint8_t *data, size_t size)
{
  septune_db_record r = record_to_store(db, data, size);
  septune_db_query q = key_query(&r, r.isa);
  int existed = septune_db_select(db, &q) != NULL;
  septune_db *after;
  septune_error err;
  FUZZ_CHECK(septune_db_store(path, &r, 1, &err) == SEPTUNE_OK, "store: %s", err.message);
  FUZZ_CHECK(septune_db_load(path, &after, NULL, NULL, &err) == SEPTUNE_OK, "reload: %s", err.message);
  FUZZ_CHECK(septune_db_count(after) == septune_db_count(db) + !existed, "%zu records, %zu after storing one",
             septune_db_count(db), septune_db_count(after));
  const septune_db_record *got = septune_db_select(after, &q);
  FUZZ_CHECK(got && same_record(got, &r), "the stored record is not in the file");
  for (size_t i = 0; i < septune_db_count(db); i++) {
    const septune_db_record *old = septune_db_get(db, i);
    if (septune_db_same_key(old, &r)) continue;
    septune_db_query k = key_query(old, old->isa);
    got = septune_db_select(after, &k);
    FUZZ_CHECK(got && same_record(got, old), "record %zu was lost by storing another", i);
  }
  kinds now = classify(path, -1);
  FUZZ_CHECK(now.n[SEPTUNE_DB_LINE_NEWER] == before->n[SEPTUNE_DB_LINE_NEWER] &&
                 now.n[SEPTUNE_DB_LINE_BAD] == before->n[SEPTUNE_DB_LINE_BAD],
             "newer-format lines %zu -> %zu, unreadable lines %zu -> %zu", before->n[SEPTUNE_DB_LINE_NEWER],
             now.n[SEPTUNE_DB_LINE_NEWER], before->n[SEPTUNE_DB_LINE_BAD], now.n[SEPTUNE_DB_LINE_BAD]);
  septune_db_free(after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  warnings w = { fuzz_write_file("tuning.db", data, size), count_lines(data, size), 0 };
  septune_db *db;
  septune_error err;
  FUZZ_CHECK(septune_db_load(w.path, &db, on_warning, &w, &err) == SEPTUNE_OK, "load: %s", err.message);
  size_t n = septune_db_count(db);
  kinds k = classify(w.path, w.lines);
  FUZZ_CHECK(k.n[SEPTUNE_DB_LINE_RECORD] == n, "the loader keeps %zu records, the rewriter sees %zu", n,
             k.n[SEPTUNE_DB_LINE_RECORD]);
  FUZZ_CHECK(w.n == k.n[SEPTUNE_DB_LINE_SUPERSEDED] + k.n[SEPTUNE_DB_LINE_NEWER] + k.n[SEPTUNE_DB_LINE_BAD],
             "%zu warnings for %zu superseded, %zu newer and %zu bad lines", w.n, k.n[SEPTUNE_DB_LINE_SUPERSEDED],
             k.n[SEPTUNE_DB_LINE_NEWER], k.n[SEPTUNE_DB_LINE_BAD]);

  septune_db *copy = septune_db_new();
  FUZZ_CHECK(copy != NULL, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const septune_db_record *r = septune_db_get(db, i);
    check_round_trip(r);
    check_select(db, i);
    FUZZ_CHECK(septune_db_add(copy, r, &err) == SEPTUNE_OK, "adding record %zu: %s", i, err.message);
  }
  FUZZ_CHECK(septune_db_count(copy) == n, "%zu records added, %zu kept", n, septune_db_count(copy));
  FUZZ_CHECK(septune_db_get(db, n) == NULL, "record %zu of %zu", n, n);
  septune_db_free(copy);

  check_store(w.path, db, &k, data, size);
  septune_db_free(db);
  return 0;
}
