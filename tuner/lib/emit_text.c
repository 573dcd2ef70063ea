/*
 * emit_text.c — the text of the files `septune emit` writes: the header, the
 * table and one source per kernel (see cmd_emit.c for what goes where).
 *
 * Everything user-supplied that lands in a file (paths, layer names, --cpu)
 * goes through emit_comment or emit_c_string, so that no input can end a
 * comment, a string or form a trigraph, and the files keep compiling
 * without warnings whatever the model file is called.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emit.h"
#include "model_file.h"

/* The lines of runtime/include/septune_kernel_table.h, NULL-terminated:
 * made at build time by cmake/EmbedText.cmake, so the copy in every emitted
 * header is the one this tool was built against. */
#include "septune_kernel_table_h.inc"

/* ---- emit_buf ----------------------------------------------------------- */

void emit_buf_add(emit_buf *b, const char *s, size_t n)
{
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}

void emit_buf_puts(emit_buf *b, const char *s)
{
  emit_buf_add(b, s, strlen(s));
}

void emit_buf_printf(emit_buf *b, const char *fmt, ...)
{
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->oom = 1;
    return;
  }
  if ((size_t)n < sizeof small) {
    emit_buf_add(b, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    b->oom = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  emit_buf_add(b, big, (size_t)n);
  free(big);
}

void emit_buf_free(emit_buf *b)
{
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* Hands the text over to the caller, or frees it when an append failed. */
static char *take(emit_buf *b)
{
  if (b->oom || !b->p) {
    emit_buf_free(b);
    return NULL;
  }
  return b->p;
}

/* ---- escaping ----------------------------------------------------------- */

/* s inside a comment: control characters become '?', and "*" "/", "/" "*"
 * and "??" are split, so the text can neither close the comment, open a
 * nested one (-Wcomment) nor form a trigraph; a final backslash gets a
 * space so that it cannot splice the comment's next line onto it. */
static void emit_comment(emit_buf *b, const char *s)
{
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char c = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
    emit_buf_add(b, &c, 1);
    if ((c == '*' && p[1] == '/') || (c == '/' && p[1] == '*') || (c == '?' && p[1] == '?') ||
        (c == '\\' && !p[1]))
      emit_buf_add(b, " ", 1);
  }
}

/* s as a C string literal. Octal escapes always take three digits, so a
 * digit that follows cannot join them. */
static void emit_c_string(emit_buf *b, const char *s)
{
  emit_buf_add(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\' || *p == '?') {
      char esc[2] = { '\\', (char)*p };
      emit_buf_add(b, esc, 2);
    } else if (*p < 0x20 || *p >= 0x7f) {
      emit_buf_printf(b, "\\%03o", *p);
    } else {
      emit_buf_add(b, (const char *)p, 1);
    }
  }
  emit_buf_add(b, "\"", 1);
}

/* ---- the kernel's source ------------------------------------------------ */

char *emit_replace(const char *src, const char *from, const char *to)
{
  emit_buf b = { 0 };
  size_t nfrom = strlen(from);
  const char *p = src, *hit;
  while (nfrom && (hit = strstr(p, from))) {
    emit_buf_add(&b, p, (size_t)(hit - p));
    emit_buf_puts(&b, to);
    p = hit + nfrom;
  }
  emit_buf_puts(&b, p);
  return take(&b);
}

static int starts_with(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The name of the function a definition line defines: the identifier
 * right before the first '('. Returns its length (0 when none). */
static size_t defined_name(const char *line, size_t len, const char **name)
{
  const char *paren = memchr(line, '(', len);
  if (!paren) return 0;
  const char *end = paren;
  while (end > line && end[-1] == ' ') end--;
  const char *start = end;
  while (start > line && (start[-1] == '_' || (start[-1] >= 'a' && start[-1] <= 'z') ||
                          (start[-1] >= 'A' && start[-1] <= 'Z') || (start[-1] >= '0' && start[-1] <= '9')))
    start--;
  *name = start;
  return (size_t)(end - start);
}

static int name_is(const char *name, size_t len, const char *symbol, const char *suffix)
{
  size_t ns = strlen(symbol), nx = strlen(suffix);
  return len == ns + nx && !memcmp(name, symbol, ns) && !memcmp(name + ns, suffix, nx);
}

/* The templates write a definition as its whole head on one line at column
 * 0 and the opening brace alone on the next (K&R style): that is what is
 * recognised here. A template that changed style would make the kernel
 * itself go missing below, which fails loudly rather than silently. */
const char *emit_scan_functions(emit_kernel *k)
{
  int kernel = 0, pack = 0, floats = 0;
  const char *p = k->source;
  while (*p) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    const char *next = eol ? eol + 1 : p + len;
    size_t trimmed = len;
    while (trimmed && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\r')) trimmed--;
    int head = trimmed && (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) &&
               p[trimmed - 1] != ';' && memchr(p, '(', trimmed) && next[0] == '{' &&
               !starts_with(p, "static ") && !starts_with(p, "typedef ") && !starts_with(p, "extern ");
    const char *name;
    size_t nlen;
    if (head && (nlen = defined_name(p, trimmed, &name)) > 0) {
      emit_buf_add(&k->protos, p, trimmed);
      emit_buf_puts(&k->protos, ";\n");
      kernel |= name_is(name, nlen, k->symbol, "");
      pack |= name_is(name, nlen, k->symbol, "_pack");
      floats |= name_is(name, nlen, k->symbol, "_packed_floats");
      /* A function outside the kernel's prefix would clash with another
       * emitted table's copy at link time. */
      if (nlen < strlen(k->symbol) || strncmp(name, k->symbol, strlen(k->symbol)) != 0)
        fprintf(stderr, "septune: emit: warning: %s defines %.*s, outside the names of its kernel\n", k->file,
                (int)nlen, name);
    }
    p = next;
  }
  if (k->protos.oom) return "out of memory";
  if (!kernel) return "the generated source does not define the kernel function";
  if (k->op.kind == SEPTUNE_OP_POINTWISE && !(pack && floats))
    return "the generated pointwise source does not define _pack and _packed_floats";
  return NULL;
}

/* ---- the files ---------------------------------------------------------- */

/* "b2.dw" for a named layer, "line 12" otherwise. */
static void layer_label(const emit_set *s, size_t i, char *buf, size_t n)
{
  const model_layer *l = &s->m->layers[i];
  if (l->layer.name[0]) snprintf(buf, n, "%s", l->layer.name);
  else snprintf(buf, n, "line %d", l->lineno);
}

static size_t count_tuned(const emit_set *s)
{
  size_t t = 0;
  for (size_t i = 0; i < s->nk; i++) t += (size_t)s->k[i].tuned;
  return t;
}

char *emit_header_text(const emit_set *s)
{
  emit_buf b = { 0 };
  const char *n = s->name;
  size_t tuned = count_tuned(s);
  emit_buf_printf(&b, "/*\n * %s.h — kernels for the layers of ", n);
  emit_comment(&b, s->model);
  emit_buf_puts(&b, ",\n * generated by `septune emit`. Do not edit: run septune emit again.\n *\n");
  emit_buf_printf(&b, " *   layers            %zu, in %zu distinct kernels (%zu tuned, %zu default)\n",
                  s->m->n, s->nk, tuned, s->nk - tuned);
  emit_buf_puts(&b, " *   tuning database   ");
  emit_comment(&b, s->db_note);
  emit_buf_puts(&b, "\n *   records for CPU   ");
  emit_comment(&b, s->cpu);
  emit_buf_printf(&b, "\n *   template version  %d\n", s->template_version);
  emit_buf_printf(&b,
                  " *\n"
                  " * Build %s_table.c and every %s_k*.c with the program (gcc, clang or\n"
                  " * tcc; they need nothing but libc), link libseptune_rt (static kernels,\n"
                  " * no JIT) or libseptune, and register the table before creating plans:\n"
                  " *\n"
                  " *   septune_error err;\n"
                  " *   if (septune_register_kernels(&%s_kernels, &err) != SEPTUNE_OK) ...\n"
                  " *\n"
                  " * or give it to single plans as septune_plan_options.kernels. A plan for\n"
                  " * one of these layers then runs its kernel without compiling anything.\n"
                  " * Below: runtime/include/septune_kernel_table.h as it was when septune\n"
                  " * was built, then the table and the kernels' prototypes.\n"
                  " */\n"
                  "#ifndef SEPTUNE_EMIT_%s_H\n#define SEPTUNE_EMIT_%s_H\n\n",
                  n, n, n, n, n);
  for (size_t i = 0; septune_kernel_table_h[i]; i++) emit_buf_puts(&b, septune_kernel_table_h[i]);
  emit_buf_printf(&b, "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\nextern const septune_kernel_table %s_kernels;\n",
                  n);
  for (size_t i = 0; i < s->nk; i++) {
    emit_buf_printf(&b, "\n/* %s: ", s->k[i].file);
    emit_comment(&b, s->k[i].line);
    emit_buf_puts(&b, " */\n");
    emit_buf_puts(&b, s->k[i].protos.p ? s->k[i].protos.p : "");
  }
  emit_buf_puts(&b, "\n#ifdef __cplusplus\n}\n#endif\n#endif\n");
  return take(&b);
}

char *emit_table_text(const emit_set *s)
{
  emit_buf b = { 0 };
  const char *n = s->name;
  emit_buf_printf(&b, "/*\n * %s_table.c — the kernel table of %s.h, for the layers of ", n, n);
  emit_comment(&b, s->model);
  emit_buf_printf(&b, ",\n * generated by `septune emit`. Do not edit.\n */\n#include <stddef.h>\n\n#include \"%s.h\"\n\n",
                  n);
  emit_buf_printf(&b, "static const septune_kernel_entry %s_entries[%zu] = {\n", n, s->nk);
  for (size_t i = 0; i < s->nk; i++) {
    const emit_kernel *k = &s->k[i];
    int pw = k->op.kind == SEPTUNE_OP_POINTWISE;
    emit_buf_printf(&b, "  /* %s, %s */\n  { ", k->file, k->tuned ? "tuned" : "default");
    emit_c_string(&b, k->line);
    emit_buf_printf(&b, ",\n    %d, %d, ", (int)k->isa, k->tuned);
    emit_c_string(&b, k->knobs);
    emit_buf_puts(&b, ", ");
    emit_c_string(&b, k->symbol);
    if (pw) emit_buf_printf(&b, ",\n    %s, %s_packed_floats, %s_pack },\n", k->symbol, k->symbol, k->symbol);
    else emit_buf_printf(&b, ",\n    %s, NULL, NULL },\n", k->symbol);
  }
  emit_buf_printf(&b, "};\n\nconst septune_kernel_table %s_kernels = {\n  SEPTUNE_KERNEL_TABLE_ABI, %d, ", n,
                  s->template_version);
  emit_c_string(&b, n);
  emit_buf_puts(&b, ", ");
  emit_c_string(&b, count_tuned(s) ? s->cpu : "");
  emit_buf_printf(&b, ", %zu, %s_entries\n};\n", s->nk, n);
  return take(&b);
}

static void format_date(long long t, char *buf, size_t n)
{
  time_t tt = (time_t)t;
  struct tm tm;
  if (!gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M UTC", &tm)) snprintf(buf, n, "?");
}

/* "layers  a, b, c" wrapped under its own column. */
static void layer_list(emit_buf *b, const emit_set *s, const emit_kernel *k)
{
  size_t col = 13;
  emit_buf_puts(b, " *   layers  ");
  for (size_t i = 0; i < k->nlayers; i++) {
    char label[96];
    layer_label(s, k->layers[i], label, sizeof label);
    size_t len = strlen(label) + 2;
    if (i && col + len > 78) {
      emit_buf_puts(b, ",\n *           ");
      col = 13;
    } else if (i) {
      emit_buf_puts(b, ", ");
    }
    emit_comment(b, label);
    col += len;
  }
  emit_buf_puts(b, "\n");
}

char *emit_kernel_text(const emit_set *s, const emit_kernel *k)
{
  emit_buf b = { 0 };
  emit_buf_printf(&b, "/*\n * %s — generated by `septune emit` from ", k->file);
  emit_comment(&b, s->model);
  emit_buf_puts(&b, ". Do not edit.\n *\n");
  layer_list(&b, s, k);
  emit_buf_puts(&b, " *   op      ");
  emit_comment(&b, k->line);
  emit_buf_printf(&b, "\n *   isa     %s\n *   knobs   %s\n", septune_isa_name(k->isa), k->knobs);
  if (k->tuned) {
    char date[64];
    format_date(k->rec.date, date, sizeof date);
    emit_buf_printf(&b, " *   tuned   median %.3g us, measured %s on\n *           ", k->rec.median_us, date);
    emit_comment(&b, k->rec.cpu);
    emit_buf_puts(&b, "\n");
  } else {
    emit_buf_puts(&b, " *   default the generator's heuristic knobs (no tuning record)\n");
  }
  emit_buf_printf(&b, " */\n#include \"%s.h\"\n\n", s->name);
  emit_buf_puts(&b, k->source);
  return take(&b);
}
