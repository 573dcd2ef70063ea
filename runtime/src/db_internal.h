/*
 * db_internal.h — what the files of the database module share (db.h says
 * which file does what). Not for use outside runtime/src/db_*.c.
 */
#ifndef SEPTUNE_DB_INTERNAL_H
#define SEPTUNE_DB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define SEPTUNE_DB_HEADER "# septune tuning database, format 1"
#define SEPTUNE_DB_LINE_MAX 4096 /* longest record line the parser accepts */
#define SEPTUNE_DB_OPKEY_MAX 512 /* longest canonical op line */
#define SEPTUNE_DB_WHY_MAX 256   /* longest reason for a skipped line */

/* ---- db_record.c ---------------------------------------------------------- */

/* The op's canonical line into key (SEPTUNE_DB_OPKEY_MAX bytes). Returns 0,
 * or -1 when it does not fit. */
int septune_db_op_key(const septune_op *op, char *key);

/* Checks what the types of the fields do not: ranges, lengths, characters.
 * Returns 0 with the op key in key, or -1 with why naming the field. */
int septune_db_validate(const septune_db_record *r, char *key, char *why, size_t whyn);

/* Classifies one line of a file: text[0..len) may hold anything, NULs too.
 * A RECORD fills r and its op key; NEWER and BAD fill why. */
septune_db_line_kind septune_db_classify(const char *text, size_t len, septune_db_record *r, char *key,
                                         char *why, size_t whyn);

/* Formats a record into buf (SEPTUNE_DB_LINE_MAX + 1 bytes). Returns the
 * length, or -1 with why. */
int septune_db_format_line(const septune_db_record *r, char *buf, char *why, size_t whyn);

/* Calls fn for every line of data[0..len): its start, its length without
 * the newline, its 1-based number. Stops when fn returns non-zero and
 * returns that. */
typedef int (*septune_db_line_fn)(void *ctx, const char *text, size_t n, long number);
int septune_db_each_line(const char *data, size_t len, septune_db_line_fn fn, void *ctx);

/* ---- db_index.c: a hash index from record keys to item numbers ------------ */

typedef struct septune_db_key {
  const char *cpu, *op; /* the signature and the canonical op line */
  int threads, template_version;
  septune_isa isa;
} septune_db_key;

/* The key of item i of the owner's array. */
typedef void (*septune_db_key_of_fn)(const void *owner, size_t i, septune_db_key *key);

#define SEPTUNE_DB_NONE ((size_t)-1)

typedef struct septune_db_index {
  struct septune_db_slot *slots;
  size_t cap, n;
  septune_db_key_of_fn key_of;
  const void *owner;
} septune_db_index;

void septune_db_key_of_record(const septune_db_record *r, const char *op_key, septune_db_key *k);
void septune_db_index_init(septune_db_index *ix, septune_db_key_of_fn key_of, const void *owner);
void septune_db_index_free(septune_db_index *ix);
/* The item with key k, or SEPTUNE_DB_NONE. */
size_t septune_db_index_get(const septune_db_index *ix, const septune_db_key *k);
/* Makes k lead to item i (adding k when new). Returns 0, or -1 out of memory. */
int septune_db_index_set(septune_db_index *ix, const septune_db_key *k, size_t i);

/* Parses a file's text into a new database (see septune_db_load). */
septune_status septune_db_from_text(const char *path, const char *data, size_t len, septune_db **db,
                                    septune_db_warn_fn warn, void *ctx, septune_error *err);

#endif /* SEPTUNE_DB_INTERNAL_H */
