/*
 * json.c — the JSON writer (see json.h).
 */
#include "json.h"

#include <math.h>
#include <string.h>

/* Before a value or a key: the comma after the previous element of the
 * level, unless the value follows its key. */
static void separate(json_writer *w)
{
  if (w->after_key) {
    w->after_key = 0;
    return;
  }
  if (w->depth > 0 && w->depth <= JSON_MAX_DEPTH) {
    if (w->has_items[w->depth - 1]) fputc(',', w->f);
    w->has_items[w->depth - 1] = 1;
  }
}

static void open_level(json_writer *w, char c)
{
  separate(w);
  fputc(c, w->f);
  if (w->depth < JSON_MAX_DEPTH) w->has_items[w->depth] = 0;
  w->depth++;
}

static void close_level(json_writer *w, char c)
{
  if (w->depth > 0) w->depth--;
  fputc(c, w->f);
}

void json_object_begin(json_writer *w) { open_level(w, '{'); }
void json_object_end(json_writer *w) { close_level(w, '}'); }
void json_array_begin(json_writer *w) { open_level(w, '['); }
void json_array_end(json_writer *w) { close_level(w, ']'); }

/* The length of the valid UTF-8 sequence at p (1..4), or 0 when the byte
 * at p does not start one: overlong forms, surrogates and code points past
 * U+10FFFF are invalid. */
static size_t utf8_length(const unsigned char *p)
{
  unsigned c = p[0];
  size_t n;
  unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte */
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xbf) return 0;
  return n;
}

static void write_string(FILE *f, const char *s)
{
  fputc('"', f);
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    size_t n = utf8_length(p);
    if (n == 0) {
      fputs("\\ufffd", f);
      p++;
    } else if (n > 1) {
      fwrite(p, 1, n, f);
      p += n;
    } else {
      unsigned char c = *p++;
      if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
      else if (c == '\n') fputs("\\n", f);
      else if (c == '\t') fputs("\\t", f);
      else if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c);
      else fputc(c, f);
    }
  }
  fputc('"', f);
}

void json_key(json_writer *w, const char *key)
{
  separate(w);
  write_string(w->f, key);
  fputc(':', w->f);
  w->after_key = 1;
}

void json_string(json_writer *w, const char *s)
{
  separate(w);
  if (s) write_string(w->f, s);
  else fputs("null", w->f);
}

void json_number(json_writer *w, double v)
{
  separate(w);
  if (isfinite(v)) fprintf(w->f, "%.9g", v);
  else fputs("null", w->f);
}

void json_int(json_writer *w, long long v)
{
  separate(w);
  fprintf(w->f, "%lld", v);
}

void json_uint(json_writer *w, unsigned long long v)
{
  separate(w);
  fprintf(w->f, "%llu", v);
}

void json_bool(json_writer *w, int v)
{
  separate(w);
  fputs(v ? "true" : "false", w->f);
}

void json_null(json_writer *w)
{
  separate(w);
  fputs("null", w->f);
}

void json_key_string(json_writer *w, const char *key, const char *s)
{
  json_key(w, key);
  json_string(w, s);
}

void json_key_number(json_writer *w, const char *key, double v)
{
  json_key(w, key);
  json_number(w, v);
}

void json_key_int(json_writer *w, const char *key, long long v)
{
  json_key(w, key);
  json_int(w, v);
}

void json_key_uint(json_writer *w, const char *key, unsigned long long v)
{
  json_key(w, key);
  json_uint(w, v);
}

void json_key_bool(json_writer *w, const char *key, int v)
{
  json_key(w, key);
  json_bool(w, v);
}

void json_document_begin(json_writer *w, FILE *f, const char *kind)
{
  char format[64];
  memset(w, 0, sizeof *w);
  w->f = f;
  snprintf(format, sizeof format, "septune-%s", kind);
  json_object_begin(w);
  json_key_string(w, "format", format);
  json_key_int(w, "format_version", JSON_FORMAT_VERSION);
}

int json_document_end(json_writer *w)
{
  json_object_end(w);
  fputc('\n', w->f);
  return ferror(w->f) ? -1 : 0;
}
