/*
 * db.c — the tuning database: parsing and formatting records, tolerant
 * loading, and the locked, atomic rewrite that stores new records.
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
 * field, field too long, line longer than LINE_MAX, NUL byte) is skipped
 * with a warning naming the line and the field. When two good lines share a
 * key the later one wins.
 *
 * Writing. Every change is a rewrite of the whole file under an exclusive
 * flock() on "<path>.lock" — a separate file, because the rename below
 * replaces the inode of <path> and a lock on it would not exclude a writer
 * that opened the new one. Under the lock the writer re-reads the file (so a
 * concurrent tuner's records are never lost), applies its change, writes
 * "<path>.tmp.XXXXXX" (mkstemp, same directory so rename cannot cross file
 * systems), fsyncs it, renames it over <path> and fsyncs the directory.
 * Readers take no lock: rename is atomic, so they see the old or the new
 * file, never a mix, and a writer killed at any point leaves the old file
 * whole. A writer killed between mkstemp and rename leaves its temp file;
 * the next writer, holding the lock (so no live writer owns such a file),
 * deletes it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "internal.h"

#define TAG_PREFIX "septune-db/"
#define HEADER "# septune tuning database, format 1"
#define LINE_MAX_CHARS 4096  /* longest record line the parser accepts */
#define OPKEY_MAX 512        /* longest canonical op line */
#define WHY_MAX 256
#define TMP_SUFFIX ".tmp."
#define TMP_RANDOM 6         /* mkstemp's XXXXXX */
#define MAX_THREADS 65536
#define MAX_DATE 253402300799LL /* 9999-12-31T23:59:59Z */

/* ------------------------------------------------------------------------ */
/* In-memory database                                                        */

typedef struct entry {
  septune_db_record rec;
  char key[OPKEY_MAX];   /* canonical op line, compared instead of the op */
  long line;             /* file line it came from, 0 when added in memory */
} entry;

struct septune_db {
  entry *e;
  size_t n, cap;
};

/* ------------------------------------------------------------------------ */
/* Fields                                                                    */

enum { F_CPU, F_THREADS, F_TV, F_ISA, F_OP, F_KNOBS, F_MEDIAN, F_MIN, F_GFLOPS, F_DEFAULT, F_DATE,
       NUM_FIELDS };

static const char *const field_names[NUM_FIELDS] = {
    "cpu", "threads", "tv", "isa", "op", "knobs", "median_us", "min_us", "gflops", "default_us", "date"};

/* Characters allowed in cpu and knobs: printable ASCII without space, so a
 * value can never hide a TAB, a newline or trailing blanks. */
static int plain_string(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e) return 0;
  return 1;
}

static int op_key(const septune_op *op, char *key) {
  int n = septune_op_format(op, key, OPKEY_MAX);
  return n >= 0 && n < OPKEY_MAX ? 0 : -1;
}

/* Checks what the type of each field does not: ranges, lengths, characters.
 * Returns 0, or -1 with `why` naming the field. key receives the op key. */
static int validate_record(const septune_db_record *r, char *key, char *why, size_t n) {
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
  if (op_key(&r->op, key) != 0)
    return snprintf(why, n, "field op: longer than %d characters", OPKEY_MAX - 1), -1;
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

static int month_days(long long y, int m) {
  static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return d[m - 1] + (m == 2 && is_leap(y));
}

static void format_date(long long t, char *buf, size_t n) {
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
static int parse_date(const char *v, long long *t) {
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
static void format_double(double v, char *buf, size_t n) {
  for (int p = 15; p <= 17; p++) {
    snprintf(buf, n, "%.*g", p, v);
    if (strtod(buf, NULL) == v) return;
  }
}

static int parse_double(const char *v, double *out) {
  char *end;
  if (!*v || *v == ' ' || *v == '\t' || *v == '+') return -1;
  *out = strtod(v, &end); /* errno is not checked: glibc sets ERANGE for subnormals too */
  if (*end || !isfinite(*out)) return -1;
  return 0;
}

static int parse_int(const char *v, long long lo, long long hi, long long *out) {
  char *end;
  if (!((*v >= '0' && *v <= '9') || (*v == '-' && v[1] >= '0' && v[1] <= '9'))) return -1;
  errno = 0;
  *out = strtoll(v, &end, 10);
  if (*end || errno == ERANGE || *out < lo || *out > hi) return -1;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* One line                                                                  */

/* Parses the value of field f into r. Returns 0 or -1 with why. */
static int parse_field(int f, const char *v, septune_db_record *r, char *why, size_t n) {
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
      if (strlen(v) >= OPKEY_MAX)
        return snprintf(why, n, "field op: longer than %d characters", OPKEY_MAX - 1), -1;
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
                                         size_t n) {
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
  if (validate_record(r, key, why, n) != 0) return SEPTUNE_DB_LINE_BAD;
  return SEPTUNE_DB_LINE_RECORD;
}

/* Classifies one line of a file: text[0..len) may hold anything, NULs too. */
static septune_db_line_kind classify(const char *text, size_t len, septune_db_record *r, char *key,
                                     char *why, size_t n) {
  char buf[LINE_MAX_CHARS + 1];
  size_t i = 0;
  why[0] = '\0';
  if (len && text[len - 1] == '\r') len--; /* tolerate a file edited on Windows */
  while (i < len && (text[i] == ' ' || text[i] == '\t')) i++;
  if (i == len || text[i] == '#') return SEPTUNE_DB_LINE_COMMENT;
  if (memchr(text, '\0', len)) return snprintf(why, n, "line contains a NUL byte"), SEPTUNE_DB_LINE_BAD;
  if (len > LINE_MAX_CHARS)
    return snprintf(why, n, "line longer than %d characters", LINE_MAX_CHARS), SEPTUNE_DB_LINE_BAD;
  memcpy(buf, text, len);
  buf[len] = '\0';
  return parse_record(buf, r, key, why, n);
}

septune_status septune_db_parse(const char *line, septune_db_record *rec, septune_error *err) {
  char why[WHY_MAX], key[OPKEY_MAX];
  septune_db_record r;
  if (!line || !rec) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: NULL argument");
  switch (classify(line, strlen(line), &r, key, why, sizeof why)) {
    case SEPTUNE_DB_LINE_RECORD:
      *rec = r;
      return septune_error_clear(err);
    case SEPTUNE_DB_LINE_COMMENT:
      return septune_error_set(err, SEPTUNE_ERR_PARSE, "db: empty or comment line");
    default:
      return septune_error_set(err, SEPTUNE_ERR_PARSE, "db: %s", why);
  }
}

/* Formats a record into buf (room for LINE_MAX_CHARS + 1); returns the
 * length or -1 with why. */
static int format_line(const septune_db_record *r, char *buf, char *why, size_t whyn) {
  char key[OPKEY_MAX], num[4][40], date[64];
  if (validate_record(r, key, why, whyn) != 0) return -1;
  format_double(r->median_us, num[0], sizeof num[0]);
  format_double(r->min_us, num[1], sizeof num[1]);
  format_double(r->gflops, num[2], sizeof num[2]);
  format_double(r->default_us, num[3], sizeof num[3]);
  format_date(r->date, date, sizeof date);
  int len = snprintf(buf, LINE_MAX_CHARS + 1,
                     TAG_PREFIX "%d\tcpu=%s\tthreads=%d\ttv=%d\tisa=%s\top=%s\tknobs=%s\tmedian_us=%s"
                                "\tmin_us=%s\tgflops=%s\tdefault_us=%s\tdate=%s",
                     SEPTUNE_DB_FORMAT_VERSION, r->cpu, r->threads, r->template_version,
                     septune_isa_name(r->isa), key, r->knobs, num[0], num[1], num[2], num[3], date);
  if (len < 0 || len > LINE_MAX_CHARS)
    return snprintf(why, whyn, "line longer than %d characters", LINE_MAX_CHARS), -1;
  return len;
}

int septune_db_format(const septune_db_record *rec, char *buf, size_t n) {
  char line[LINE_MAX_CHARS + 1], why[WHY_MAX];
  if (!rec) return -1;
  int len = format_line(rec, line, why, sizeof why);
  if (len < 0) return -1;
  if (buf && n) snprintf(buf, n, "%s", line);
  return len;
}

/* ------------------------------------------------------------------------ */
/* Keys and the in-memory database                                           */

static int same_key_parts(const septune_db_record *a, const char *akey, const septune_db_record *b,
                          const char *bkey) {
  return a->threads == b->threads && a->template_version == b->template_version && a->isa == b->isa &&
         strcmp(a->cpu, b->cpu) == 0 && strcmp(akey, bkey) == 0;
}

int septune_db_same_key(const septune_db_record *a, const septune_db_record *b) {
  char ka[OPKEY_MAX], kb[OPKEY_MAX];
  if (!a || !b || op_key(&a->op, ka) != 0 || op_key(&b->op, kb) != 0) return 0;
  if (!memchr(a->cpu, '\0', sizeof a->cpu) || !memchr(b->cpu, '\0', sizeof b->cpu)) return 0;
  return same_key_parts(a, ka, b, kb);
}

septune_db *septune_db_new(void) { return calloc(1, sizeof(septune_db)); }

void septune_db_free(septune_db *db) {
  if (!db) return;
  free(db->e);
  free(db);
}

size_t septune_db_count(const septune_db *db) { return db ? db->n : 0; }

const septune_db_record *septune_db_get(const septune_db *db, size_t i) {
  return db && i < db->n ? &db->e[i].rec : NULL;
}

/* Adds or replaces (same key, in place); *old_line receives the line of the
 * replaced entry, 0 when none. */
static septune_status db_put(septune_db *db, const septune_db_record *r, const char *key, long line,
                             long *old_line, septune_error *err) {
  *old_line = 0;
  for (size_t i = 0; i < db->n; i++) {
    if (same_key_parts(&db->e[i].rec, db->e[i].key, r, key)) {
      *old_line = db->e[i].line;
      db->e[i].rec = *r;
      db->e[i].line = line;
      return SEPTUNE_OK;
    }
  }
  if (db->n == db->cap) {
    size_t cap = db->cap ? db->cap * 2 : 16;
    entry *e = realloc(db->e, cap * sizeof *e);
    if (!e) return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "db: out of memory");
    db->e = e;
    db->cap = cap;
  }
  db->e[db->n].rec = *r;
  memcpy(db->e[db->n].key, key, strlen(key) + 1);
  db->e[db->n].line = line;
  db->n++;
  return SEPTUNE_OK;
}

septune_status septune_db_add(septune_db *db, const septune_db_record *rec, septune_error *err) {
  char key[OPKEY_MAX], why[WHY_MAX];
  long old;
  if (!db || !rec) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: NULL argument");
  if (validate_record(rec, key, why, sizeof why) != 0)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: bad record: %s", why);
  septune_status st = db_put(db, rec, key, 0, &old, err);
  return st == SEPTUNE_OK ? septune_error_clear(err) : st;
}

const septune_db_record *septune_db_find(const septune_db *db, const char *cpu, int threads,
                                         int template_version, const septune_op *op, septune_isa isa) {
  char key[OPKEY_MAX];
  const septune_db_record *best = NULL;
  if (!db || !cpu || !op || op_key(op, key) != 0) return NULL;
  for (size_t i = 0; i < db->n; i++) {
    const septune_db_record *r = &db->e[i].rec;
    if (r->threads != threads || r->template_version != template_version || strcmp(r->cpu, cpu) != 0 ||
        strcmp(db->e[i].key, key) != 0)
      continue;
    if (isa != SEPTUNE_ISA_AUTO && r->isa != isa) continue;
    if (!best || r->median_us < best->median_us) best = r;
  }
  return best;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */

/* Reads a whole file. A missing file gives *exists = 0 and an empty buffer.
 * *mode receives its permission bits. */
static septune_status read_all(const char *path, char **data, size_t *len, int *exists, mode_t *mode,
                               septune_error *err) {
  struct stat st;
  size_t cap = 0, n = 0;
  char *buf = NULL;
  *data = NULL;
  *len = 0;
  *exists = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return SEPTUNE_OK;
    return septune_error_set(err, SEPTUNE_ERR_IO, "db: cannot open %s: %s", path, strerror(errno));
  }
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return septune_error_set(err, SEPTUNE_ERR_IO, "db: cannot stat %s: %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return septune_error_set(err, SEPTUNE_ERR_IO, "db: %s is not a regular file", path);
  }
  if (mode) *mode = st.st_mode & 07777;
  for (;;) {
    if (n == cap) {
      size_t c = cap ? cap * 2 : (size_t)st.st_size + 4096;
      char *b = realloc(buf, c + 1);
      if (!b) {
        free(buf);
        close(fd);
        return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "db: out of memory reading %s", path);
      }
      buf = b;
      cap = c;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      close(fd);
      return septune_error_set(err, SEPTUNE_ERR_IO, "db: cannot read %s: %s", path, strerror(e));
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  *data = buf;
  *len = n;
  *exists = 1;
  return SEPTUNE_OK;
}

/* Calls fn for every line of data[0..len): start, length (no newline), 1-based number. */
typedef int (*line_fn)(void *ctx, const char *text, size_t n, long number);

static int each_line(const char *data, size_t len, line_fn fn, void *ctx) {
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

/* ---- load --------------------------------------------------------------- */

typedef struct load_ctx {
  septune_db *db;
  const char *path;
  septune_db_warn_fn warn;
  void *ctx;
  septune_error *err;
  septune_status st;
} load_ctx;

static int load_line(void *vctx, const char *text, size_t n, long number) {
  load_ctx *c = vctx;
  septune_db_record r;
  char key[OPKEY_MAX], why[WHY_MAX];
  septune_db_line_kind kind = classify(text, n, &r, key, why, sizeof why);
  if (kind == SEPTUNE_DB_LINE_COMMENT) return 0;
  if (kind != SEPTUNE_DB_LINE_RECORD) {
    if (c->warn) c->warn(c->ctx, c->path, number, why);
    return 0;
  }
  long old;
  c->st = db_put(c->db, &r, key, number, &old, c->err);
  if (c->st != SEPTUNE_OK) return 1;
  if (old && c->warn) {
    snprintf(why, sizeof why, "superseded by line %ld (same key)", number);
    c->warn(c->ctx, c->path, old, why);
  }
  return 0;
}

septune_status septune_db_load(const char *path, septune_db **db, septune_db_warn_fn warn, void *ctx,
                               septune_error *err) {
  char *data;
  size_t len;
  int exists;
  if (!path || !db) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: NULL argument");
  *db = NULL;
  septune_status st = read_all(path, &data, &len, &exists, NULL, err);
  if (st != SEPTUNE_OK) return st;
  load_ctx c = {septune_db_new(), path, warn, ctx, err, SEPTUNE_OK};
  if (!c.db) {
    free(data);
    return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "db: out of memory");
  }
  each_line(data, len, load_line, &c);
  free(data);
  if (c.st != SEPTUNE_OK) {
    septune_db_free(c.db);
    return c.st;
  }
  *db = c.db;
  return septune_error_clear(err);
}

/* ---- the default path --------------------------------------------------- */

septune_status septune_db_default_path(char *buf, size_t n, septune_error *err) {
  const char *env = getenv(SEPTUNE_DB_ENV), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  int len;
  if (!buf || n == 0) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: NULL path buffer");
  if (env)
    len = snprintf(buf, n, "%s", env);
  else if (xdg && xdg[0] == '/') /* the XDG spec says to ignore relative values */
    len = snprintf(buf, n, "%s/septune/tuning.db", xdg);
  else if (home && home[0])
    len = snprintf(buf, n, "%s/.cache/septune/tuning.db", home);
  else {
    buf[0] = '\0';
    return septune_error_set(err, SEPTUNE_ERR_IO,
                             "db: no database path: set " SEPTUNE_DB_ENV ", XDG_CACHE_HOME or HOME");
  }
  if (len < 0 || (size_t)len >= n) {
    buf[0] = '\0';
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "db: path buffer of %zu bytes too small for the database path", n);
  }
  return septune_error_clear(err);
}

/* ---- the locked rewrite ------------------------------------------------- */

typedef struct fline {
  const char *text;      /* into the file buffer, or `own` */
  size_t len;
  char *own;             /* formatted text of a record put in by this update */
  long number;           /* 0 for an added line */
  septune_db_line_kind kind;
  septune_db_record rec;
  char key[OPKEY_MAX];
  char why[WHY_MAX];
  int keep;
} fline;

typedef struct flines {
  fline *l;
  size_t n, cap;
  septune_status st;
  septune_error *err;
} flines;

static fline *flines_push(flines *f) {
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 64;
    fline *l = realloc(f->l, cap * sizeof *l);
    if (!l) return NULL;
    f->l = l;
    f->cap = cap;
  }
  fline *x = &f->l[f->n++];
  memset(x, 0, sizeof *x);
  return x;
}

static int read_line_into(void *vctx, const char *text, size_t n, long number) {
  flines *f = vctx;
  fline *x = flines_push(f);
  if (!x) {
    f->st = septune_error_set(f->err, SEPTUNE_ERR_OUT_OF_MEMORY, "db: out of memory");
    return 1;
  }
  x->text = text;
  x->len = n;
  x->number = number;
  x->keep = 1;
  x->kind = classify(text, n, &x->rec, x->key, x->why, sizeof x->why);
  return 0;
}

static int is_record(const fline *x) {
  return x->kind == SEPTUNE_DB_LINE_RECORD || x->kind == SEPTUNE_DB_LINE_SUPERSEDED;
}

/* Marks every record line that a later record line with the same key beats. */
static void mark_superseded(flines *f) {
  for (size_t i = 0; i < f->n; i++) {
    fline *a = &f->l[i];
    if (a->kind != SEPTUNE_DB_LINE_RECORD) continue;
    for (size_t j = f->n; j-- > i + 1;) {
      fline *b = &f->l[j];
      if (b->kind == SEPTUNE_DB_LINE_RECORD && same_key_parts(&a->rec, a->key, &b->rec, b->key)) {
        a->kind = SEPTUNE_DB_LINE_SUPERSEDED;
        snprintf(a->why, sizeof a->why, "superseded by line %ld (same key)", b->number);
        break;
      }
    }
  }
}

/* Splits path into its directory and base name. */
static septune_status split_path(const char *path, char *dir, char *base, septune_error *err) {
  const char *slash = strrchr(path, '/');
  size_t dn = slash ? (size_t)(slash - path) : 0;
  if (strlen(path) + strlen(".lock") + strlen(TMP_SUFFIX) + TMP_RANDOM >= PATH_MAX)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: path too long: %.200s", path);
  if (!slash) strcpy(dir, ".");
  else if (dn == 0) strcpy(dir, "/");
  else {
    memcpy(dir, path, dn);
    dir[dn] = '\0';
  }
  strcpy(base, slash ? slash + 1 : path);
  if (!base[0] || !strcmp(base, ".") || !strcmp(base, ".."))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: %s names a directory, not a file", path);
  return SEPTUNE_OK;
}

/* mkdir -p dir. */
static septune_status make_dirs(const char *dir, const char *path, septune_error *err) {
  char d[PATH_MAX];
  size_t n = strlen(dir);
  memcpy(d, dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (d[i] != '/' && d[i] != '\0') continue;
    char c = d[i];
    d[i] = '\0';
    if (mkdir(d, 0777) != 0 && errno != EEXIST)
      return septune_error_set(err, SEPTUNE_ERR_IO, "db: cannot create directory %s for %s: %s", d, path,
                               strerror(errno));
    d[i] = c;
  }
  return SEPTUNE_OK;
}

/* Deletes the temp files of writers killed before their rename. Called with
 * the lock held, so no live writer owns one. Best effort. */
static void remove_stale_temps(const char *dir, const char *base) {
  DIR *d = opendir(dir);
  struct dirent *de;
  size_t bn = strlen(base), sn = strlen(TMP_SUFFIX);
  if (!d) return;
  while ((de = readdir(d)) != NULL) {
    if (strlen(de->d_name) == bn + sn + TMP_RANDOM && !strncmp(de->d_name, base, bn) &&
        !strncmp(de->d_name + bn, TMP_SUFFIX, sn))
      unlinkat(dirfd(d), de->d_name, 0);
  }
  closedir(d);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Writes the kept lines to a temp file and renames it over path. */
static septune_status write_file(const char *path, const char *dir, const char *base, const flines *f,
                                 mode_t mode, septune_error *err) {
  char tmp[PATH_MAX + 16];
  static const char header[] = HEADER "\n";
  snprintf(tmp, sizeof tmp, "%s" TMP_SUFFIX "XXXXXX", path);
  remove_stale_temps(dir, base);
  int fd = mkstemp(tmp);
  if (fd < 0)
    return septune_error_set(err, SEPTUNE_ERR_IO, "db: cannot create a temporary file next to %s: %s", path,
                             strerror(errno));
  int bad = fchmod(fd, mode) != 0 || write_all(fd, header, sizeof header - 1) != 0;
  for (size_t i = 0; i < f->n && !bad; i++) {
    const fline *x = &f->l[i];
    if (!x->keep) continue;
    if (x->len == sizeof header - 2 && !memcmp(x->text, header, x->len)) continue; /* header: written above */
    bad = write_all(fd, x->text, x->len) != 0 || write_all(fd, "\n", 1) != 0;
  }
  if (!bad) bad = fsync(fd) != 0;
  int e = errno;
  if (close(fd) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  if (!bad && rename(tmp, path) != 0) {
    bad = 1;
    e = errno;
  }
  if (bad) {
    unlink(tmp);
    return septune_error_set(err, SEPTUNE_ERR_IO, "db: cannot write %s: %s", path, strerror(e));
  }
  /* The rename is durable only once the directory is on disk. */
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return SEPTUNE_OK;
}

/* Puts u->add into the lines (see septune_db_update_file). */
static septune_status apply_adds(flines *f, septune_db_update *u, septune_error *err) {
  char why[WHY_MAX];
  for (size_t a = 0; a < u->n_add; a++) {
    const septune_db_record *r = &u->add[a];
    char key[OPKEY_MAX], line[LINE_MAX_CHARS + 1];
    int len = format_line(r, line, why, sizeof why);
    if (len < 0 || op_key(&r->op, key) != 0)
      return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: record %zu to store: %s", a, why);
    fline *w = NULL;
    for (size_t i = f->n; i-- > 0;) {
      fline *x = &f->l[i];
      if (x->keep && is_record(x) && same_key_parts(&x->rec, x->key, r, key)) {
        w = x;
        break;
      }
    }
    if (w && u->keep_faster && !(r->median_us < w->rec.median_us)) {
      u->unchanged++;
      continue;
    }
    if (w) {
      u->replaced++;
    } else {
      if (!(w = flines_push(f))) return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "db: out of memory");
      u->added++;
    }
    char *own = malloc((size_t)len + 1);
    if (!own) return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "db: out of memory");
    memcpy(own, line, (size_t)len + 1);
    free(w->own);
    w->own = own;
    w->text = own;
    w->len = (size_t)len;
    w->kind = SEPTUNE_DB_LINE_RECORD;
    w->rec = *r;
    memcpy(w->key, key, sizeof key);
    w->keep = 1;
    /* Older lines of the key were dead already; the rewrite drops them. */
    for (size_t i = 0; i < f->n; i++) {
      fline *x = &f->l[i];
      if (x != w && x->keep && is_record(x) && same_key_parts(&x->rec, x->key, r, key)) {
        x->keep = 0;
        u->dropped++;
      }
    }
  }
  return SEPTUNE_OK;
}

septune_status septune_db_update_file(const char *path, septune_db_update *u, septune_error *err) {
  char dir[PATH_MAX], base[PATH_MAX];
  char *data = NULL;
  size_t len = 0;
  int exists = 0, lock = -1;
  mode_t mode = 0644;
  flines f = {NULL, 0, 0, SEPTUNE_OK, err};
  septune_status st;

  if (!path || !u || (u->n_add && !u->add))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: NULL argument");
  if (!path[0]) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: empty path (no database)");
  u->added = u->replaced = u->unchanged = u->dropped = 0;
  if ((st = split_path(path, dir, base, err)) != SEPTUNE_OK) return st;
  if (!u->dry_run) {
    char lockpath[PATH_MAX + 8];
    if ((st = make_dirs(dir, path, err)) != SEPTUNE_OK) return st;
    snprintf(lockpath, sizeof lockpath, "%s.lock", path);
    lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (lock < 0)
      return septune_error_set(err, SEPTUNE_ERR_IO, "db: cannot open lock file %s: %s", lockpath,
                               strerror(errno));
    while (flock(lock, LOCK_EX) != 0) {
      if (errno != EINTR) {
        st = septune_error_set(err, SEPTUNE_ERR_IO, "db: cannot lock %s: %s", lockpath, strerror(errno));
        close(lock);
        return st;
      }
    }
  }
  st = read_all(path, &data, &len, &exists, &mode, err);
  if (st == SEPTUNE_OK) {
    each_line(data, len, read_line_into, &f);
    st = f.st;
  }
  if (st == SEPTUNE_OK) {
    mark_superseded(&f);
    for (size_t i = 0; i < f.n; i++) {
      fline *x = &f.l[i];
      if (u->keep && !u->keep(u->ctx, x->number, x->kind, x->text, is_record(x) ? &x->rec : NULL,
                              x->why[0] ? x->why : NULL)) {
        x->keep = 0;
        u->dropped++;
      }
    }
    st = apply_adds(&f, u, err);
  }
  if (st == SEPTUNE_OK && !u->dry_run && (u->added || u->replaced || u->dropped))
    st = write_file(path, dir, base, &f, exists ? mode : 0644, err);
  if (lock >= 0) close(lock); /* releases the flock */
  for (size_t i = 0; i < f.n; i++) free(f.l[i].own);
  free(f.l);
  free(data);
  return st == SEPTUNE_OK ? septune_error_clear(err) : st;
}

septune_status septune_db_store(const char *path, const septune_db_record *recs, size_t n,
                                septune_error *err) {
  septune_db_update u;
  memset(&u, 0, sizeof u);
  u.add = recs;
  u.n_add = n;
  return septune_db_update_file(path, &u, err);
}

/* ------------------------------------------------------------------------ */
/* What plans use                                                            */

septune_status septune_db_lookup(const char *path, const septune_op *op, septune_isa isa,
                                 septune_db_record *rec, int *found, septune_error *err) {
  char buf[PATH_MAX], key[OPKEY_MAX], cpu[sizeof rec->cpu];
  septune_db *db = NULL;
  int version;
  septune_status st;
  if (found) *found = 0;
  if (!op || !rec || !found) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: NULL argument");
  if (isa < SEPTUNE_ISA_AUTO || isa > SEPTUNE_ISA_AVX512)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: unknown ISA %d", (int)isa);
  if ((st = septune_op_validate(op, err)) != SEPTUNE_OK) return st;
  if (op_key(op, key) != 0)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: op line longer than %d", OPKEY_MAX - 1);
  if (!path) {
    /* No HOME and no XDG_CACHE_HOME: no database, like an empty SEPTUNE_DB. */
    if (septune_db_default_path(buf, sizeof buf, NULL) != SEPTUNE_OK) return septune_error_clear(err);
    path = buf;
  }
  if (!path[0]) return septune_error_clear(err);
  if ((st = septune_db_load(path, &db, NULL, NULL, err)) != SEPTUNE_OK) return st;
  if (septune_db_count(db) == 0) {
    septune_db_free(db);
    return septune_error_clear(err);
  }
  septune_cpu_signature(cpu, sizeof cpu);
  const septune_db_record *best = NULL;
  version = 0; /* asked of the generator only when a record could match */
  for (size_t i = 0; i < db->n; i++) {
    const septune_db_record *r = &db->e[i].rec;
    if (r->threads != 1 || strcmp(r->cpu, cpu) != 0 || strcmp(db->e[i].key, key) != 0) continue;
    if (!version && (st = septune_db_template_version(&version, err)) != SEPTUNE_OK) {
      septune_db_free(db);
      return st;
    }
    if (r->template_version != version) continue;
    if (isa == SEPTUNE_ISA_AUTO ? !septune_cpu_has_isa(r->isa) : r->isa != isa) continue;
    if (!best || r->median_us < best->median_us) best = r;
  }
  if (best) {
    *rec = *best;
    *found = 1;
  }
  septune_db_free(db);
  return septune_error_clear(err);
}
