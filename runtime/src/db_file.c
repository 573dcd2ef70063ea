/*
 * db_file.c — the locked read-modify-write of a tuning database file
 * (septune_db_update_file), behind store, merge and prune.
 *
 * Every change is a rewrite of the whole file under an exclusive flock() on
 * "<path>.lock" — a separate file, because the rename below replaces the
 * inode of <path> and a lock on it would not exclude a writer that opened
 * the new one. Under the lock the writer re-reads the file (so a concurrent
 * tuner's records are never lost), applies its change, writes a temporary
 * file in the same directory (so rename cannot cross file systems), fsyncs
 * it, renames it over <path> and fsyncs the directory. Readers take no lock:
 * rename is atomic, so they see the old or the new file, never a mix, and a
 * writer killed at any point leaves the old file whole. A writer killed
 * between creating its temporary file and the rename leaves that file; the
 * next writer, holding the lock (so no live writer owns such a file),
 * deletes it. How the files are opened and replaced safely: safe_file.h.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_internal.h"
#include "internal.h"
#include "safe_file.h"

typedef struct fline {
  const char *text;   /* into the file buffer, or `own` */
  size_t len;
  char *own;          /* formatted text of a record put in by this update */
  long number;        /* 0 for an added line */
  septune_db_line_kind kind;
  septune_db_record rec; /* RECORD and SUPERSEDED */
  char *key;          /* op key of RECORD and SUPERSEDED, malloc'd */
  char *why;          /* SUPERSEDED, NEWER, BAD; malloc'd */
  int keep;
  size_t prev;        /* the kept record line of the same key before this one */
} fline;

typedef struct flines {
  fline *l;
  size_t n, cap;
  septune_status st;
  septune_error *err;
} flines;

static septune_status out_of_memory(septune_error *err)
{
  return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "db: out of memory");
}

static fline *flines_push(flines *f)
{
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 64;
    fline *l = realloc(f->l, cap * sizeof *l);
    if (!l) return NULL;
    f->l = l;
    f->cap = cap;
  }
  fline *x = &f->l[f->n++];
  memset(x, 0, sizeof *x);
  x->prev = SEPTUNE_DB_NONE;
  return x;
}

static void flines_free(flines *f)
{
  for (size_t i = 0; i < f->n; i++) {
    free(f->l[i].own);
    free(f->l[i].key);
    free(f->l[i].why);
  }
  free(f->l);
}

static int is_record(const fline *x)
{
  return x->kind == SEPTUNE_DB_LINE_RECORD || x->kind == SEPTUNE_DB_LINE_SUPERSEDED;
}

static void line_key(const void *owner, size_t i, septune_db_key *k)
{
  const flines *f = owner;
  septune_db_key_of_record(&f->l[i].rec, f->l[i].key, k);
}

static void key_of_line(const fline *x, septune_db_key *k) { septune_db_key_of_record(&x->rec, x->key, k); }

static int read_line_into(void *vctx, const char *text, size_t n, long number)
{
  flines *f = vctx;
  char key[SEPTUNE_DB_OPKEY_MAX], why[SEPTUNE_DB_WHY_MAX];
  fline *x = flines_push(f);
  if (!x) goto oom;
  x->text = text;
  x->len = n;
  x->number = number;
  x->keep = 1;
  x->kind = septune_db_classify(text, n, &x->rec, key, why, sizeof why);
  if (is_record(x) && !(x->key = strdup(key))) goto oom;
  if (why[0] && !(x->why = strdup(why))) goto oom;
  return 0;
oom:
  f->st = out_of_memory(f->err);
  return 1;
}

/* Marks every record line that a later record line with the same key beats,
 * naming the line in force. */
static septune_status mark_superseded(flines *f, septune_error *err)
{
  septune_db_index last;
  septune_db_key k;
  septune_status st = SEPTUNE_OK;
  septune_db_index_init(&last, line_key, f);
  for (size_t i = 0; i < f->n && st == SEPTUNE_OK; i++) {
    if (f->l[i].kind != SEPTUNE_DB_LINE_RECORD) continue;
    key_of_line(&f->l[i], &k);
    if (septune_db_index_set(&last, &k, i) != 0) st = out_of_memory(err);
  }
  for (size_t i = 0; i < f->n && st == SEPTUNE_OK; i++) {
    fline *a = &f->l[i];
    if (a->kind != SEPTUNE_DB_LINE_RECORD) continue;
    key_of_line(a, &k);
    size_t j = septune_db_index_get(&last, &k);
    if (j == i) continue;
    char why[SEPTUNE_DB_WHY_MAX];
    snprintf(why, sizeof why, "superseded by line %ld (same key)", f->l[j].number);
    a->kind = SEPTUNE_DB_LINE_SUPERSEDED;
    if (!(a->why = strdup(why))) st = out_of_memory(err);
  }
  septune_db_index_free(&last);
  return st;
}

/* Indexes the kept record lines by key, the last one of a key in the index
 * and each chained to the one before it (prev). */
static septune_status index_kept(flines *f, septune_db_index *ix, septune_error *err)
{
  septune_db_key k;
  for (size_t i = 0; i < f->n; i++) {
    fline *x = &f->l[i];
    if (!x->keep || !is_record(x)) continue;
    key_of_line(x, &k);
    x->prev = septune_db_index_get(ix, &k);
    if (septune_db_index_set(ix, &k, i) != 0) return out_of_memory(err);
  }
  return SEPTUNE_OK;
}

/* Puts u->add into the lines (see septune_db_update_file). ix indexes the
 * kept record lines (index_kept). */
static septune_status apply_adds(flines *f, septune_db_index *ix, septune_db_update *u, septune_error *err)
{
  char why[SEPTUNE_DB_WHY_MAX];
  for (size_t a = 0; a < u->n_add; a++) {
    const septune_db_record *r = &u->add[a];
    char key[SEPTUNE_DB_OPKEY_MAX], line[SEPTUNE_DB_LINE_MAX + 1];
    septune_db_key k;
    int len = septune_db_format_line(r, line, why, sizeof why);
    if (len < 0 || septune_db_op_key(&r->op, key) != 0)
      return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: record %zu to store: %s", a, why);
    septune_db_key_of_record(r, key, &k);
    size_t w = septune_db_index_get(ix, &k);
    if (w != SEPTUNE_DB_NONE && u->keep_faster && !(r->median_us < f->l[w].rec.median_us)) {
      u->unchanged++;
      continue;
    }
    char *own = malloc((size_t)len + 1);
    if (!own) return out_of_memory(err);
    memcpy(own, line, (size_t)len + 1);
    if (w != SEPTUNE_DB_NONE) {
      u->replaced++;
    } else {
      fline *x = flines_push(f);
      char *kcopy = strdup(key);
      if (!x || !kcopy) {
        free(own);
        free(kcopy);
        if (x) f->n--;
        return out_of_memory(err);
      }
      x->key = kcopy;
      x->rec = *r;
      w = f->n - 1;
      key_of_line(x, &k);
      if (septune_db_index_set(ix, &k, w) != 0) {
        free(own);
        return out_of_memory(err);
      }
      u->added++;
    }
    fline *x = &f->l[w];
    free(x->own);
    x->own = own;
    x->text = own;
    x->len = (size_t)len;
    x->kind = SEPTUNE_DB_LINE_RECORD;
    x->rec = *r;
    x->keep = 1;
    /* Older lines of the key were dead already; the rewrite drops them. */
    for (size_t p = x->prev; p != SEPTUNE_DB_NONE; p = f->l[p].prev) {
      f->l[p].keep = 0;
      u->dropped++;
    }
    x->prev = SEPTUNE_DB_NONE;
  }
  return SEPTUNE_OK;
}

/* Writes the kept lines under the header into a replacement of t->path. */
static septune_status write_lines(const septune_file_target *t, const struct stat *old, const flines *f,
                                  septune_error *err)
{
  static const char header[] = SEPTUNE_DB_HEADER;
  septune_file_writer w;
  septune_file_remove_stale_temps(t);
  septune_status st = septune_file_begin(t, old, "db", &w, err);
  if (st != SEPTUNE_OK) return st;
  fputs(header, w.f);
  fputc('\n', w.f);
  for (size_t i = 0; i < f->n; i++) {
    const fline *x = &f->l[i];
    if (!x->keep) continue;
    if (x->len == sizeof header - 1 && !memcmp(x->text, header, x->len)) continue; /* written above */
    fwrite(x->text, 1, x->len, w.f);
    fputc('\n', w.f);
  }
  return septune_file_commit(&w, "db", err);
}

septune_status septune_db_update_file(const char *path, septune_db_update *u, septune_error *err)
{
  septune_file_target t;
  char *data = NULL;
  size_t len = 0;
  int lock = -1, fd = -1, exists = 0;
  struct stat old;
  flines f = {NULL, 0, 0, SEPTUNE_OK, err};
  septune_db_index kept;
  septune_status st;

  if (!path || !u || (u->n_add && !u->add))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: NULL argument");
  if (!path[0]) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: empty path (no database)");
  u->added = u->replaced = u->unchanged = u->dropped = 0;
  /* Every refusal (a directory, a link of another user) comes before the
   * lock file is made. */
  if ((st = septune_file_resolve(path, "db", &t, err)) != SEPTUNE_OK) return st;
  if (!u->dry_run) {
    if ((st = septune_file_make_dirs(&t, "db", err)) != SEPTUNE_OK) return st;
    if ((st = septune_file_lock(&t, "db", &lock, err)) != SEPTUNE_OK) return st;
  }
  septune_db_index_init(&kept, line_key, &f);
  st = septune_file_open_read(t.path, "db", 1, &fd, &old, err);
  if (st == SEPTUNE_OK && fd >= 0) {
    exists = 1;
    st = septune_file_read_fd(fd, t.path, "db", (size_t)old.st_size, &data, &len, err);
    close(fd);
  }
  if (st == SEPTUNE_OK) {
    septune_db_each_line(data ? data : "", len, read_line_into, &f);
    st = f.st;
  }
  if (st == SEPTUNE_OK) st = mark_superseded(&f, err);
  if (st == SEPTUNE_OK) {
    for (size_t i = 0; i < f.n; i++) {
      fline *x = &f.l[i];
      if (u->keep && !u->keep(u->ctx, x->number, x->kind, x->text, is_record(x) ? &x->rec : NULL, x->why)) {
        x->keep = 0;
        u->dropped++;
      }
    }
    st = index_kept(&f, &kept, err);
  }
  if (st == SEPTUNE_OK) st = apply_adds(&f, &kept, u, err);
  if (st == SEPTUNE_OK && !u->dry_run && (u->added || u->replaced || u->dropped))
    st = write_lines(&t, exists ? &old : NULL, &f, err);
  if (lock >= 0) close(lock); /* releases the flock */
  septune_db_index_free(&kept);
  flines_free(&f);
  free(data);
  return st == SEPTUNE_OK ? septune_error_clear(err) : st;
}

septune_status septune_db_store(const char *path, const septune_db_record *recs, size_t n,
                                septune_error *err)
{
  septune_db_update u;
  memset(&u, 0, sizeof u);
  u.add = recs;
  u.n_add = n;
  return septune_db_update_file(path, &u, err);
}

septune_status septune_db_check_writable(const char *path, septune_error *err)
{
  if (!path) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: NULL argument");
  if (!path[0]) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: empty path (no database)");
  return septune_file_check_writable(path, "db", 1, err);
}
