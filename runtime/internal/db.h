/*
 * db.h — the tuning database: one human-readable record per line, keyed by
 * CPU signature, thread count, template version, op and ISA; written by the
 * tuner, read by plans, by `septune emit` and by `septune db`.
 *
 * The module, one job per file:
 *   db_record.c        the record format: one line parsed and formatted
 *                      (the file format and its versioning are documented
 *                      there)
 *   db_index.c         the in-memory database: a hash index on the key,
 *                      loading a file, and the one record selection that
 *                      plans and emit share
 *   db_file.c          the locked, atomic read-modify-write of the file
 *   db_lookup.c        the default path and what plans use: one parsed copy
 *                      per file, shared by every plan of the process
 *   template_version.c the generator's template version, read from
 *                      generator/template_version.lua without starting Lua
 * Files are opened and replaced through safe_file.h.
 *
 * Loading is tolerant: a corrupt, truncated or unknown-version line is
 * skipped and reported through the warning callback, never fatal.
 */
#ifndef SEPTUNE_DB_H
#define SEPTUNE_DB_H

#include <stddef.h>

#include "septune.h"

/* Environment variable naming the database file; when unset the default is
 * $XDG_CACHE_HOME/septune/tuning.db, else $HOME/.cache/septune/tuning.db. */
#define SEPTUNE_DB_ENV "SEPTUNE_DB"

/* The record format version this build writes and reads ("septune-db/1"). */
#define SEPTUNE_DB_FORMAT_VERSION 1

typedef struct septune_db_record {
  /* key */
  char cpu[256];          /* septune_cpu_signature() of the tuning machine */
  int threads;            /* threads the kernel was tuned for (>= 1) */
  int template_version;   /* the generator's template version the knobs belong to */
  septune_op op;          /* the layer (stored as its canonical layer line) */
  septune_isa isa;        /* never AUTO */
  /* value */
  char knobs[SEPTUNE_KNOBS_SIZE]; /* canonical knob string */
  double median_us;       /* median time per call of the chosen kernel */
  double min_us;
  double gflops;          /* from median_us */
  double default_us;      /* median of the default config in the same run; 0 unknown */
  long long date;         /* Unix seconds when measured */
} septune_db_record;

typedef struct septune_db septune_db;

/* Called once per skipped line: the file, its 1-based line number and why
 * (e.g. "field median_us: not a number"). */
typedef void (*septune_db_warn_fn)(void *ctx, const char *path, long line, const char *why);

/* ---- where the database is, and the version its records must carry ------ */

/* Writes the database path into buf: $SEPTUNE_DB when set (even if empty:
 * an empty path means "no database"), else the XDG default. Returns
 * SEPTUNE_OK, SEPTUNE_ERR_INVALID_ARGUMENT for NULL/too small buf, or
 * SEPTUNE_ERR_IO when neither XDG_CACHE_HOME nor HOME is set. */
septune_status septune_db_default_path(char *buf, size_t n, septune_error *err);

/* The generator's current template version: the number in
 * generator/template_version.lua of the generator this library uses (which
 * septune_gen.lua reads too), read without starting Lua. Returns
 * SEPTUNE_OK, SEPTUNE_ERR_INVALID_ARGUMENT (NULL), or SEPTUNE_ERR_GENERATOR
 * when the generator or the file cannot be found or the file is not
 * "return N" with N >= 1 (err names the file). */
septune_status septune_db_template_version(int *version, septune_error *err);

/* ---- one record ---------------------------------------------------------- */

/* Formats one record as its file line (no newline). Returns the length, or
 * the length needed when n is too small (like snprintf); < 0 when rec is
 * invalid. */
int septune_db_format(const septune_db_record *rec, char *buf, size_t n);

/* Parses one file line (without newline). Returns SEPTUNE_OK or
 * SEPTUNE_ERR_PARSE with err naming the field at fault. */
septune_status septune_db_parse(const char *line, septune_db_record *rec, septune_error *err);

/* 1 when a and b have the same key (cpu, threads, template version, op as its
 * canonical line, isa), else 0. */
int septune_db_same_key(const septune_db_record *a, const septune_db_record *b);

/* ---- the in-memory database ---------------------------------------------- */

/* An empty in-memory database (for merging). NULL on out of memory. */
septune_db *septune_db_new(void);

void septune_db_free(septune_db *db);

size_t septune_db_count(const septune_db *db);

/* Record i (0-based) in file order, or NULL when out of range. */
const septune_db_record *septune_db_get(const septune_db *db, size_t i);

/* Adds rec to the in-memory db, replacing a record with the same key (in
 * its place). Returns SEPTUNE_OK, SEPTUNE_ERR_INVALID_ARGUMENT (NULL or an
 * invalid record, err names the field) or SEPTUNE_ERR_OUT_OF_MEMORY. */
septune_status septune_db_add(septune_db *db, const septune_db_record *rec, septune_error *err);

/* Which record a kernel should be built from: what plans (for this machine)
 * and `septune emit` (for this machine or, with --cpu, another) ask. */
typedef struct septune_db_query {
  const char *cpu;       /* the CPU signature the record was measured on */
  int threads;           /* the thread count it was tuned for */
  int template_version;  /* the generator's current one: older knobs may mean other code */
  const septune_op *op;
  septune_isa isa;       /* one ISA, or AUTO: the fastest record of an ISA up to `widest` */
  septune_isa widest;    /* with AUTO: the widest ISA admitted, e.g. the best this machine runs
                            (each ISA runs where a wider one does); AUTO: any */
} septune_db_query;

/* The record that answers q: the one with q's key when q->isa is an ISA,
 * else the one with the smallest median_us among the ISAs q admits. NULL
 * when none matches or an argument is NULL. Constant time in the size of db. */
const septune_db_record *septune_db_select(const septune_db *db, const septune_db_query *q);

/* The ISA a CPU signature names (its fourth field, the best ISA of that
 * machine: septune_cpu_signature), or SEPTUNE_ISA_AUTO when it names none. */
septune_isa septune_db_signature_isa(const char *cpu);

/* ---- the file ------------------------------------------------------------ */

/* Loads every good record of `path` (a symbolic link is followed). A missing
 * file gives an empty database (SEPTUNE_OK). Bad lines (corrupt, truncated,
 * newer format) are skipped and reported to warn (may be NULL). Duplicate
 * keys: the later line wins, and warn is told about the earlier one
 * ("superseded by line N (same key)"). Comments and blank lines are silent.
 * Records of other CPUs and template versions load like any other. Takes no
 * lock: writers replace the file by rename. Time and memory are linear in
 * the size of the file. Returns SEPTUNE_OK, SEPTUNE_ERR_IO (unreadable file,
 * or not a regular file: a FIFO or device is refused without blocking; err
 * names the path), SEPTUNE_ERR_OUT_OF_MEMORY or SEPTUNE_ERR_INVALID_ARGUMENT
 * (NULL). */
septune_status septune_db_load(const char *path, septune_db **db, septune_db_warn_fn warn, void *ctx,
                               septune_error *err);

/* What a line of a database file is, as septune_db_update_file sees it. */
typedef enum septune_db_line_kind {
  SEPTUNE_DB_LINE_RECORD = 0,     /* a good record, the one in force for its key */
  SEPTUNE_DB_LINE_SUPERSEDED = 1, /* a good record, but a later line has the same key */
  SEPTUNE_DB_LINE_COMMENT = 2,    /* blank, or starting with '#' */
  SEPTUNE_DB_LINE_NEWER = 3,      /* a record of a newer format version: not ours to read */
  SEPTUNE_DB_LINE_BAD = 4         /* corrupt, truncated or not a record at all */
} septune_db_line_kind;

/* Asked once per line of the old file: return 1 to keep it, 0 to drop it.
 * rec is the parsed record (RECORD and SUPERSEDED only, else NULL); why says
 * what is wrong (SUPERSEDED, NEWER, BAD; NULL otherwise). text is the line
 * without its newline. */
typedef int (*septune_db_keep_fn)(void *ctx, long line, septune_db_line_kind kind, const char *text,
                                  const septune_db_record *rec, const char *why);

typedef struct septune_db_update {
  /* in */
  const septune_db_record *add;  /* records to put in (may be NULL when n_add is 0) */
  size_t n_add;
  int keep_faster;         /* 0: an added record replaces the one with its key;
                              1: only when its median_us is smaller */
  septune_db_keep_fn keep; /* NULL keeps every line of the old file */
  void *ctx;
  int dry_run;             /* 1: compute and call keep, but write nothing */
  /* out */
  size_t added;            /* records of `add` with a new key */
  size_t replaced;         /* records of `add` that replaced an existing one */
  size_t unchanged;        /* records of `add` not taken (keep_faster, not faster) */
  size_t dropped;          /* old lines dropped: by keep, or replaced duplicates */
} septune_db_update;

/* The one way the file changes (store, merge and prune all use it). Under an
 * exclusive lock on "<path>.lock", reads `path` (missing: empty), asks
 * u->keep about every line, puts in u->add (an added record takes the place
 * of the record in force for its key; the superseded lines of that key are
 * dropped), and unless u->dry_run replaces the file atomically: a temporary
 * file beside it, fsynced, renamed over it. Lines that do not parse are kept
 * verbatim (another version may own them). Creates the file and its
 * directories (mkdir -p) when missing, and the lock file, which stays. A
 * writer killed mid-store leaves the old file intact and at most one
 * "<path>.tmp.XXXXXX", which the next writer deletes. Linear in the size of
 * the file and of u->add.
 *
 * Safe in shared directories (safe_file.h): a symbolic link at `path` is
 * followed only when it is the caller's (or root's), so tuning.db -> team.db
 * writes team.db and stays a link; a link of another user, a lock file that
 * is a link, a non-regular file (a directory: refused before any lock file
 * is made), and another user's file in a world-writable directory are
 * refused. The new file keeps the old one's permission bits except setuid,
 * setgid and sticky.
 *
 * Returns SEPTUNE_OK, SEPTUNE_ERR_IO (err names the path and the reason),
 * SEPTUNE_ERR_INVALID_ARGUMENT (NULL, empty path, a path naming a directory
 * by its form, an invalid record to add) or SEPTUNE_ERR_OUT_OF_MEMORY; on
 * failure the old file is left as it was. */
septune_status septune_db_update_file(const char *path, septune_db_update *u, septune_error *err);

/* septune_db_update_file adding recs[0..n): replaces records with the same
 * keys. Returns as septune_db_update_file. */
septune_status septune_db_store(const char *path, const septune_db_record *recs, size_t n,
                                septune_error *err);

/* Checks, creating nothing, that a store to `path` could succeed: everything
 * septune_db_update_file refuses, an unreadable old or lock file, and a
 * directory (the nearest existing one) this process cannot write. For a
 * tuner, before it spends its budget. Returns SEPTUNE_OK, or an error as
 * septune_db_update_file would return it. */
septune_status septune_db_check_writable(const char *path, septune_error *err);

/* ---- what plans use ------------------------------------------------------ */

/* The record a plan of `threads` threads should use for op on this CPU
 * (septune_cpu_signature), the current template version, isa (AUTO: any ISA
 * this CPU can run, fastest first), reading the database at `path` (NULL:
 * the default path; "": none): the record for op with n = 1 (records serve
 * any batch) and `threads` threads, else (threads > 1) the 1-thread one;
 * rec->threads says which. When the T record's knobs run on one thread
 * (th=1) and the 1-thread record measured faster (each against its
 * layer's default kernel timed in its own tune), that one, with *found
 * set to 2: its knobs serve the T plan as they are (with *found 1, a
 * 1-thread record for a T plan is to be split by default). The file is
 * parsed once and shared by every lookup of the process until it changes
 * (its device, inode, size, mtime or ctime; a file modified in the last
 * two seconds is re-read each time, as its times may not show a change
 * yet). Thread-safe. Returns SEPTUNE_OK and sets *found to 1 (or 2, above)
 * and fills *rec, or *found = 0 when there is no such record or no
 * database. A bad line never fails the lookup; an unreadable
 * or non-regular file returns SEPTUNE_ERR_IO, a generator without its
 * template version SEPTUNE_ERR_GENERATOR. */
septune_status septune_db_lookup(const char *path, const septune_op *op, septune_isa isa, int threads,
                                 septune_db_record *rec, int *found, septune_error *err);

/* For tests: how many times septune_db_lookup has parsed a file so far. */
unsigned long septune_db_lookup_loads(void);

#endif /* SEPTUNE_DB_H */
