/*
 * db_record.c — the record format of the tuning database: one line parsed,
 * classified and formatted.
 *
 * File format (format 1)
 *
 *   # septune tuning database, format 1
 *   septune-db/1<TAB>cpu=...<TAB>threads=1<TAB>tv=1<TAB>isa=avx512<TAB>op=pw n=1 h=56 ...<TAB>
 *       knobs=mr=6,nr=64<TAB>median_us=12.5<TAB>min_us=12.1<TAB>gflops=98.7<TAB>
 *       default_us=14<TAB>date=2026-11-22T10:00:00Z
 *
 * (one line per record; wrapped here). Text, one record per line, so that a
 * person can read, grep, diff and merge it. Blank lines and lines starting
 * with '#' are comments. A record line is TAB-separated fields: first the
 * version tag "septune-db/<N>", then key=value fields (split at the first
 * '=', so values may contain '=' and spaces but no TAB):
 *
 *   cpu         septune_cpu_signature() of the tuning machine   (key)
 *   threads     thread count the kernel was timed with, >= 1    (key)
 *   tv          generator template version of the knobs, >= 1  (key)
 *   isa         scalar | sse | avx2 | avx512                    (key)
 *   op          the op's canonical layer line (septune_op_format) (key)
 *   knobs       canonical knob string ("" allowed)
 *   median_us   median time per call, > 0
 *   min_us      fastest call, > 0
 *   gflops      from median_us, >= 0
 *   default_us  median of the default knobs in the same run, >= 0, 0 unknown
 *               (optional: 0 when absent)
 *   date        UTC, YYYY-MM-DDTHH:MM:SSZ
 *
 * Doubles are written with the fewest digits (15 to 17) that read back to
 * the same bits. Fields may come in any order; unknown keys are ignored so
 * that a later format-1 writer may add fields. A line whose tag has a higher
 * version is skipped by the loader with a warning and kept verbatim by every
 * rewrite: it belongs to a newer septune sharing the file. Anything else that
 * fails to parse (bad number, unknown ISA, bad op line, missing or repeated
 * field, field too long, line longer than 4096 characters, NUL byte) is
 * skipped with a warning naming the line and the field. When two good lines
 * share a key the later one wins.
 *
 * How the file is rewritten and locked: db_file.c.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "internal.h"

#define TAG_PREFIX "septune-db/"
#define MAX_THREADS 65536
#define MAX_DATE 253402300799LL /* 9999-12-31T23:59:59Z */

/* ---- fields -------------------------------------------------------------- */

enum { F_CPU, F_THREADS, F_TV, F_ISA, F_OP, F_KNOBS, F_MEDIAN, F_MIN, F_GFLOPS, F_DEFAULT, F_DATE,
       NUM_FIELDS };

static const char *const field_names[NUM_FIELDS] = {
    "cpu", "threads", "tv", "isa", "op", "knobs", "median_us", "min_us", "gflops", "default_us", "date"};

/* Characters allowed in cpu and knobs: printable ASCII without space, so a
 * value can never hide a TAB, a newline or trailing blanks. */
static int plain_string(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e) return 0;
  return 1;
}

int septune_db_op_key(const septune_op *op, char *key)
{
  int n = septune_op_format(op, key, SEPTUNE_DB_OPKEY_MAX);
  return n >= 0 && n < SEPTUNE_DB_OPKEY_MAX ? 0 : -1;
}

int septune_db_validate(const septune_db_record *r, char *key, char *why, size_t n)
{
  if (!memchr(r->cpu, '\0', sizeof r->cpu))
    return snprintf(why, n, "field cpu: longer than %zu characters", sizeof r->cpu - 1), -1;
  if (!r->cpu[0]) return snprintf(why, n, "field cpu: empty"), -1;
  if (!plain_string(r->cpu)) return snprintf(why, n, "field cpu: contains a space or control character"), -1;
  if (r->threads < 1 || r->threads > MAX_THREADS)
    return snprintf(why, n, "field threads: must be in 1..%d (got %d)", MAX_THREADS, r->threads), -1;
  if (r->template_version < 1)
    return snprintf(why, n, "field tv: must be >= 1 (got %d)", r->template_version), -1;
  if (r->isa < SEPTUNE_ISA_SCALAR || r->isa > SEPTUNE_ISA_AVX512)
    return snprintf(why, n, "field isa: must be scalar, sse, avx2 or avx512 (got %d)", (int)r->isa), -1;
  if (septune_op_validate(&r->op, NULL) != SEPTUNE_OK) return snprintf(why, n, "field op: invalid op"), -1;
  if (septune_db_op_key(&r->op, key) != 0)
    return snprintf(why, n, "field op: longer than %d characters", SEPTUNE_DB_OPKEY_MAX - 1), -1;
  if (!memchr(r->knobs, '\0', sizeof r->knobs))
    return snprintf(why, n, "field knobs: longer than %zu characters", sizeof r->knobs - 1), -1;
  if (!plain_string(r->knobs))
    return snprintf(why, n, "field knobs: contains a space or control character"), -1;
  if (!isfinite(r->median_us) || !(r->median_us > 0))
    return snprintf(why, n, "field median_us: must be a finite time > 0 (got %g)", r->median_us), -1;
  if (!isfinite(r->min_us) || !(r->min_us > 0))
    return snprintf(why, n, "field min_us: must be a finite time > 0 (got %g)", r->min_us), -1;
  if (!isfinite(r->gflops) || r->gflops < 0)
    return snprintf(why, n, "field gflops: must be finite and >= 0 (got %g)", r->gflops), -1;
  if (!isfinite(r->default_us) || r->default_us < 0)
    return snprintf(why, n, "field default_us: must be finite and >= 0 (got %g)", r->default_us), -1;
  if (r->date < 0 || r->date > MAX_DATE)
    return snprintf(why, n, "field date: %lld is outside 1970..9999", r->date), -1;
  return 0;
}

/* ---- dates: UTC, computed by hand so the TZ environment never matters --- */

static long long leaps_through(long long y) { return y / 4 - y / 100 + y / 400; }

static int is_leap(long long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(long long y, int m)
{
  static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return d[m - 1] + (m == 2 && is_leap(y));
}

static void format_date(long long t, char *buf, size_t n)
{
  long long days = t / 86400, s = t % 86400, y = 1970;
  int m = 1;
  for (;;) {
    long long len = 365 + is_leap(y);
    if (days < len) break;
    days -= len;
    y++;
  }
  while (days >= month_days(y, m)) days -= month_days(y, m++);
  snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)(y % 10000), m % 100, (int)(days % 31) + 1,
           (int)(s / 3600 % 24), (int)(s / 60 % 60), (int)(s % 60));
}

/* Strict YYYY-MM-DDTHH:MM:SSZ. */
static int parse_date(const char *v, long long *t)
{
  static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
  int f[6], i;
  if (strlen(v) != sizeof shape - 1) return -1;
  for (i = 0; shape[i]; i++) {
    if (shape[i] == 'd' ? (v[i] < '0' || v[i] > '9') : v[i] != shape[i]) return -1;
  }
  if (sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2dZ", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5]) != 6) return -1;
  if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > month_days(f[0], f[1]) || f[3] > 23 ||
      f[4] > 59 || f[5] > 59)
    return -1;
  long long days = 365LL * (f[0] - 1970) + leaps_through(f[0] - 1) - leaps_through(1969);
  for (i = 1; i < f[1]; i++) days += month_days(f[0], i);
  days += f[2] - 1;
  *t = days * 86400 + f[3] * 3600LL + f[4] * 60LL + f[5];
  return 0;
}

/* ---- numbers ------------------------------------------------------------ */

/* The shortest of %.15g..%.17g that reads back to the same double: exact
 * round trips without printing 12.1 as 12.099999999999999. */
static void format_double(double v, char *buf, size_t n)
{
  for (int p = 15; p <= 17; p++) {
    snprintf(buf, n, "%.*g", p, v);
    if (strtod(buf, NULL) == v) return;
  }
}

static int parse_double(const char *v, double *out)
{
  char *end;
  if (!*v || *v == ' ' || *v == '\t' || *v == '+') return -1;
  *out = strtod(v, &end); /* errno is not checked: glibc sets ERANGE for subnormals too */
  if (*end || !isfinite(*out)) return -1;
  return 0;
}

static int parse_int(const char *v, long long lo, long long hi, long long *out)
{
  char *end;
  if (!((*v >= '0' && *v <= '9') || (*v == '-' && v[1] >= '0' && v[1] <= '9'))) return -1;
  errno = 0;
  *out = strtoll(v, &end, 10);
  if (*end || errno == ERANGE || *out < lo || *out > hi) return -1;
  return 0;
}

/* ---- one line ------------------------------------------------------------- */

/* Parses the value of field f into r. Returns 0 or -1 with why. */
static int parse_field(int f, const char *v, septune_db_record *r, char *why, size_t n)
{
  long long i;
  septune_error e;
  septune_layer layer;
  const char *name = field_names[f];
  switch (f) {
    case F_CPU:
    case F_KNOBS: {
      char *dst = f == F_CPU ? r->cpu : r->knobs;
      size_t cap = f == F_CPU ? sizeof r->cpu : sizeof r->knobs;
      if (strlen(v) >= cap) return snprintf(why, n, "field %s: longer than %zu characters", name, cap - 1), -1;
      memcpy(dst, v, strlen(v) + 1);
      return 0;
    }
    case F_THREADS:
    case F_TV:
      if (parse_int(v, INT_MIN, INT_MAX, &i) != 0)
        return snprintf(why, n, "field %s: not an integer ('%.40s')", name, v), -1;
      *(f == F_THREADS ? &r->threads : &r->template_version) = (int)i;
      return 0;
    case F_ISA:
      if (septune_isa_from_name(v, &r->isa) != SEPTUNE_OK || r->isa == SEPTUNE_ISA_AUTO)
        return snprintf(why, n, "field isa: unknown ISA '%.40s' (scalar sse avx2 avx512)", v), -1;
      return 0;
    case F_OP:
      if (strlen(v) >= SEPTUNE_DB_OPKEY_MAX)
        return snprintf(why, n, "field op: longer than %d characters", SEPTUNE_DB_OPKEY_MAX - 1), -1;
      if (septune_layer_parse(v, &layer, &e) != SEPTUNE_OK)
        return snprintf(why, n, "field op: %.200s", e.message), -1;
      r->op = layer.op;
      return 0;
    case F_MEDIAN:
    case F_MIN:
    case F_GFLOPS:
    case F_DEFAULT: {
      double *dst = f == F_MEDIAN ? &r->median_us : f == F_MIN ? &r->min_us
                  : f == F_GFLOPS ? &r->gflops : &r->default_us;
      if (parse_double(v, dst) != 0)
        return snprintf(why, n, "field %s: not a finite number ('%.40s')", name, v), -1;
      return 0;
    }
    case F_DATE:
      if (parse_date(v, &r->date) != 0)
        return snprintf(why, n, "field date: not a UTC date YYYY-MM-DDTHH:MM:SSZ ('%.40s')", v), -1;
      return 0;
  }
  return -1;
}

/* Parses a record line (NUL-terminated, no newline). Returns RECORD, NEWER or
 * BAD (with why); key receives the op key of a RECORD. */
static septune_db_line_kind parse_record(char *line, septune_db_record *r, char *key, char *why,
                                         size_t n)
{
  int seen[NUM_FIELDS] = {0};
  char *tab = strchr(line, '\t');
  char *p;
  long long version;
  if (tab) *tab = '\0';
  if (strncmp(line, TAG_PREFIX, strlen(TAG_PREFIX)) != 0)
    return snprintf(why, n, "not a record: expected '" TAG_PREFIX "%d' first, got '%.40s'",
                    SEPTUNE_DB_FORMAT_VERSION, line), SEPTUNE_DB_LINE_BAD;
  if (parse_int(line + strlen(TAG_PREFIX), 1, INT_MAX, &version) != 0)
    return snprintf(why, n, "malformed version tag '%.40s'", line), SEPTUNE_DB_LINE_BAD;
  if (version > SEPTUNE_DB_FORMAT_VERSION)
    return snprintf(why, n, "format version %lld is newer than this septune reads (%d)",
                    version, SEPTUNE_DB_FORMAT_VERSION), SEPTUNE_DB_LINE_NEWER;
  memset(r, 0, sizeof *r);
  for (p = tab ? tab + 1 : NULL; p; p = tab ? tab + 1 : NULL) {
    char *eq;
    int f;
    tab = strchr(p, '\t');
    if (tab) *tab = '\0';
    eq = strchr(p, '=');
    if (!*p) return snprintf(why, n, "empty field (two TABs in a row or a trailing TAB)"), SEPTUNE_DB_LINE_BAD;
    if (!eq || eq == p) return snprintf(why, n, "field '%.40s' is not key=value", p), SEPTUNE_DB_LINE_BAD;
    *eq = '\0';
    for (f = 0; f < NUM_FIELDS && strcmp(p, field_names[f]) != 0; f++) {
    }
    if (f == NUM_FIELDS) continue; /* a field of a later writer: ignored */
    if (seen[f]++) return snprintf(why, n, "field %s: repeated", field_names[f]), SEPTUNE_DB_LINE_BAD;
    if (parse_field(f, eq + 1, r, why, n) != 0) return SEPTUNE_DB_LINE_BAD;
  }
  for (int f = 0; f < NUM_FIELDS; f++)
    if (!seen[f] && f != F_DEFAULT)
      return snprintf(why, n, "missing field %s (truncated line?)", field_names[f]), SEPTUNE_DB_LINE_BAD;
  if (septune_db_validate(r, key, why, n) != 0) return SEPTUNE_DB_LINE_BAD;
  return SEPTUNE_DB_LINE_RECORD;
}

septune_db_line_kind septune_db_classify(const char *text, size_t len, septune_db_record *r, char *key,
                                         char *why, size_t n)
{
  char buf[SEPTUNE_DB_LINE_MAX + 1];
  size_t i = 0;
  why[0] = '\0';
  if (len && text[len - 1] == '\r') len--; /* tolerate a file edited on Windows */
  while (i < len && (text[i] == ' ' || text[i] == '\t')) i++;
  if (i == len || text[i] == '#') return SEPTUNE_DB_LINE_COMMENT;
  if (memchr(text, '\0', len)) return snprintf(why, n, "line contains a NUL byte"), SEPTUNE_DB_LINE_BAD;
  if (len > SEPTUNE_DB_LINE_MAX)
    return snprintf(why, n, "line longer than %d characters", SEPTUNE_DB_LINE_MAX), SEPTUNE_DB_LINE_BAD;
  memcpy(buf, text, len);
  buf[len] = '\0';
  return parse_record(buf, r, key, why, n);
}

septune_status septune_db_parse(const char *line, septune_db_record *rec, septune_error *err)
{
  char why[SEPTUNE_DB_WHY_MAX], key[SEPTUNE_DB_OPKEY_MAX];
  septune_db_record r;
  if (!line || !rec) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: NULL argument");
  switch (septune_db_classify(line, strlen(line), &r, key, why, sizeof why)) {
    case SEPTUNE_DB_LINE_RECORD:
      *rec = r;
      return septune_error_clear(err);
    case SEPTUNE_DB_LINE_COMMENT:
      return septune_error_set(err, SEPTUNE_ERR_PARSE, "db: empty or comment line");
    default:
      return septune_error_set(err, SEPTUNE_ERR_PARSE, "db: %s", why);
  }
}

int septune_db_format_line(const septune_db_record *r, char *buf, char *why, size_t whyn)
{
  char key[SEPTUNE_DB_OPKEY_MAX], num[4][40], date[64];
  if (septune_db_validate(r, key, why, whyn) != 0) return -1;
  format_double(r->median_us, num[0], sizeof num[0]);
  format_double(r->min_us, num[1], sizeof num[1]);
  format_double(r->gflops, num[2], sizeof num[2]);
  format_double(r->default_us, num[3], sizeof num[3]);
  format_date(r->date, date, sizeof date);
  int len = snprintf(buf, SEPTUNE_DB_LINE_MAX + 1,
                     TAG_PREFIX "%d\tcpu=%s\tthreads=%d\ttv=%d\tisa=%s\top=%s\tknobs=%s\tmedian_us=%s"
                                "\tmin_us=%s\tgflops=%s\tdefault_us=%s\tdate=%s",
                     SEPTUNE_DB_FORMAT_VERSION, r->cpu, r->threads, r->template_version,
                     septune_isa_name(r->isa), key, r->knobs, num[0], num[1], num[2], num[3], date);
  if (len < 0 || len > SEPTUNE_DB_LINE_MAX)
    return snprintf(why, whyn, "line longer than %d characters", SEPTUNE_DB_LINE_MAX), -1;
  return len;
}

int septune_db_format(const septune_db_record *rec, char *buf, size_t n)
{
  char line[SEPTUNE_DB_LINE_MAX + 1], why[SEPTUNE_DB_WHY_MAX];
  if (!rec) return -1;
  int len = septune_db_format_line(rec, line, why, sizeof why);
  if (len < 0) return -1;
  if (buf && n) snprintf(buf, n, "%s", line);
  return len;
}

septune_isa septune_db_signature_isa(const char *cpu)
{
  char name[16];
  septune_isa isa;
  const char *p = cpu;
  for (int field = 0; field < 3 && p; field++) p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
  if (!p) return SEPTUNE_ISA_AUTO;
  size_t len = strcspn(p, ":");
  if (len >= sizeof name) return SEPTUNE_ISA_AUTO;
  memcpy(name, p, len);
  name[len] = '\0';
  return septune_isa_from_name(name, &isa) == SEPTUNE_OK ? isa : SEPTUNE_ISA_AUTO;
}

/* ---- lines of a file ------------------------------------------------------ */

int septune_db_each_line(const char *data, size_t len, septune_db_line_fn fn, void *ctx)
{
  long number = 0;
  size_t pos = 0;
  while (pos < len) {
    const char *nl = memchr(data + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
    int rc = fn(ctx, data + pos, n, ++number);
    if (rc) return rc;
    pos += n + 1;
  }
  return 0;
}
