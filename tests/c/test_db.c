/*
 * test_db.c — the tuning database: exact round trips of records, tolerant
 * loading of damaged files, stores that replace by key and keep foreign
 * lines, two writers at once, writers killed mid-store, the record
 * selection plans and emit share, lookups for plans and the one parsed copy
 * they share, many records at once, and the template version both the C and
 * the Lua side read from one file. Files in hostile places: test_db_files.c.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "db.h"
#include "generator.h"
#include "internal.h"
#include "test_ops.h"

/* ---- helpers ------------------------------------------------------------ */

static char tmpdir[512];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void)sb; (void)flag; (void)ftw;
  return remove(path);
}

static int setup_dir(void **state)
{
  (void)state;
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/septune_test_db_XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmpdir)) return -1;
  return 0;
}

static int teardown_dir(void **state)
{
  (void)state;
  nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

static void path_in(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", tmpdir, name); }

static const char *const other_cpu = "OtherVendor:1.2.3:Some_CPU:sse:l1d=32K,l2=256K,l3=0K";

static septune_db_record make_rec(const septune_op *op, septune_isa isa, const char *cpu, double median)
{
  septune_db_record r;
  memset(&r, 0, sizeof r);
  snprintf(r.cpu, sizeof r.cpu, "%s", cpu);
  r.threads = 1;
  r.template_version = 1;
  r.op = *op;
  r.isa = isa;
  snprintf(r.knobs, sizeof r.knobs, "ct=2,wt=4");
  r.median_us = median;
  r.min_us = median * 0.9;
  r.gflops = 98.7;
  r.default_us = median * 1.25;
  r.date = 1795341600; /* 2026-11-22T10:00:00Z */
  return r;
}

static void format_ok(const septune_db_record *r, char *buf, size_t n)
{
  int len = septune_db_format(r, buf, n);
  if (len < 0 || (size_t)len >= n) fail_msg("septune_db_format failed (%d)", len);
}

static void write_text(const char *path, const char *text)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static char *read_text(const char *path)
{
  FILE *f = fopen(path, "rb");
  static char buf[1 << 20];
  size_t n;
  assert_non_null(f);
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

/* The whole file, malloc'd. */
static char *read_text_big(const char *path)
{
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  char *buf = malloc((size_t)st.st_size + 1);
  FILE *f = fopen(path, "rb");
  assert_true(buf && f);
  size_t n = fread(buf, 1, (size_t)st.st_size, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

/* Collects warnings: line numbers and messages. */
typedef struct warnings {
  long lines[64];
  char why[64][256];
  int n;
} warnings;

static void collect(void *ctx, const char *path, long line, const char *why)
{
  warnings *w = ctx;
  (void)path;
  if (w->n < 64) {
    w->lines[w->n] = line;
    snprintf(w->why[w->n], sizeof w->why[0], "%s", why);
  }
  w->n++;
}

static int has_warning(const warnings *w, long line, const char *word)
{
  for (int i = 0; i < w->n && i < 64; i++)
    if (w->lines[i] == line && strstr(w->why[i], word)) return 1;
  return 0;
}

static septune_db *load_ok(const char *path, warnings *w)
{
  septune_db *db = NULL;
  septune_error err;
  if (w) memset(w, 0, sizeof *w);
  if (septune_db_load(path, &db, w ? collect : NULL, w, &err) != SEPTUNE_OK)
    fail_msg("load %s: %s", path, err.message);
  assert_non_null(db);
  return db;
}

static void store_ok(const char *path, const septune_db_record *r, size_t n)
{
  septune_error err;
  if (septune_db_store(path, r, n, &err) != SEPTUNE_OK) fail_msg("store %s: %s", path, err.message);
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static void assert_same_record(const septune_db_record *a, const septune_db_record *b)
{
  char la[512], lb[512];
  assert_string_equal(a->cpu, b->cpu);
  assert_int_equal(a->threads, b->threads);
  assert_int_equal(a->template_version, b->template_version);
  assert_int_equal(a->isa, b->isa);
  assert_true(septune_op_format(&a->op, la, sizeof la) > 0);
  assert_true(septune_op_format(&b->op, lb, sizeof lb) > 0);
  assert_string_equal(la, lb);
  assert_string_equal(a->knobs, b->knobs);
  assert_true(same_bits(a->median_us, b->median_us));
  assert_true(same_bits(a->min_us, b->min_us));
  assert_true(same_bits(a->gflops, b->gflops));
  assert_true(same_bits(a->default_us, b->default_us));
  assert_true(a->date == b->date);
}

/* The record for a key; isa AUTO: the fastest of any ISA. */
static const septune_db_record *find(const septune_db *db, const char *cpu, int threads, int tv,
                                     const septune_op *op, septune_isa isa)
{
  septune_db_query q = {cpu, threads, tv, op, isa, SEPTUNE_ISA_AUTO};
  return septune_db_select(db, &q);
}

/* This CPU's key parts, as septune_db_lookup computes them. */
static void this_cpu(char *cpu, size_t n, int *tv)
{
  septune_error err;
  septune_cpu_signature(cpu, n);
  if (septune_db_template_version(tv, &err) != SEPTUNE_OK) fail_msg("template version: %s", err.message);
  assert_true(*tv >= 1);
}

/* ---- format and parse --------------------------------------------------- */

static void test_round_trip(void **state)
{
  (void)state;
  septune_op dw = make_dw(56, 57, 144, 3, 2), pw = make_pw(14, 14, 96, 576);
  septune_db_record recs[8];
  char line[4200];
  dw.u.dw.multiplier = 2;
  dw.u.dw.has_bias = 1;
  dw.u.dw.pad_top = 1;
  dw.u.dw.pad_left = 0;
  dw.u.dw.pad_bottom = 2;
  dw.u.dw.pad_right = 1;
  dw.u.dw.act = SEPTUNE_ACT_CLAMP;
  dw.u.dw.act_min = -0.1f;
  dw.u.dw.act_max = 6.25f;
  pw.u.pw.act = SEPTUNE_ACT_HSWISH;
  const double medians[] = {12.1, 0.1, 1.0 / 3.0, 3.0000000000000004, 1e-300, 123456789.123456789};
  int n = 0;
  for (int isa = SEPTUNE_ISA_SCALAR; isa <= SEPTUNE_ISA_AVX512; isa++) {
    recs[n] = make_rec(isa % 2 ? &dw : &pw, (septune_isa)isa, "GenuineIntel:6.143.8:Xeon:avx512:l1d=48K,l2=2048K,l3=107520K",
                       medians[n % 6]);
    recs[n].gflops = medians[(n + 1) % 6];
    recs[n].date = 1795341600LL + 86399LL * n;
    n++;
  }
  recs[n] = make_rec(&pw, SEPTUNE_ISA_AVX2, other_cpu, 2.5);
  recs[n].threads = 8;
  recs[n].template_version = 7;
  recs[n].default_us = 0;
  recs[n].min_us = 5e-324; /* the smallest subnormal */
  recs[n].date = 0;
  n++;
  recs[n] = make_rec(&dw, SEPTUNE_ISA_SSE, other_cpu, 4.0);
  recs[n].knobs[0] = '\0';
  recs[n].date = 253402300799LL;
  n++;
  for (int i = 0; i < n; i++) {
    septune_db_record back;
    septune_error err;
    format_ok(&recs[i], line, sizeof line);
    assert_int_equal(strncmp(line, "septune-db/1\t", 13), 0);
    assert_null(strchr(line, '\n'));
    if (septune_db_parse(line, &back, &err) != SEPTUNE_OK) fail_msg("'%s': %s", line, err.message);
    assert_same_record(&recs[i], &back);
    /* And it formats to the same line again. */
    char again[4200];
    format_ok(&back, again, sizeof again);
    assert_string_equal(line, again);
  }
  /* Readable numbers and dates. */
  format_ok(&recs[0], line, sizeof line);
  assert_non_null(strstr(line, "\tmedian_us=12.1\t"));
  assert_non_null(strstr(line, "\tdate=2026-11-22T10:00:00Z"));
  format_ok(&recs[n - 1], line, sizeof line);
  assert_non_null(strstr(line, "\tdate=9999-12-31T23:59:59Z"));
  assert_non_null(strstr(line, "\tknobs=\t"));
  /* snprintf-like: too small a buffer reports the length needed. */
  int len = septune_db_format(&recs[0], line, sizeof line);
  char small[10];
  assert_int_equal(septune_db_format(&recs[0], small, sizeof small), len);
  assert_int_equal(strlen(small), sizeof small - 1);
  assert_int_equal(septune_db_format(&recs[0], NULL, 0), len);
}

static void test_format_rejects_bad_records(void **state)
{
  (void)state;
  septune_op pw = make_pw(7, 7, 8, 8);
  char line[4200];
  septune_db_record r = make_rec(&pw, SEPTUNE_ISA_SSE, other_cpu, 1.0), b;
  format_ok(&r, line, sizeof line);
  b = r; b.median_us = NAN; assert_true(septune_db_format(&b, line, sizeof line) < 0);
  b = r; b.min_us = -1; assert_true(septune_db_format(&b, line, sizeof line) < 0);
  b = r; b.threads = 0; assert_true(septune_db_format(&b, line, sizeof line) < 0);
  b = r; b.isa = SEPTUNE_ISA_AUTO; assert_true(septune_db_format(&b, line, sizeof line) < 0);
  b = r; b.cpu[0] = '\0'; assert_true(septune_db_format(&b, line, sizeof line) < 0);
  b = r; strcpy(b.cpu, "has space"); assert_true(septune_db_format(&b, line, sizeof line) < 0);
  b = r; strcpy(b.knobs, "a=1\tb=2"); assert_true(septune_db_format(&b, line, sizeof line) < 0);
  b = r; b.op.u.pw.ci = 0; assert_true(septune_db_format(&b, line, sizeof line) < 0);
  b = r; b.date = -5; assert_true(septune_db_format(&b, line, sizeof line) < 0);
  septune_error err;
  septune_db *db = septune_db_new();
  assert_non_null(db);
  b = r; b.gflops = INFINITY;
  assert_int_equal(septune_db_add(db, &b, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "gflops"));
  assert_int_equal(septune_db_count(db), 0);
  septune_db_free(db);
}

/* A good line with field `key` replaced by `value` (or removed when value is
 * NULL) must fail to parse with a message containing `word`. */
static void parse_bad(const char *key, const char *value, const char *word)
{
  septune_op pw = make_pw(7, 7, 8, 8);
  septune_db_record r = make_rec(&pw, SEPTUNE_ISA_SSE, other_cpu, 1.0);
  char good[4200], line[8400], *p, *q;
  septune_error err;
  format_ok(&r, good, sizeof good);
  char pat[64];
  snprintf(pat, sizeof pat, "\t%s=", key);
  p = strstr(good, pat);
  assert_non_null(p);
  q = strchr(p + 1, '\t');
  if (!q) q = p + strlen(p);
  if (value)
    snprintf(line, sizeof line, "%.*s\t%s=%s%s", (int)(p - good), good, key, value, q);
  else
    snprintf(line, sizeof line, "%.*s%s", (int)(p - good), good, q);
  memset(&err, 0, sizeof err);
  septune_status st = septune_db_parse(line, &r, &err);
  if (st != SEPTUNE_ERR_PARSE || !strstr(err.message, word))
    fail_msg("%s=%s: status %d, message '%s' (want '%s')", key, value ? value : "(removed)", (int)st,
             err.message, word);
}

static void test_parse_errors(void **state)
{
  (void)state;
  char big[400];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  parse_bad("median_us", "abc", "median_us");
  parse_bad("median_us", "nan", "median_us");
  parse_bad("median_us", "-1", "median_us");
  parse_bad("median_us", "0", "median_us");
  parse_bad("median_us", "1e999", "median_us");
  parse_bad("median_us", "", "median_us");
  parse_bad("min_us", "inf", "min_us");
  parse_bad("default_us", "-2", "default_us");
  parse_bad("gflops", "12x", "gflops");
  parse_bad("threads", "0", "threads");
  parse_bad("threads", "1.5", "threads");
  parse_bad("tv", "0", "tv");
  parse_bad("isa", "avx9", "isa");
  parse_bad("isa", "auto", "isa");
  parse_bad("op", "xx h=5", "op");
  parse_bad("op", "pw h=5 w=5 ci=0 co=3", "op");
  parse_bad("date", "2026-13-01T00:00:00Z", "date");
  parse_bad("date", "2026-02-29T00:00:00Z", "date");
  parse_bad("date", "2026-11-22", "date");
  parse_bad("cpu", big, "cpu");
  parse_bad("cpu", "", "cpu");
  parse_bad("knobs", big, "knobs");
  parse_bad("date", NULL, "missing field date");
  parse_bad("op", NULL, "missing field op");
  parse_bad("isa", NULL, "missing field isa");

  septune_op pw = make_pw(7, 7, 8, 8);
  septune_db_record r = make_rec(&pw, SEPTUNE_ISA_SSE, other_cpu, 1.0), back;
  char good[4200], line[8400];
  septune_error err;
  format_ok(&r, good, sizeof good);
  /* Repeated field. */
  snprintf(line, sizeof line, "%s\ttv=1", good);
  assert_int_equal(septune_db_parse(line, &back, &err), SEPTUNE_ERR_PARSE);
  assert_non_null(strstr(err.message, "tv: repeated"));
  /* Unknown fields are a later writer's business: ignored. */
  snprintf(line, sizeof line, "%s\tpeak_mb=3.5\tnote=x=y", good);
  assert_int_equal(septune_db_parse(line, &back, &err), SEPTUNE_OK);
  assert_same_record(&r, &back);
  /* default_us may be absent (unknown). */
  parse_bad("default_us", "x", "default_us");
  char *p = strstr(good, "\tdefault_us=");
  char *q = strchr(p + 1, '\t');
  snprintf(line, sizeof line, "%.*s%s", (int)(p - good), good, q);
  assert_int_equal(septune_db_parse(line, &back, &err), SEPTUNE_OK);
  assert_true(back.default_us == 0);
  /* A newer format, a foreign tag, a comment. */
  snprintf(line, sizeof line, "septune-db/2%s", strchr(good, '\t'));
  assert_int_equal(septune_db_parse(line, &back, &err), SEPTUNE_ERR_PARSE);
  assert_non_null(strstr(err.message, "newer"));
  assert_int_equal(septune_db_parse("hello\tworld", &back, &err), SEPTUNE_ERR_PARSE);
  assert_non_null(strstr(err.message, "not a record"));
  assert_int_equal(septune_db_parse("# note", &back, &err), SEPTUNE_ERR_PARSE);
  assert_int_equal(septune_db_parse(NULL, &back, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
}

/* ---- the in-memory database --------------------------------------------- */

static void test_add_find(void **state)
{
  (void)state;
  septune_op a = make_pw(7, 7, 8, 8), b = make_dw(9, 9, 16, 3, 1);
  septune_db *db = septune_db_new();
  septune_error err;
  septune_db_record r;
  assert_non_null(db);
  r = make_rec(&a, SEPTUNE_ISA_SSE, other_cpu, 3.0);
  assert_int_equal(septune_db_add(db, &r, &err), SEPTUNE_OK);
  r = make_rec(&a, SEPTUNE_ISA_AVX2, other_cpu, 2.0);
  assert_int_equal(septune_db_add(db, &r, &err), SEPTUNE_OK);
  r = make_rec(&b, SEPTUNE_ISA_AVX2, other_cpu, 5.0);
  assert_int_equal(septune_db_add(db, &r, &err), SEPTUNE_OK);
  r = make_rec(&a, SEPTUNE_ISA_SSE, other_cpu, 1.5); /* same key as the first: replaces it */
  assert_int_equal(septune_db_add(db, &r, &err), SEPTUNE_OK);
  assert_int_equal(septune_db_count(db), 3);
  assert_true(septune_db_get(db, 0)->median_us == 1.5);
  assert_null(septune_db_get(db, 3));
  const septune_db_record *f = find(db, other_cpu, 1, 1, &a, SEPTUNE_ISA_AUTO);
  assert_non_null(f);
  assert_int_equal(f->isa, SEPTUNE_ISA_SSE);
  f = find(db, other_cpu, 1, 1, &a, SEPTUNE_ISA_AVX2);
  assert_non_null(f);
  assert_true(f->median_us == 2.0);
  assert_null(find(db, other_cpu, 2, 1, &a, SEPTUNE_ISA_AUTO));
  assert_null(find(db, other_cpu, 1, 2, &a, SEPTUNE_ISA_AUTO));
  assert_null(find(db, "x", 1, 1, &a, SEPTUNE_ISA_AUTO));
  assert_null(find(db, other_cpu, 1, 1, &b, SEPTUNE_ISA_SSE));
  septune_db_record r2 = make_rec(&a, SEPTUNE_ISA_SSE, other_cpu, 9.0);
  assert_true(septune_db_same_key(&r, &r2));
  r2.threads = 2;
  assert_false(septune_db_same_key(&r, &r2));
  septune_db_free(db);
  septune_db_free(NULL);
  assert_int_equal(septune_db_count(NULL), 0);
}

/* AUTO picks the fastest ISA up to the widest admitted: what this machine
 * runs (plans, emit for this CPU), or any (emit --cpu). */
static void test_select(void **state)
{
  (void)state;
  septune_op a = make_pw(7, 7, 8, 8);
  septune_db *db = septune_db_new();
  septune_error err;
  static const septune_isa isas[3] = {SEPTUNE_ISA_SCALAR, SEPTUNE_ISA_SSE, SEPTUNE_ISA_AVX512};
  for (int i = 0; i < 3; i++) {
    septune_db_record r = make_rec(&a, isas[i], other_cpu, 3.0 - i);
    assert_int_equal(septune_db_add(db, &r, &err), SEPTUNE_OK);
  }
  septune_db_query q = {other_cpu, 1, 1, &a, SEPTUNE_ISA_AUTO, SEPTUNE_ISA_AUTO};
  assert_int_equal(septune_db_select(db, &q)->isa, SEPTUNE_ISA_AVX512);
  q.widest = SEPTUNE_ISA_AVX2;
  assert_int_equal(septune_db_select(db, &q)->isa, SEPTUNE_ISA_SSE);
  q.widest = SEPTUNE_ISA_SCALAR;
  assert_int_equal(septune_db_select(db, &q)->isa, SEPTUNE_ISA_SCALAR);
  q.isa = SEPTUNE_ISA_AVX512; /* an ISA asked for by name is not limited */
  assert_int_equal(septune_db_select(db, &q)->isa, SEPTUNE_ISA_AVX512);
  q.isa = SEPTUNE_ISA_AVX2;
  assert_null(septune_db_select(db, &q));
  assert_int_equal(septune_db_signature_isa(other_cpu), SEPTUNE_ISA_SSE);
  assert_int_equal(septune_db_signature_isa("a:b:c:avx512:l1d=1K"), SEPTUNE_ISA_AVX512);
  assert_int_equal(septune_db_signature_isa("a:b:c:nonsense:x"), SEPTUNE_ISA_AUTO);
  assert_int_equal(septune_db_signature_isa("no fields"), SEPTUNE_ISA_AUTO);
  q.isa = SEPTUNE_ISA_AUTO;
  q.cpu = NULL;
  assert_null(septune_db_select(db, &q));
  assert_null(septune_db_select(NULL, &q));
  assert_null(septune_db_select(db, NULL));
  septune_db_free(db);
}

/* ---- loading damaged files ---------------------------------------------- */

static void test_load_damaged(void **state)
{
  (void)state;
  char cpu[256], path[600], text[40000], l[8][4200];
  int tv;
  this_cpu(cpu, sizeof cpu, &tv);
  septune_op a = make_pw(28, 28, 32, 64), b = make_dw(28, 28, 32, 3, 2), c = make_pw(5, 5, 3, 3);
  septune_db_record ra = make_rec(&a, SEPTUNE_ISA_SCALAR, cpu, 10.0);
  septune_db_record ra2 = make_rec(&a, SEPTUNE_ISA_SCALAR, cpu, 7.5);
  septune_db_record rb = make_rec(&b, SEPTUNE_ISA_SCALAR, cpu, 20.0);
  septune_db_record rc = make_rec(&c, SEPTUNE_ISA_SCALAR, other_cpu, 1.0);
  ra.template_version = ra2.template_version = rb.template_version = rc.template_version = tv;
  format_ok(&ra, l[0], sizeof l[0]);
  format_ok(&rb, l[1], sizeof l[1]);
  format_ok(&ra2, l[2], sizeof l[2]);
  format_ok(&rc, l[3], sizeof l[3]);
  /* corrupt copies of rb */
  snprintf(l[4], sizeof l[4], "%s", l[1]);
  memcpy(strstr(l[4], "median_us=") + 10, "1x", 2);
  snprintf(l[5], sizeof l[5], "%s", l[1]);
  memcpy(strstr(l[5], "isa=") + 4, "avx9  ", 6); /* "scalar" -> "avx9  " */
  snprintf(l[6], sizeof l[6], "%s", l[1]);
  memcpy(strstr(l[6], "op=") + 3, "zz", 2);
  snprintf(l[7], sizeof l[7], "%.*s", (int)(strstr(l[1], "median_us=") - l[1] + 11), l[1]);
  snprintf(text, sizeof text,
           "# septune tuning database, format 1\n" /* 1 */
           "%s\n"                                 /* 2 good a (superseded by 7) */
           "%s\n"                                 /* 3 bad number */
           "%s\n"                                 /* 4 good b */
           "%s\n"                                 /* 5 unknown isa */
           "%s\n"                                 /* 6 bad op */
           "%s\n"                                 /* 7 duplicate of a: wins */
           "%s\n"                                 /* 8 foreign CPU */
           "septune-db/9\tcpu=x\tfuture=1\n"      /* 9 newer version */
           "\n"                                   /* 10 blank */
           "hello world\n"                        /* 11 garbage */
           "%s",                                  /* 12 truncated, no newline */
           l[0], l[4], l[1], l[5], l[6], l[2], l[3], l[7]);
  path_in(path, sizeof path, "damaged.db");
  write_text(path, text);
  warnings w;
  septune_db *db = load_ok(path, &w);
  assert_int_equal(septune_db_count(db), 3);
  assert_int_equal(w.n, 7);
  assert_true(has_warning(&w, 2, "superseded by line 7"));
  assert_true(has_warning(&w, 3, "median_us"));
  assert_true(has_warning(&w, 5, "isa"));
  assert_true(has_warning(&w, 6, "op"));
  assert_true(has_warning(&w, 9, "newer"));
  assert_true(has_warning(&w, 11, "not a record"));
  assert_true(has_warning(&w, 12, "missing field")); /* cut inside median_us */
  const septune_db_record *f = find(db, cpu, 1, tv, &a, SEPTUNE_ISA_AUTO);
  assert_non_null(f);
  assert_true(f->median_us == 7.5); /* the later duplicate */
  assert_non_null(find(db, cpu, 1, tv, &b, SEPTUNE_ISA_SCALAR));
  assert_non_null(find(db, other_cpu, 1, tv, &c, SEPTUNE_ISA_AUTO));
  assert_null(find(db, cpu, 1, tv, &c, SEPTUNE_ISA_AUTO));
  septune_db_free(db);

  /* A plan on this CPU finds a and b, never the foreign c. */
  septune_db_record got;
  int found = -1;
  septune_error err;
  assert_int_equal(septune_db_lookup(path, &a, SEPTUNE_ISA_AUTO, 1, &got, &found, &err), SEPTUNE_OK);
  assert_int_equal(found, 1);
  assert_true(got.median_us == 7.5);
  assert_int_equal(septune_db_lookup(path, &c, SEPTUNE_ISA_AUTO, 1, &got, &found, &err), SEPTUNE_OK);
  assert_int_equal(found, 0);

  /* Truncated after the last field's first characters, and a NUL byte. */
  snprintf(text, sizeof text, "%s\n%.*s", l[1], (int)strlen(l[0]) - 3, l[0]);
  write_text(path, text);
  db = load_ok(path, &w);
  assert_int_equal(septune_db_count(db), 1);
  assert_int_equal(w.n, 1);
  assert_true(has_warning(&w, 2, "date"));
  septune_db_free(db);
  FILE *fp = fopen(path, "wb");
  fwrite(l[1], 1, 20, fp);
  fputc('\0', fp);
  fprintf(fp, "%s\n%s\n", l[1] + 21, l[0]);
  fclose(fp);
  db = load_ok(path, &w);
  assert_int_equal(septune_db_count(db), 1);
  assert_true(w.n == 1 && has_warning(&w, 1, "NUL"));
  septune_db_free(db);
}

static void test_load_missing_and_unreadable(void **state)
{
  (void)state;
  char path[600], sub[700];
  septune_db *db = NULL;
  septune_error err;
  warnings w;
  path_in(path, sizeof path, "does-not-exist.db");
  db = load_ok(path, &w);
  assert_int_equal(septune_db_count(db), 0);
  assert_int_equal(w.n, 0);
  septune_db_free(db);
  /* A directory is not a database. */
  assert_int_equal(septune_db_load(tmpdir, &db, NULL, NULL, &err), SEPTUNE_ERR_IO);
  assert_null(db);
  assert_non_null(strstr(err.message, tmpdir));
  assert_int_equal(septune_db_load(NULL, &db, NULL, NULL, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  /* Unwritable: a directory below a regular file (root ignores permissions). */
  path_in(path, sizeof path, "plain-file");
  write_text(path, "x\n");
  snprintf(sub, sizeof sub, "%s/sub/tuning.db", path);
  septune_op pw = make_pw(7, 7, 8, 8);
  septune_db_record r = make_rec(&pw, SEPTUNE_ISA_SSE, other_cpu, 1.0);
  assert_int_equal(septune_db_store(sub, &r, 1, &err), SEPTUNE_ERR_IO);
  assert_int_equal(err.status, SEPTUNE_ERR_IO);
  assert_non_null(strstr(err.message, sub));
  assert_string_equal(read_text(path), "x\n");
  assert_int_equal(septune_db_store("", &r, 1, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
}

/* ---- stores ------------------------------------------------------------- */

/* Occurrences of needle (no newline in it) in text, line by line: ASan's
 * strstr measures the whole rest of the text on every call, which made one
 * count over a 40,000-line file take 84 s of the sanitizer pass. */
static int count_lines_with(const char *text, const char *needle)
{
  int n = 0;
  size_t k = strlen(needle);
  for (const char *p = text; *p;) {
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    for (size_t i = 0; i + k <= len; i++)
      if (p[i] == needle[0] && memcmp(p + i, needle, k) == 0) n++, i += k - 1;
    if (!end) break;
    p = end + 1;
  }
  return n;
}

static int drop_bad(void *ctx, long line, septune_db_line_kind kind, const char *text,
                    const septune_db_record *rec, const char *why)
{
  int *calls = ctx;
  (void)line; (void)text;
  (*calls)++;
  assert_true((rec != NULL) == (kind == SEPTUNE_DB_LINE_RECORD || kind == SEPTUNE_DB_LINE_SUPERSEDED));
  assert_true((why != NULL) == (kind == SEPTUNE_DB_LINE_SUPERSEDED || kind == SEPTUNE_DB_LINE_NEWER ||
                                kind == SEPTUNE_DB_LINE_BAD));
  return kind != SEPTUNE_DB_LINE_BAD && kind != SEPTUNE_DB_LINE_SUPERSEDED;
}

static void test_store(void **state)
{
  (void)state;
  char path[600], line[4200], text[20000];
  septune_error err;
  septune_op a = make_pw(7, 7, 8, 8), b = make_dw(9, 9, 16, 3, 1), c = make_pw(3, 3, 3, 3);
  septune_db_record r[3] = {make_rec(&a, SEPTUNE_ISA_SSE, other_cpu, 3.0),
                            make_rec(&b, SEPTUNE_ISA_SSE, other_cpu, 4.0),
                            make_rec(&c, SEPTUNE_ISA_AVX2, other_cpu, 5.0)};
  path_in(path, sizeof path, "new/dirs/tuning.db"); /* directories created as needed */
  store_ok(path, r, 2);
  warnings w;
  septune_db *db = load_ok(path, &w);
  assert_int_equal(septune_db_count(db), 2);
  assert_int_equal(w.n, 0);
  assert_same_record(septune_db_get(db, 0), &r[0]);
  assert_same_record(septune_db_get(db, 1), &r[1]);
  septune_db_free(db);
  assert_int_equal(strncmp(read_text(path), "# septune tuning database, format 1\n", 36), 0);

  /* Same key: replaced, not appended. */
  r[0].median_us = 2.0;
  store_ok(path, r, 1);
  db = load_ok(path, &w);
  assert_int_equal(septune_db_count(db), 2);
  assert_true(find(db, other_cpu, 1, 1, &a, SEPTUNE_ISA_SSE)->median_us == 2.0);
  septune_db_free(db);

  /* Lines this version cannot read survive a store verbatim; a duplicate
   * of the stored key goes. */
  snprintf(text, sizeof text, "%s", read_text(path));
  format_ok(&r[1], line, sizeof line);
  const char *extra = "septune-db/2\tcpu=x\tsomething=new\n# a note\ngarbage line\n";
  strcat(text, extra);
  strcat(text, line);  /* a second line for key b */
  strcat(text, "\n");
  write_text(path, text);
  r[1].median_us = 3.5;
  store_ok(path, &r[1], 1);
  snprintf(text, sizeof text, "%s", read_text(path));
  assert_non_null(strstr(text, extra));
  assert_int_equal(count_lines_with(text, "op=dw "), 1);
  assert_int_equal(count_lines_with(text, "# septune tuning database"), 1);
  db = load_ok(path, &w);
  assert_int_equal(septune_db_count(db), 2);
  assert_int_equal(w.n, 2); /* newer + garbage */
  assert_true(find(db, other_cpu, 1, 1, &b, SEPTUNE_ISA_SSE)->median_us == 3.5);
  septune_db_free(db);

  /* keep_faster: a slower record does not replace, a faster one does. */
  septune_db_update u;
  memset(&u, 0, sizeof u);
  septune_db_record slow = r[0], fast = r[0];
  slow.median_us = 100;
  fast.median_us = 1;
  septune_db_record both[3] = {slow, r[2], fast};
  u.add = both;
  u.n_add = 1;
  u.keep_faster = 1;
  assert_int_equal(septune_db_update_file(path, &u, &err), SEPTUNE_OK);
  assert_true(u.unchanged == 1 && u.added == 0 && u.replaced == 0);
  u.n_add = 3;
  assert_int_equal(septune_db_update_file(path, &u, &err), SEPTUNE_OK);
  assert_true(u.unchanged == 1 && u.added == 1 && u.replaced == 1);
  db = load_ok(path, NULL);
  assert_int_equal(septune_db_count(db), 3);
  assert_true(find(db, other_cpu, 1, 1, &a, SEPTUNE_ISA_SSE)->median_us == 1);
  septune_db_free(db);

  /* A keep function drops lines; dry_run writes nothing. */
  snprintf(text, sizeof text, "%s", read_text(path));
  int calls = 0;
  memset(&u, 0, sizeof u);
  u.keep = drop_bad;
  u.ctx = &calls;
  u.dry_run = 1;
  assert_int_equal(septune_db_update_file(path, &u, &err), SEPTUNE_OK);
  assert_int_equal(u.dropped, 1);
  assert_true(calls > 3);
  assert_string_equal(read_text(path), text);
  u.dry_run = 0;
  assert_int_equal(septune_db_update_file(path, &u, &err), SEPTUNE_OK);
  assert_int_equal(u.dropped, 1);
  assert_null(strstr(read_text(path), "garbage line"));
  assert_non_null(strstr(read_text(path), "septune-db/2\tcpu=x"));

  /* A bad record is refused and the file is left alone. */
  snprintf(text, sizeof text, "%s", read_text(path));
  septune_db_record bad = r[2];
  bad.median_us = -1;
  assert_int_equal(septune_db_store(path, &bad, 1, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "median_us"));
  assert_string_equal(read_text(path), text);
}

/* ---- concurrency and kills ---------------------------------------------- */

static septune_db_record numbered(int writer, int i)
{
  septune_op op = make_pw(4, 4, 1 + writer, 1 + i);
  return make_rec(&op, SEPTUNE_ISA_SCALAR, other_cpu, 1.0 + i);
}

static void test_two_writers(void **state)
{
  (void)state;
  char path[600];
  pid_t pid[2];
  path_in(path, sizeof path, "concurrent.db");
  for (int wr = 0; wr < 2; wr++) {
    pid[wr] = fork();
    assert_true(pid[wr] >= 0);
    if (pid[wr] == 0) {
      for (int i = 0; i < 40; i++) {
        septune_db_record r = numbered(wr, i);
        if (septune_db_store(path, &r, 1, NULL) != SEPTUNE_OK) _exit(1);
      }
      _exit(0);
    }
  }
  for (int wr = 0; wr < 2; wr++) {
    int status;
    assert_int_equal(waitpid(pid[wr], &status, 0), pid[wr]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  warnings w;
  septune_db *db = load_ok(path, &w);
  assert_int_equal(w.n, 0);
  assert_int_equal(septune_db_count(db), 80);
  for (int wr = 0; wr < 2; wr++)
    for (int i = 0; i < 40; i++) {
      septune_db_record r = numbered(wr, i);
      assert_non_null(find(db, other_cpu, 1, 1, &r.op, SEPTUNE_ISA_SCALAR));
    }
  septune_db_free(db);
}

/* Files in tmpdir/kill whose name contains ".tmp." */
static int count_temps(const char *dir, int *others)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  int n = 0;
  *others = 0;
  assert_non_null(d);
  while ((de = readdir(d)) != NULL) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (strstr(de->d_name, ".tmp.")) n++;
    else if (strcmp(de->d_name, "tuning.db") && strcmp(de->d_name, "tuning.db.lock")) (*others)++;
  }
  closedir(d);
  return n;
}

static void test_killed_writer(void **state)
{
  (void)state;
  char dir[600], path[700];
  int next = 0, others;
  path_in(dir, sizeof dir, "kill");
  snprintf(path, sizeof path, "%s/tuning.db", dir);
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  for (int round = 0; round < 6; round++) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      for (int i = next; i < next + 100000; i++) {
        septune_db_record r = numbered(round, i);
        if (septune_db_store(path, &r, 1, NULL) != SEPTUNE_OK) _exit(1);
        if (write(fds[1], &i, sizeof i) != (ssize_t)sizeof i) _exit(1);
      }
      _exit(0);
    }
    close(fds[1]);
    /* Let it store a few records first, then kill it at a random moment. */
    int done = -1, got = 0;
    while (got < 3 && read(fds[0], &done, sizeof done) == (ssize_t)sizeof done) got++;
    struct timespec ts = {0, (long)(rand() % 20000) * 1000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    while (read(fds[0], &done, sizeof done) == (ssize_t)sizeof done) got++;
    close(fds[0]);
    /* Every store that returned is in the file, which loads cleanly. */
    warnings w;
    septune_db *db = load_ok(path, &w);
    assert_int_equal(w.n, 0);
    for (int i = next; i <= done; i++) {
      septune_db_record r = numbered(round, i);
      if (!find(db, other_cpu, 1, 1, &r.op, SEPTUNE_ISA_SCALAR))
        fail_msg("round %d: record %d of %d..%d lost", round, i, next, done);
    }
    septune_db_free(db);
    /* At most the killed writer's own temp file is left... */
    assert_true(count_temps(dir, &others) <= 1);
    assert_int_equal(others, 0);
    next = done + 1;
  }
  /* ...and the next writer removes it. */
  septune_db_record r = numbered(9, 0);
  store_ok(path, &r, 1);
  assert_int_equal(count_temps(dir, &others), 0);
  assert_int_equal(others, 0);
}

/* ---- lookups and the default path --------------------------------------- */

static void test_lookup(void **state)
{
  (void)state;
  char cpu[256], path[600];
  int tv, found;
  septune_error err;
  septune_db_record got;
  const char *old_cap = getenv(SEPTUNE_MAX_ISA_ENV);
  char saved[32] = "";
  if (old_cap) snprintf(saved, sizeof saved, "%s", old_cap);
  /* Capped at SSE, this machine runs scalar and sse only, and has its own
   * signature; an AVX2 record under that signature must be passed over. */
  setenv(SEPTUNE_MAX_ISA_ENV, "sse", 1);
  this_cpu(cpu, sizeof cpu, &tv);
  septune_op op = make_dw(20, 20, 32, 3, 1), other = make_pw(20, 20, 32, 16);
  septune_db_record r[6] = {
      make_rec(&op, SEPTUNE_ISA_SCALAR, cpu, 30.0), make_rec(&op, SEPTUNE_ISA_SSE, cpu, 20.0),
      make_rec(&op, SEPTUNE_ISA_AVX2, cpu, 5.0),    make_rec(&op, SEPTUNE_ISA_SSE, cpu, 1.0),
      make_rec(&op, SEPTUNE_ISA_SSE, cpu, 2.0),     make_rec(&other, SEPTUNE_ISA_SCALAR, other_cpu, 1.0)};
  for (int i = 0; i < 6; i++) r[i].template_version = tv;
  r[3].threads = 2;             /* tuned for 2 threads: not for plans */
  r[4].template_version = tv + 1; /* another template version */
  path_in(path, sizeof path, "lookup.db");
  store_ok(path, r, 6);
  assert_int_equal(septune_db_lookup(path, &op, SEPTUNE_ISA_AUTO, 1, &got, &found, &err), SEPTUNE_OK);
  assert_int_equal(found, 1);
  assert_int_equal(got.isa, SEPTUNE_ISA_SSE);
  assert_true(got.median_us == 20.0);
  assert_int_equal(septune_db_lookup(path, &op, SEPTUNE_ISA_SCALAR, 1, &got, &found, &err), SEPTUNE_OK);
  assert_true(found == 1 && got.isa == SEPTUNE_ISA_SCALAR);
  assert_int_equal(septune_db_lookup(path, &other, SEPTUNE_ISA_AUTO, 1, &got, &found, &err), SEPTUNE_OK);
  assert_int_equal(found, 0);
  /* Uncapped, the signature differs: the records are another CPU's. */
  if (old_cap) setenv(SEPTUNE_MAX_ISA_ENV, saved, 1); else unsetenv(SEPTUNE_MAX_ISA_ENV);
  char now[256];
  septune_cpu_signature(now, sizeof now);
  if (strcmp(now, cpu) != 0) {
    assert_int_equal(septune_db_lookup(path, &op, SEPTUNE_ISA_AUTO, 1, &got, &found, &err), SEPTUNE_OK);
    assert_int_equal(found, 0);
  }
  /* The default path comes from SEPTUNE_DB; "" means no database. */
  setenv(SEPTUNE_MAX_ISA_ENV, "sse", 1);
  setenv(SEPTUNE_DB_ENV, path, 1);
  assert_int_equal(septune_db_lookup(NULL, &op, SEPTUNE_ISA_AUTO, 1, &got, &found, &err), SEPTUNE_OK);
  assert_int_equal(found, 1);
  setenv(SEPTUNE_DB_ENV, "", 1);
  assert_int_equal(septune_db_lookup(NULL, &op, SEPTUNE_ISA_AUTO, 1, &got, &found, &err), SEPTUNE_OK);
  assert_int_equal(found, 0);
  unsetenv(SEPTUNE_DB_ENV);
  assert_int_equal(septune_db_lookup("", &op, SEPTUNE_ISA_AUTO, 1, &got, &found, &err), SEPTUNE_OK);
  assert_int_equal(found, 0);
  path_in(path, sizeof path, "no-such.db");
  assert_int_equal(septune_db_lookup(path, &op, SEPTUNE_ISA_AUTO, 1, &got, &found, &err), SEPTUNE_OK);
  assert_int_equal(found, 0);
  assert_int_equal(septune_db_lookup(tmpdir, &op, SEPTUNE_ISA_AUTO, 1, &got, &found, &err), SEPTUNE_ERR_IO);
  assert_int_equal(septune_db_lookup(path, NULL, SEPTUNE_ISA_AUTO, 1, &got, &found, &err),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  if (old_cap) setenv(SEPTUNE_MAX_ISA_ENV, saved, 1); else unsetenv(SEPTUNE_MAX_ISA_ENV);
}

/* Sets the file's times a minute back: old enough for the shared copy to
 * trust its stat (a file changed in the last two seconds is re-read). */
static void backdate(const char *path)
{
  struct timespec t[2];
  clock_gettime(CLOCK_REALTIME, &t[0]);
  t[0].tv_sec -= 60;
  t[1] = t[0];
  assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static int lookup_found(const char *path, const septune_op *op, septune_db_record *got)
{
  int found = -1;
  septune_error err;
  if (septune_db_lookup(path, op, SEPTUNE_ISA_AUTO, 1, got, &found, &err) != SEPTUNE_OK)
    fail_msg("lookup: %s", err.message);
  return found;
}

/* A plan of T threads: its T record, else the 1-thread one to be split
 * (found 1); a T record that runs on one thread gives way to a 1-thread
 * record that measured faster against the default of its own tune, served
 * as it is (found 2). */
static void test_lookup_threads_fallback(void **state)
{
  (void)state;
  char cpu[256], path[600];
  int tv, found;
  septune_error err;
  septune_db_record got;
  this_cpu(cpu, sizeof cpu, &tv);
  septune_op a = make_dw(20, 20, 32, 3, 1), b = make_dw(24, 24, 32, 3, 1), c = make_dw(28, 28, 32, 3, 1),
             d = make_dw(30, 30, 32, 3, 1);
  septune_db_record r[7] = {
      make_rec(&a, SEPTUNE_ISA_SCALAR, cpu, 8.0), make_rec(&a, SEPTUNE_ISA_SCALAR, cpu, 10.0),
      make_rec(&b, SEPTUNE_ISA_SCALAR, cpu, 12.0), make_rec(&b, SEPTUNE_ISA_SCALAR, cpu, 10.0),
      make_rec(&c, SEPTUNE_ISA_SCALAR, cpu, 8.0), make_rec(&c, SEPTUNE_ISA_SCALAR, cpu, 10.0),
      make_rec(&d, SEPTUNE_ISA_SCALAR, cpu, 8.0)};
  for (int i = 0; i < 7; i++) r[i].template_version = tv;
  /* The defaults of each tune: b's 1-thread median is the smaller, but the
   * 1-thread tune ran on a faster machine (its default took 9 us, the T
   * tune's 12): against its default the T kernel is the faster. */
  r[0].default_us = 8.5, r[1].default_us = 10.0, r[2].default_us = 9.0, r[3].default_us = 12.0;
  r[2].median_us = 9.0;
  /* a: the T record runs on one thread and is slower; b: it is faster; c:
   * it is split (th=2; xth=1 is another knob); d: no T record */
  r[1].threads = r[3].threads = r[5].threads = 2;
  snprintf(r[1].knobs, sizeof r[1].knobs, "ct=2,wt=4,th=1");
  snprintf(r[3].knobs, sizeof r[3].knobs, "th=1,ct=2");
  snprintf(r[5].knobs, sizeof r[5].knobs, "ct=2,xth=1,th=2");
  path_in(path, sizeof path, "threads_fallback.db");
  store_ok(path, r, 7);
  const struct { const septune_op *op; int found, threads; double median; } want[] = {
      { &a, 2, 1, 8.0 }, { &b, 1, 2, 10.0 }, { &c, 1, 2, 10.0 }, { &d, 1, 1, 8.0 } };
  for (int i = 0; i < 4; i++) {
    assert_int_equal(septune_db_lookup(path, want[i].op, SEPTUNE_ISA_SCALAR, 2, &got, &found, &err), SEPTUNE_OK);
    assert_int_equal(found, want[i].found);
    assert_int_equal(got.threads, want[i].threads);
    assert_true(got.median_us == want[i].median);
  }
  /* a 1-thread plan never sees the T records */
  assert_int_equal(septune_db_lookup(path, &b, SEPTUNE_ISA_SCALAR, 1, &got, &found, &err), SEPTUNE_OK);
  assert_true(found == 1 && got.threads == 1 && got.median_us == 9.0);
  /* without the defaults, the medians decide: b's 1-thread record wins */
  r[2].default_us = r[3].default_us = 0;
  path_in(path, sizeof path, "threads_fallback_no_defaults.db");
  store_ok(path, r, 7);
  assert_int_equal(septune_db_lookup(path, &b, SEPTUNE_ISA_SCALAR, 2, &got, &found, &err), SEPTUNE_OK);
  assert_true(found == 2 && got.threads == 1 && got.median_us == 9.0);
}

/* Plans share one parsed copy of a file: parsed once, again only when the
 * file changes. */
static void test_lookup_shares_one_copy(void **state)
{
  (void)state;
  char cpu[256], path[600], other[600];
  int tv;
  septune_db_record got;
  this_cpu(cpu, sizeof cpu, &tv);
  septune_op ops[4] = {make_pw(6, 6, 8, 8), make_pw(6, 6, 8, 9), make_dw(6, 6, 8, 3, 1), make_pw(6, 6, 8, 10)};
  septune_db_record r[4];
  for (int i = 0; i < 4; i++) {
    r[i] = make_rec(&ops[i], SEPTUNE_ISA_SCALAR, cpu, 1.0 + i);
    r[i].template_version = tv;
  }
  path_in(path, sizeof path, "shared.db");
  store_ok(path, r, 3);
  backdate(path);
  unsigned long before = septune_db_lookup_loads();
  for (int k = 0; k < 20; k++)
    for (int i = 0; i < 3; i++) assert_int_equal(lookup_found(path, &ops[i], &got), 1);
  assert_int_equal(lookup_found(path, &ops[3], &got), 0);
  assert_int_equal(septune_db_lookup_loads(), before + 1);

  /* A store replaces the file: the next lookup sees its record. */
  store_ok(path, &r[3], 1);
  assert_int_equal(lookup_found(path, &ops[3], &got), 1);
  backdate(path);
  before = septune_db_lookup_loads();
  for (int k = 0; k < 10; k++) assert_int_equal(lookup_found(path, &ops[k % 4], &got), 1);
  assert_int_equal(septune_db_lookup_loads(), before + 1);

  /* An edit in place, same size, same second: seen too. */
  char text[20000];
  snprintf(text, sizeof text, "%s", read_text(path));
  char *k = strstr(text, "knobs=ct=2,wt=4");
  assert_non_null(k);
  k[strlen("knobs=ct=2,wt=")] = '5';
  write_text(path, text);
  assert_int_equal(lookup_found(path, &ops[0], &got), 1);
  assert_string_equal(got.knobs, "ct=2,wt=5");

  /* Another file has its own copy; the first one's stays. */
  path_in(other, sizeof other, "shared-other.db");
  store_ok(other, &r[0], 1);
  assert_int_equal(lookup_found(other, &ops[1], &got), 0);
  assert_int_equal(lookup_found(other, &ops[0], &got), 1);
}

typedef struct lookup_thread {
  const char *path;
  const septune_op *ops;
  int n_ops, failures;
} lookup_thread;

static void *lookup_loop(void *arg)
{
  lookup_thread *t = arg;
  for (int k = 0; k < 200; k++) {
    septune_db_record got;
    int found = 0;
    if (septune_db_lookup(t->path, &t->ops[k % t->n_ops], SEPTUNE_ISA_AUTO, 1, &got, &found, NULL) != SEPTUNE_OK ||
        !found)
      t->failures++;
  }
  return NULL;
}

/* Lookups from several threads while another process keeps storing. */
static void test_lookup_threads(void **state)
{
  (void)state;
  enum { THREADS = 4, OPS = 16 };
  char cpu[256], path[600];
  int tv;
  this_cpu(cpu, sizeof cpu, &tv);
  septune_op ops[OPS];
  septune_db_record r[OPS];
  for (int i = 0; i < OPS; i++) {
    ops[i] = make_pw(5, 5, 4, 1 + i);
    r[i] = make_rec(&ops[i], SEPTUNE_ISA_SCALAR, cpu, 1.0 + i);
    r[i].template_version = tv;
  }
  path_in(path, sizeof path, "threads.db");
  store_ok(path, r, OPS);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    for (int i = 0; i < 40; i++) {
      septune_db_record x = numbered(7, i);
      if (septune_db_store(path, &x, 1, NULL) != SEPTUNE_OK) _exit(1);
    }
    _exit(0);
  }
  pthread_t th[THREADS];
  lookup_thread arg[THREADS];
  for (int i = 0; i < THREADS; i++) {
    arg[i] = (lookup_thread){path, ops, OPS, 0};
    assert_int_equal(pthread_create(&th[i], NULL, lookup_loop, &arg[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) {
    assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(arg[i].failures, 0);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Many records through one store, one load, and a merge-like update: all
 * there, duplicates resolved, the older lines of a key dropped. */
static void test_many_records(void **state)
{
  (void)state;
  enum { N = 20000 };
  char path[600];
  septune_error err;
  septune_db_record *r = malloc(N * sizeof *r);
  assert_non_null(r);
  for (int i = 0; i < N; i++) r[i] = numbered(i % 100, i / 100);
  path_in(path, sizeof path, "many.db");
  store_ok(path, r, N);
  warnings w;
  septune_db *db = load_ok(path, &w);
  assert_int_equal(septune_db_count(db), N);
  assert_int_equal(w.n, 0);
  for (int i = 0; i < N; i += 97) assert_non_null(find(db, other_cpu, 1, 1, &r[i].op, SEPTUNE_ISA_SCALAR));
  septune_db_free(db);
  /* Every other record faster, all of them again: half replace. */
  for (int i = 0; i < N; i++) r[i].median_us *= i % 2 ? 0.5 : 2.0;
  septune_db_update u;
  memset(&u, 0, sizeof u);
  u.add = r;
  u.n_add = N;
  u.keep_faster = 1;
  assert_int_equal(septune_db_update_file(path, &u, &err), SEPTUNE_OK);
  assert_int_equal(u.replaced, N / 2);
  assert_int_equal(u.unchanged, N / 2);
  assert_int_equal(u.added, 0);
  /* A file with every key twice: the later line wins, the earlier is reported. */
  FILE *f = fopen(path, "ab");
  assert_non_null(f);
  for (int i = 0; i < N; i++) {
    char line[4200];
    r[i].median_us = 0.25;
    format_ok(&r[i], line, sizeof line);
    fprintf(f, "%s\n", line);
  }
  fclose(f);
  db = load_ok(path, &w);
  assert_int_equal(septune_db_count(db), N);
  assert_int_equal(w.n, N);
  assert_true(has_warning(&w, 2, "superseded by line"));
  assert_true(find(db, other_cpu, 1, 1, &r[N - 1].op, SEPTUNE_ISA_SCALAR)->median_us == 0.25);
  septune_db_free(db);
  /* A store drops the older lines of the keys it writes, and only those. */
  store_ok(path, &r[0], 1);
  char *all = read_text_big(path);
  assert_int_equal(count_lines_with(all, "septune-db/1\t"), 2 * N - 1);
  free(all);
  free(r);
}

/* generator/template_version.lua holds the one number; C reads it as text,
 * Lua requires it. */
static void test_template_version(void **state)
{
  (void)state;
  int v = 0;
  char *lua = NULL, root[600], gen[700], file[800];
  septune_error err;
  septune_op op = make_pw(7, 7, 8, 8);
  assert_int_equal(septune_db_template_version(&v, &err), SEPTUNE_OK);
  assert_int_equal(septune_gen_call("template_version", &op, SEPTUNE_ISA_SCALAR, NULL, &lua, &err), SEPTUNE_OK);
  assert_int_equal(atoi(lua), v);
  free(lua);
  assert_true(v >= 1);

  const char *old = getenv("SEPTUNE_LUA_ROOT");
  char saved[600] = "";
  if (old) snprintf(saved, sizeof saved, "%s", old);
  path_in(root, sizeof root, "lua-root");
  snprintf(gen, sizeof gen, "%s/generator", root);
  snprintf(file, sizeof file, "%s/template_version.lua", gen);
  assert_int_equal(mkdir(root, 0755), 0);
  assert_int_equal(mkdir(gen, 0755), 0);
  setenv("SEPTUNE_LUA_ROOT", root, 1);
  write_text(file, "-- a comment\n\n  return 17  -- why\n");
  assert_int_equal(septune_db_template_version(&v, &err), SEPTUNE_OK);
  assert_int_equal(v, 17);
  static const char *const bad[] = {"return x\n", "return 0\n", "return 3 + 1\n", "x = 1\nreturn 3\n",
                                    "-- only a comment\n", "return 99999999999\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_text(file, bad[i]);
    assert_int_equal(septune_db_template_version(&v, &err), SEPTUNE_ERR_GENERATOR);
    assert_non_null(strstr(err.message, "template_version.lua:"));
  }
  unlink(file);
  assert_int_equal(septune_db_template_version(&v, &err), SEPTUNE_ERR_GENERATOR);
  assert_non_null(strstr(err.message, "template_version.lua"));
  if (old) setenv("SEPTUNE_LUA_ROOT", saved, 1); else unsetenv("SEPTUNE_LUA_ROOT");
  assert_int_equal(septune_db_template_version(NULL, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
}

static void test_default_path(void **state)
{
  (void)state;
  char buf[600], small[8];
  septune_error err;
  const char *names[3] = {SEPTUNE_DB_ENV, "XDG_CACHE_HOME", "HOME"};
  char saved[3][600];
  int had[3];
  for (int i = 0; i < 3; i++) {
    const char *v = getenv(names[i]);
    had[i] = v != NULL;
    snprintf(saved[i], sizeof saved[i], "%s", v ? v : "");
  }
  setenv(SEPTUNE_DB_ENV, "/some/where.db", 1);
  assert_int_equal(septune_db_default_path(buf, sizeof buf, &err), SEPTUNE_OK);
  assert_string_equal(buf, "/some/where.db");
  unsetenv(SEPTUNE_DB_ENV);
  setenv("XDG_CACHE_HOME", "/xdg", 1);
  setenv("HOME", "/home/u", 1);
  assert_int_equal(septune_db_default_path(buf, sizeof buf, &err), SEPTUNE_OK);
  assert_string_equal(buf, "/xdg/septune/tuning.db");
  assert_int_equal(septune_db_default_path(small, sizeof small, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  unsetenv("XDG_CACHE_HOME");
  assert_int_equal(septune_db_default_path(buf, sizeof buf, &err), SEPTUNE_OK);
  assert_string_equal(buf, "/home/u/.cache/septune/tuning.db");
  unsetenv("HOME");
  assert_int_equal(septune_db_default_path(buf, sizeof buf, &err), SEPTUNE_ERR_IO);
  assert_non_null(strstr(err.message, SEPTUNE_DB_ENV));
  for (int i = 0; i < 3; i++) {
    if (had[i]) setenv(names[i], saved[i], 1);
    else unsetenv(names[i]);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_format_rejects_bad_records),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_add_find),
      cmocka_unit_test(test_select),
      cmocka_unit_test(test_load_damaged),
      cmocka_unit_test(test_load_missing_and_unreadable),
      cmocka_unit_test(test_store),
      cmocka_unit_test(test_two_writers),
      cmocka_unit_test(test_killed_writer),
      cmocka_unit_test(test_lookup),
      cmocka_unit_test(test_lookup_threads_fallback),
      cmocka_unit_test(test_lookup_shares_one_copy),
      cmocka_unit_test(test_lookup_threads),
      cmocka_unit_test(test_many_records),
      cmocka_unit_test(test_template_version),
      cmocka_unit_test(test_default_path),
  };
  return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
