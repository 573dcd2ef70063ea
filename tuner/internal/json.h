/*
 * json.h — the one JSON writer of the septune command and the benchmarks:
 * every --json document goes through it.
 *
 * The writer tracks nesting and puts the commas; strings are escaped and
 * always valid UTF-8 (a byte that is not part of a valid UTF-8 sequence is
 * written as U+FFFD, so a layer name or a path in any encoding cannot make
 * the document invalid); numbers that JSON cannot carry (NaN, infinities)
 * are written as null. Every document starts with its kind and its format
 * version:
 *   {"format":"septune-tune","format_version":1, ...}
 * A consumer checks format_version: it grows when a field changes meaning
 * or goes away, not when a field is added.
 */
#ifndef SEPTUNE_JSON_H
#define SEPTUNE_JSON_H

#include <stdio.h>

/* The format version of every document the writer starts. */
#define JSON_FORMAT_VERSION 1

/* Deeper nesting than this is a programming error: further levels are
 * written without commas being tracked. */
#define JSON_MAX_DEPTH 32

typedef struct json_writer {
  FILE *f;
  int depth;
  unsigned char has_items[JSON_MAX_DEPTH]; /* per level: an element was written */
  int after_key;                           /* a key was written, its value is next */
} json_writer;

/* Starts a document on f: opens the top object and writes "format":
 * "septune-<kind>" and "format_version". */
void json_document_begin(json_writer *w, FILE *f, const char *kind);

/* Closes the top object and ends the line. Returns 0, or -1 when a write
 * to the stream failed. */
int json_document_end(json_writer *w);

void json_object_begin(json_writer *w);
void json_object_end(json_writer *w);
void json_array_begin(json_writer *w);
void json_array_end(json_writer *w);

/* The key of the next value, inside an object. */
void json_key(json_writer *w, const char *key);

/* Values. A NULL string is written as null. */
void json_string(json_writer *w, const char *s);
void json_number(json_writer *w, double v);
void json_int(json_writer *w, long long v);
void json_uint(json_writer *w, unsigned long long v);
void json_bool(json_writer *w, int v);
void json_null(json_writer *w);

/* A key and its value in one call. */
void json_key_string(json_writer *w, const char *key, const char *s);
void json_key_number(json_writer *w, const char *key, double v);
void json_key_int(json_writer *w, const char *key, long long v);
void json_key_uint(json_writer *w, const char *key, unsigned long long v);
void json_key_bool(json_writer *w, const char *key, int v);

#endif
