/*
 * db_lookup.c — where the database is by default, and the lookup plans make:
 * one parsed copy of each database file, shared by every plan of the
 * process and parsed again only when the file changes.
 *
 * A plan created without knobs asks for its record; a model creates dozens
 * of plans, and a database may hold 100,000 records, so parsing the file per
 * plan is what must not happen. The copy is keyed by the path as given and
 * checked on every lookup by fstat of the file just opened: device, inode,
 * size, mtime and ctime with nanoseconds. A writer replaces the file by
 * rename (a new inode), so its changes always show; an editor writing in
 * place within one tick of the file system's clock might not, hence a file
 * changed in the last RACY_S seconds before it was parsed is parsed again
 * on every lookup until it is older.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db_internal.h"
#include "internal.h"
#include "safe_file.h"

#define CACHE_SLOTS 8 /* database files kept parsed at once */
#define RACY_S 2      /* a file younger than this may change without its stat showing it */

septune_status septune_db_default_path(char *buf, size_t n, septune_error *err)
{
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

/* ---- the shared copies ------------------------------------------------------ */

typedef struct cached {
  char *path;        /* NULL: free slot */
  struct stat st;    /* of the file parsed */
  int racy;          /* changed too shortly before it was parsed to trust st */
  septune_db *db;
  unsigned long used; /* for replacing the least recently used */
} cached;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cached cache[CACHE_SLOTS];
static unsigned long cache_clock, cache_loads;

static int same_time(struct timespec a, struct timespec b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

static int same_file(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         same_time(a->st_mtim, b->st_mtim) && same_time(a->st_ctim, b->st_ctim);
}

/* The slot for path: its own, else a free one, else the least recently used. */
static cached *slot_for(const char *path)
{
  cached *victim = &cache[0];
  for (int i = 0; i < CACHE_SLOTS; i++) {
    cached *c = &cache[i];
    if (c->path && !strcmp(c->path, path)) return c;
    if (!c->path ? victim->path != NULL : victim->path && c->used < victim->used) victim = c;
  }
  return victim;
}

/* The parsed database of path (NULL when the file does not exist), from the
 * cache when the file is unchanged. Called with cache_lock held; the result
 * stays valid until it is released. */
static septune_status cached_db(const char *path, const septune_db **out, septune_error *err)
{
  struct stat st;
  struct timespec now;
  int fd;
  *out = NULL;
  clock_gettime(CLOCK_REALTIME, &now); /* before the read: a change after it is newer */
  septune_status s = septune_file_open_read(path, "db", 0, &fd, &st, err);
  if (s != SEPTUNE_OK || fd < 0) return s;
  cached *c = slot_for(path);
  c->used = ++cache_clock;
  if (c->path && !strcmp(c->path, path) && !c->racy && same_file(&c->st, &st)) {
    close(fd);
    *out = c->db;
    return SEPTUNE_OK;
  }
  char *data, *name = strdup(path);
  size_t len;
  septune_db *db = NULL;
  s = name ? septune_file_read_fd(fd, path, "db", (size_t)st.st_size, &data, &len, err)
           : septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "db: out of memory");
  close(fd);
  if (s == SEPTUNE_OK) {
    s = septune_db_from_text(path, data, len, &db, NULL, NULL, err);
    free(data);
  }
  if (s != SEPTUNE_OK) {
    free(name);
    return s;
  }
  cache_loads++;
  free(c->path);
  septune_db_free(c->db);
  c->path = name;
  c->st = st;
  c->racy = st.st_mtim.tv_sec + RACY_S > now.tv_sec;
  c->db = db;
  *out = db;
  return SEPTUNE_OK;
}

unsigned long septune_db_lookup_loads(void)
{
  pthread_mutex_lock(&cache_lock);
  unsigned long n = cache_loads;
  pthread_mutex_unlock(&cache_lock);
  return n;
}

/* 1 when the record's knobs run its kernel on one thread (th=1). */
static int runs_on_one_thread(const septune_db_record *r)
{
  for (const char *k = r->knobs; (k = strstr(k, "th=")) != NULL; k += 3)
    if ((k == r->knobs || k[-1] == ',') && k[3] == '1' && (k[4] == ',' || k[4] == '\0')) return 1;
  return 0;
}

/* A record's time as a share of its layer's default kernel timed in the
 * same run when both records know it (two tunes ran at different times,
 * and a shared machine's speed moves between them: the same kernel was
 * timed 20% apart in two tunes here), else its median. */
static int faster_than(const septune_db_record *a, const septune_db_record *b)
{
  if (a->default_us > 0 && b->default_us > 0) return a->median_us / a->default_us < b->median_us / b->default_us;
  return a->median_us < b->median_us;
}

septune_status septune_db_lookup(const char *path, const septune_op *op, septune_isa isa, int threads,
                                 septune_db_record *rec, int *found, septune_error *err)
{
  septune_op one;
  char buf[PATH_MAX], cpu[sizeof rec->cpu];
  septune_status st;
  if (found) *found = 0;
  if (!op || !rec || !found) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: NULL argument");
  if (isa < SEPTUNE_ISA_AUTO || isa > SEPTUNE_ISA_AVX512)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: unknown ISA %d", (int)isa);
  if (threads < 1 || threads > SEPTUNE_MAX_THREADS)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: %d threads", threads);
  if ((st = septune_op_validate(op, err)) != SEPTUNE_OK) return st;
  septune_op_one_image(op, &one);
  if (!path) {
    /* No HOME and no XDG_CACHE_HOME: no database, like an empty SEPTUNE_DB. */
    if (septune_db_default_path(buf, sizeof buf, NULL) != SEPTUNE_OK) return septune_error_clear(err);
    path = buf;
  }
  if (!path[0]) return septune_error_clear(err);
  septune_db_query q = {cpu, threads, 0, &one, isa, SEPTUNE_ISA_AUTO};
  if ((st = septune_db_template_version(&q.template_version, err)) != SEPTUNE_OK) return st;
  septune_cpu_signature(cpu, sizeof cpu);
  q.widest = septune_db_signature_isa(cpu); /* this machine's best: CPUID is slow in a VM, ask once */

  const septune_db *db;
  pthread_mutex_lock(&cache_lock);
  st = cached_db(path, &db, err);
  const septune_db_record *best = st == SEPTUNE_OK ? septune_db_select(db, &q) : NULL;
  int as_is = 0;
  if (st == SEPTUNE_OK && threads > 1 && (!best || runs_on_one_thread(best))) {
    /* No record for T: the 1-thread one, to be split by default. A T
     * record whose kernel runs on one thread says the layer does not pay
     * for a split; then the 1-thread tune's kernel, when it measured
     * faster, serves the T plan as it is. */
    q.threads = 1;
    const septune_db_record *one = septune_db_select(db, &q);
    if (!best) best = one;
    else if (one && faster_than(one, best)) best = one, as_is = 1;
  }
  if (best) {
    *rec = *best;
    *found = as_is ? 2 : 1;
  }
  pthread_mutex_unlock(&cache_lock);
  return st == SEPTUNE_OK ? septune_error_clear(err) : st;
}
