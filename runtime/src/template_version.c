/*
 * template_version.c — the generator's template version for the tuning
 * database, read from generator/template_version.lua as text: the file
 * septune_gen.lua requires, so both sides read one number from one place,
 * and the database never starts Lua to learn it.
 *
 * The file is Lua comments ("--" lines), blank lines and one line
 * "return N"; anything else is an error naming the file and the line.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "internal.h"
#include "lua_root.h"
#include "safe_file.h"

#define VERSION_FILE "generator/template_version.lua"
#define VERSION_FILE_MAX 4096 /* bytes: a few comment lines and a number */

/* Parses "return N" (spaces around, a trailing "-- comment" allowed) from
 * line[0..n). Returns N >= 1, or 0. */
static int return_line(const char *line, size_t n)
{
  static const char word[] = "return";
  size_t i = 0;
  long v = 0;
  while (i < n && isspace((unsigned char)line[i])) i++;
  if (n - i < sizeof word - 1 || memcmp(line + i, word, sizeof word - 1) != 0) return 0;
  i += sizeof word - 1;
  if (i == n || !isspace((unsigned char)line[i])) return 0;
  while (i < n && isspace((unsigned char)line[i])) i++;
  size_t start = i;
  while (i < n && isdigit((unsigned char)line[i]) && v <= INT_MAX) v = v * 10 + (line[i++] - '0');
  if (i == start || v < 1 || v > INT_MAX) return 0;
  while (i < n && isspace((unsigned char)line[i])) i++;
  if (i < n && !(n - i >= 2 && line[i] == '-' && line[i + 1] == '-')) return 0;
  return (int)v;
}

/* 1 when line[0..n) is blank or a "--" comment. */
static int comment_line(const char *line, size_t n)
{
  size_t i = 0;
  while (i < n && isspace((unsigned char)line[i])) i++;
  return i == n || (n - i >= 2 && line[i] == '-' && line[i + 1] == '-');
}

septune_status septune_db_template_version(int *version, septune_error *err)
{
  char root[PATH_MAX], path[PATH_MAX + sizeof VERSION_FILE];
  char *data;
  size_t len;
  int exists;
  if (!version) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "db: NULL argument");
  septune_status st = septune_lua_root(root, sizeof root, err);
  if (st != SEPTUNE_OK) return st;
  snprintf(path, sizeof path, "%s/" VERSION_FILE, root);
  st = septune_file_read(path, "generator", VERSION_FILE_MAX, &data, &len, &exists, NULL, err);
  if (st != SEPTUNE_OK) { /* the message names the file; the fault is the generator's */
    if (err) err->status = SEPTUNE_ERR_GENERATOR;
    return SEPTUNE_ERR_GENERATOR;
  }
  if (!exists) return septune_error_set(err, SEPTUNE_ERR_GENERATOR, "generator: %s is missing", path);
  int v = 0;
  long number = 0;
  for (const char *p = data, *end = data + len; p < end && !v;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    number++;
    if (!comment_line(p, n) && !(v = return_line(p, n))) break;
    p += n + 1;
  }
  free(data);
  if (!v)
    return septune_error_set(err, SEPTUNE_ERR_GENERATOR,
                             "generator: %s:%ld: expected 'return N' with a whole number N >= 1", path,
                             number ? number : 1);
  *version = v;
  return septune_error_clear(err);
}
