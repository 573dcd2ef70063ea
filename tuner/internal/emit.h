/*
 * emit.h — what `septune emit` (cmd_emit.c) shares with its text builder
 * (emit_text.c) and its file-set writer (emit_files.c).
 */
#ifndef SEPTUNE_EMIT_H
#define SEPTUNE_EMIT_H

#include <stddef.h>

#include "db.h"
#include "generator.h"
#include "internal.h"
#include "model_file.h"
#include "septune.h"

/* The longest table name: septune_plan_info.table holds it with its NUL. */
#define EMIT_NAME_MAX 63

/* A growing text. Appends after an allocation failure are ignored and
 * remembered in oom, so that a builder checks once at the end. */
typedef struct emit_buf {
  char *p;        /* NUL-terminated when not NULL */
  size_t n, cap;
  int oom;
} emit_buf;

void emit_buf_add(emit_buf *b, const char *s, size_t n);
void emit_buf_puts(emit_buf *b, const char *s);
void emit_buf_printf(emit_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void emit_buf_free(emit_buf *b);

/* One distinct op of the model and the kernel emitted for it. */
typedef struct emit_kernel {
  septune_op op;
  char line[SEPTUNE_OP_LINE_SIZE]; /* canonical op line: the table's key */
  size_t *layers;               /* indices of the model's layers with this op */
  size_t nlayers;
  septune_isa isa;
  int tuned;                    /* rec holds the record when 1 */
  septune_db_record rec;
  char knobs[SEPTUNE_KNOBS_SIZE]; /* canonical knobs the kernel was rendered with */
  char symbol[SEPTUNE_SYMBOL_SIZE]; /* the kernel function, NAME_<op>_<isa>_<hash> */
  char *source;                 /* the generator's source, symbols prefixed NAME */
  size_t nexports;              /* every function the source exports (the kernel first) */
  septune_gen_export exports[SEPTUNE_GEN_EXPORTS_MAX];
  char file[EMIT_NAME_MAX + 32];
} emit_kernel;

/* Everything the emitted files say about where they came from. */
typedef struct emit_set {
  const char *name;             /* the table's name: a C identifier */
  const char *model;            /* the model file as given */
  const char *db_note;          /* e.g. "tuning.db" or "none (...)" */
  const char *cpu;              /* the signature records were taken for */
  int template_version;
  const model_file *m;          /* layer names for the comments */
  emit_kernel *k;
  size_t nk;
} emit_set;

/* The three kinds of file. Each returns a malloc'd text, NULL on out of
 * memory. */
char *emit_header_text(const emit_set *s);
char *emit_table_text(const emit_set *s);
char *emit_kernel_text(const emit_set *s, const emit_kernel *k);

/* One file of the set: its name in the output directory and its text. */
typedef struct emit_file {
  const char *name;
  const char *text;
} emit_file;

/* Writes files into dir as one set (see emit_files.c), moving them in
 * array order: the caller puts the kernels first and the header and table
 * last. `stale_prefix` names the kernel files ("NAME_k"): files
 * "<prefix><digits>.c" in dir that are not in the set are removed
 * afterwards. Returns 0 (CLI_OK), CLI_USAGE when dir cannot be used,
 * CLI_FAILED when writing fails; the message is printed. */
int emit_write_set(const char *dir, const emit_file *files, size_t n, const char *stale_prefix);

#endif
