/*
 * db_index.c — the in-memory tuning database: records in file order, a hash
 * index on their key, loading a file, and the record selection that plans
 * (db_lookup.c) and `septune emit` share.
 *
 * The index maps a key (cpu, threads, template version, op line, isa) to an
 * item number of its owner's array; the owner tells it an item's key. The
 * in-memory database and the rewrite of db_file.c both use it, so loading
 * and storing stay linear in the number of lines however many records share
 * the file.
 */
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "internal.h"
#include "safe_file.h"

/* ---- the hash index ------------------------------------------------------- */

struct septune_db_slot {
  uint64_t hash;
  size_t item; /* SEPTUNE_DB_NONE: empty */
};

#define MIN_SLOTS 64

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
  return h;
}

static uint64_t hash_key(const septune_db_key *k)
{
  int ints[3] = {k->threads, k->template_version, (int)k->isa};
  uint64_t h = fnv(0xcbf29ce484222325ULL, k->cpu, strlen(k->cpu) + 1);
  h = fnv(h, k->op, strlen(k->op) + 1);
  return fnv(h, ints, sizeof ints);
}

static int same_key(const septune_db_key *a, const septune_db_key *b)
{
  return a->threads == b->threads && a->template_version == b->template_version && a->isa == b->isa &&
         strcmp(a->cpu, b->cpu) == 0 && strcmp(a->op, b->op) == 0;
}

void septune_db_key_of_record(const septune_db_record *r, const char *op_key, septune_db_key *k)
{
  k->cpu = r->cpu;
  k->op = op_key;
  k->threads = r->threads;
  k->template_version = r->template_version;
  k->isa = r->isa;
}

void septune_db_index_init(septune_db_index *ix, septune_db_key_of_fn key_of, const void *owner)
{
  memset(ix, 0, sizeof *ix);
  ix->key_of = key_of;
  ix->owner = owner;
}

void septune_db_index_free(septune_db_index *ix)
{
  free(ix->slots);
  ix->slots = NULL;
  ix->cap = ix->n = 0;
}

/* The slot holding k, or the empty slot where it would go. */
static struct septune_db_slot *probe(const septune_db_index *ix, const septune_db_key *k, uint64_t h)
{
  for (size_t i = (size_t)h & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
    struct septune_db_slot *s = &ix->slots[i];
    if (s->item == SEPTUNE_DB_NONE) return s;
    if (s->hash == h) {
      septune_db_key other;
      ix->key_of(ix->owner, s->item, &other);
      if (same_key(k, &other)) return s;
    }
  }
}

size_t septune_db_index_get(const septune_db_index *ix, const septune_db_key *k)
{
  if (!ix->cap) return SEPTUNE_DB_NONE;
  return probe(ix, k, hash_key(k))->item;
}

/* Rebuilds the table with cap slots (a power of two). */
static int resize(septune_db_index *ix, size_t cap)
{
  struct septune_db_slot *old = ix->slots, *s = malloc(cap * sizeof *s);
  size_t old_cap = ix->cap;
  if (!s) return -1;
  for (size_t i = 0; i < cap; i++) s[i].item = SEPTUNE_DB_NONE;
  ix->slots = s;
  ix->cap = cap;
  for (size_t i = 0; i < old_cap; i++) {
    if (old[i].item == SEPTUNE_DB_NONE) continue;
    size_t j = (size_t)old[i].hash & (cap - 1);
    while (s[j].item != SEPTUNE_DB_NONE) j = (j + 1) & (cap - 1);
    s[j] = old[i];
  }
  free(old);
  return 0;
}

int septune_db_index_set(septune_db_index *ix, const septune_db_key *k, size_t i)
{
  /* Kept at most half full, so probes stay short. */
  if ((ix->n + 1) * 2 > ix->cap && resize(ix, ix->cap ? ix->cap * 2 : MIN_SLOTS) != 0) return -1;
  uint64_t h = hash_key(k);
  struct septune_db_slot *s = probe(ix, k, h);
  if (s->item == SEPTUNE_DB_NONE) ix->n++;
  s->hash = h;
  s->item = i;
  return 0;
}

/* ---- the in-memory database ----------------------------------------------- */

typedef struct entry {
  septune_db_record rec;
  char *key;  /* canonical op line, compared instead of the op */
  long line;  /* file line it came from, 0 when added in memory */
} entry;

struct septune_db {
  entry *e;
  size_t n, cap;
  septune_db_index ix;
};

static void entry_key(const void *owner, size_t i, septune_db_key *k)
{
  const septune_db *db = owner;
  septune_db_key_of_record(&db->e[i].rec, db->e[i].key, k);
}

septune_db *septune_db_new(void)
{
  septune_db *db = calloc(1, sizeof *db);
  if (db) septune_db_index_init(&db->ix, entry_key, db);
  return db;
}

void septune_db_free(septune_db *db)
{
  if (!db) return;
  for (size_t i = 0; i < db->n; i++) free(db->e[i].key);
  free(db->e);
  septune_db_index_free(&db->ix);
  free(db);
}

size_t septune_db_count(const septune_db *db) { return db ? db->n : 0; }

const septune_db_record *septune_db_get(const septune_db *db, size_t i)
{
  return db && i < db->n ? &db->e[i].rec : NULL;
}

int septune_db_same_key(const septune_db_record *a, const septune_db_record *b)
{
  char ka[SEPTUNE_DB_OPKEY_MAX], kb[SEPTUNE_DB_OPKEY_MAX];
  septune_db_key x, y;
  if (!a || !b || septune_db_op_key(&a->op, ka) != 0 || septune_db_op_key(&b->op, kb) != 0) return 0;
  if (!memchr(a->cpu, '\0', sizeof a->cpu) || !memchr(b->cpu, '\0', sizeof b->cpu)) return 0;
  septune_db_key_of_record(a, ka, &x);
  septune_db_key_of_record(b, kb, &y);
  return same_key(&x, &y);
}

/* Adds or replaces (same key, in place); *old_line receives the line of the
 * replaced entry, 0 when none. */
static septune_status db_put(septune_db *db, const septune_db_record *r, const char *key, long line,
                             long *old_line, septune_error *err)
{
  septune_db_key k;
  septune_db_key_of_record(r, key, &k);
  size_t i = septune_db_index_get(&db->ix, &k);
  *old_line = 0;
  if (i != SEPTUNE_DB_NONE) {
    *old_line = db->e[i].line;
    db->e[i].rec = *r;
    db->e[i].line = line;
    return SEPTUNE_OK;
  }
  if (db->n == db->cap) {
    size_t cap = db->cap ? db->cap * 2 : 16;
    entry *e = realloc(db->e, cap * sizeof *e);
    if (!e) return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "db: out of memory");
    db->e = e;
    db->cap = cap;
  }
  entry *x = &db->e[db->n];
  x->rec = *r;
  x->line = line;
  x->key = strdup(key);
  if (!x->key) return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "db: out of memory");
  /* The key of the entry itself: the index keeps comparing against it. */
  septune_db_key_of_record(&x->rec, x->key, &k);
  if (septune_db_index_set(&db->ix, &k, db->n) != 0) {
    free(x->key);
    return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "db: out of memory");
  }
  db->n++;
  return SEPTUNE_OK;
}

septune_status septune_db_add(septune_db *db, const septune_db_record *rec, septune_error *err)
{
  char key[SEPTUNE_DB_OPKEY_MAX], why[SEPTUNE_DB_WHY_MAX];
  long old;
  if (!db || !rec) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: NULL argument");
  if (septune_db_validate(rec, key, why, sizeof why) != 0)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: bad record: %s", why);
  septune_status st = db_put(db, rec, key, 0, &old, err);
  return st == SEPTUNE_OK ? septune_error_clear(err) : st;
}

const septune_db_record *septune_db_select(const septune_db *db, const septune_db_query *q)
{
  char key[SEPTUNE_DB_OPKEY_MAX];
  const septune_db_record *best = NULL;
  if (!db || !q || !q->cpu || !q->op || septune_db_op_key(q->op, key) != 0) return NULL;
  septune_db_key k = {q->cpu, key, q->threads, q->template_version, q->isa};
  for (int isa = SEPTUNE_ISA_SCALAR; isa <= SEPTUNE_ISA_AVX512; isa++) {
    if (q->isa != SEPTUNE_ISA_AUTO ? isa != (int)q->isa : q->widest != SEPTUNE_ISA_AUTO && isa > (int)q->widest)
      continue;
    k.isa = (septune_isa)isa;
    size_t i = septune_db_index_get(&db->ix, &k);
    if (i == SEPTUNE_DB_NONE) continue;
    const septune_db_record *r = &db->e[i].rec;
    if (!best || r->median_us < best->median_us) best = r;
  }
  return best;
}

/* ---- loading -------------------------------------------------------------- */

typedef struct load_ctx {
  septune_db *db;
  const char *path;
  septune_db_warn_fn warn;
  void *ctx;
  septune_error *err;
  septune_status st;
} load_ctx;

static int load_line(void *vctx, const char *text, size_t n, long number)
{
  load_ctx *c = vctx;
  septune_db_record r;
  char key[SEPTUNE_DB_OPKEY_MAX], why[SEPTUNE_DB_WHY_MAX];
  septune_db_line_kind kind = septune_db_classify(text, n, &r, key, why, sizeof why);
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

septune_status septune_db_from_text(const char *path, const char *data, size_t len, septune_db **db,
                                    septune_db_warn_fn warn, void *ctx, septune_error *err)
{
  load_ctx c = {septune_db_new(), path, warn, ctx, err, SEPTUNE_OK};
  *db = NULL;
  if (!c.db) return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "db: out of memory");
  septune_db_each_line(data, len, load_line, &c);
  if (c.st != SEPTUNE_OK) {
    septune_db_free(c.db);
    return c.st;
  }
  *db = c.db;
  return SEPTUNE_OK;
}

septune_status septune_db_load(const char *path, septune_db **db, septune_db_warn_fn warn, void *ctx,
                               septune_error *err)
{
  char *data;
  size_t len;
  int exists;
  if (!path || !db) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: NULL argument");
  *db = NULL;
  septune_status st = septune_file_read(path, "db", 0, &data, &len, &exists, NULL, err);
  if (st != SEPTUNE_OK) return st;
  st = septune_db_from_text(path, data ? data : "", len, db, warn, ctx, err);
  free(data);
  return st == SEPTUNE_OK ? septune_error_clear(err) : st;
}
