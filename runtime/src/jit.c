/* jit.c — septune's internal wrapper over libtcc; see jit.h for the contract.
 *
 * Facts about Debian's libtcc 0.9.27+git20200814 this file is built on
 * (checked against the disassembly of libtcc.a and by experiment):
 *
 * - Global state. tcc keeps the current state, the token tables and the
 *   preprocessor in globals, and guards compilation with an internal
 *   semaphore whose first use initialises it without any lock
 *   (`if (!init) sem_init(...)`), which races when two threads start their
 *   first compile together. Every libtcc call made here runs under
 *   g_tcc_lock, so tcc is never entered by two threads at once: the racy
 *   initialisation is harmless and no warm-up compile is needed. (With the
 *   mutex removed, helgrind flags exactly that race on tcc_sem_init in
 *   test_jit's first test; with it, helgrind reports nothing.)
 *
 * - Diagnostics. tcc formats each one as "<file>:<line>: error: ..." and
 *   hands it to the error callback, which is set right after tcc_new so tcc
 *   never prints. tcc_compile_string names its buffer "<string>", so the source is
 *   prefixed with `#line 1 "<name>"`, which makes both the file name and the
 *   line numbers right. Link errors (undefined symbols, missing libtcc1.a)
 *   arrive at tcc_relocate time with no file position, as
 *   "tcc: error: undefined symbol 'foo'"; the "tcc: " is replaced by
 *   "<name>: " so every line of err says which module it is about.
 *
 * - exit(1). tcc's error routine calls exit(1) for a hard error raised with
 *   no compile to longjmp out of, and prints to stderr then exits for any
 *   message raised with no current state: bad tcc_set_options strings (never
 *   called here), heap exhaustion (tcc_malloc), and a failing mprotect()
 *   while relocating. (Undefined symbols and a missing libtcc1.a are soft
 *   errors: reported through the callback, tcc_relocate returns -1.)
 *   The last one is avoided: the module's memory is mapped here, already
 *   readable, writable and executable, and tcc then relocates into it
 *   (tcc_relocate(s, NULL) for the size, then tcc_relocate(s, mem)). tcc's
 *   own mprotect(RWX) on that range changes nothing and cannot fail, and a
 *   system that forbids RWX memory makes our mmap fail, which is reported.
 *   Mapping the memory here also keeps tcc from making malloc heap pages
 *   executable (TCC_RELOCATE_AUTO mallocs the code and mprotects the whole
 *   pages around it), and gives septune_jit_code_size its answer.
 */
#define _GNU_SOURCE /* strerror_r returning char *, MAP_ANONYMOUS */
#include "jit.h"

#include <libtcc.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef SEPTUNE_TCC_RUNTIME_DIR
#define SEPTUNE_TCC_RUNTIME_DIR "/usr/lib/x86_64-linux-gnu/tcc"
#endif

struct septune_jit {
    TCCState *tcc;    /* kept alive: tcc_get_symbol needs its symbol table */
    void *mem;        /* mmap'd RWX block holding the relocated code and data */
    size_t map_size;  /* size of that mapping (whole pages) */
    size_t code_size; /* bytes tcc laid out in it */
};

/* Serialises every libtcc call in the process (see the header comment). */
static pthread_mutex_t g_tcc_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- diagnostics ------------------------------------------------------- */

/* Collects diagnostics straight into the caller's err buffer, truncating. */
typedef struct {
    char *buf;        /* NULL when the caller gave no buffer */
    size_t size;      /* capacity including the NUL */
    size_t len;       /* bytes written, excluding the NUL */
    unsigned count;   /* diagnostics written so far */
    const char *name; /* module name used for "tcc: " messages */
} diag;

static void diag_init(diag *d, char *err, size_t err_size, const char *name)
{
    d->buf = (err && err_size > 0) ? err : NULL;
    d->size = d->buf ? err_size : 0;
    d->len = 0;
    d->count = 0;
    d->name = name;
    if (d->buf)
        d->buf[0] = '\0';
}

static void diag_append(diag *d, const char *s, size_t n)
{
    if (!d->buf || d->len + 1 >= d->size)
        return;
    size_t room = d->size - 1 - d->len;
    if (n > room)
        n = room;
    memcpy(d->buf + d->len, s, n);
    d->len += n;
    d->buf[d->len] = '\0';
}

static void diag_str(diag *d, const char *s) { diag_append(d, s, strlen(s)); }

/* Starts a new diagnostic line. */
static void diag_begin(diag *d)
{
    if (d->count++ > 0)
        diag_append(d, "\n", 1);
}

static void diag_printf(diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diag_printf(diag *d, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    diag_begin(d);
    diag_append(d, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* tcc's error callback; runs on the compiling thread with g_tcc_lock held. */
static void on_tcc_diagnostic(void *opaque, const char *msg)
{
    diag *d = opaque;
    diag_begin(d);
    /* Messages without a file position come as "tcc: error: ..." */
    if (strncmp(msg, "tcc: ", 5) == 0) {
        diag_str(d, d->name);
        diag_str(d, ": ");
        msg += 5;
    }
    /* Keep the text on the line(s) tcc gave, minus any trailing newline. */
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        n--;
    diag_append(d, msg, n);
}

/* Installed once a module is built: nothing is reported after relocation,
 * but if tcc ever did, it must neither print nor touch a dead diag. */
static void on_tcc_silence(void *opaque, const char *msg)
{
    (void)opaque;
    (void)msg;
}

/* ---- source with a #line prefix ---------------------------------------- */

/* Returns a malloc'd copy of source preceded by `#line 1 "<name>"`, the name
 * escaped as a C string literal, or NULL when out of memory. */
static char *with_line_directive(const char *source, const char *name)
{
    size_t name_len = strlen(name), src_len = strlen(source);
    /* worst case: every byte of the name becomes a 4-byte octal escape */
    if (name_len > (SIZE_MAX - src_len - 32) / 4)
        return NULL;
    size_t cap = 16 + 4 * name_len + src_len + 1;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    char *p = buf;
    memcpy(p, "#line 1 \"", 9);
    p += 9;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        if (*c == '"' || *c == '\\') {
            *p++ = '\\';
            *p++ = (char)*c;
        } else if (*c < 0x20 || *c == 0x7f) {
            p += sprintf(p, "\\%03o", *c);
        } else {
            *p++ = (char)*c;
        }
    }
    *p++ = '"';
    *p++ = '\n';
    memcpy(p, source, src_len + 1);
    return buf;
}

/* ---- API ---------------------------------------------------------------- */

static size_t page_size(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (size_t)ps : 4096;
}

int septune_jit_compile(const char *source, const char *name, septune_jit **out,
                        char *err, size_t err_size)
{
    diag d;
    diag_init(&d, err, err_size, name ? name : "<jit>");
    if (out)
        *out = NULL;
    if (!source) {
        diag_printf(&d, "septune_jit_compile: source is NULL");
        return -1;
    }
    if (!out) {
        diag_printf(&d, "septune_jit_compile: out is NULL");
        return -1;
    }

    septune_jit *m = calloc(1, sizeof *m);
    char *text = with_line_directive(source, d.name);
    if (!m || !text) {
        free(m);
        free(text);
        diag_printf(&d, "septune_jit_compile: out of memory");
        return -1;
    }

    int rc = -1;
    pthread_mutex_lock(&g_tcc_lock);
    TCCState *s = tcc_new();
    if (!s) {
        diag_printf(&d, "septune_jit_compile: out of memory");
        goto unlock;
    }
    /* The callback first: nothing after this point reaches stderr. */
    tcc_set_error_func(s, &d, on_tcc_diagnostic);
    /* Before the output type: tcc_set_output_type expands {B}/include from it. */
    tcc_set_lib_path(s, SEPTUNE_TCC_RUNTIME_DIR);
    if (tcc_set_output_type(s, TCC_OUTPUT_MEMORY) < 0 || tcc_compile_string(s, text) < 0)
        goto unlock;

    /* Size pass: links libtcc1.a/libc and resolves symbols; undefined
     * symbols are reported here. */
    int size = tcc_relocate(s, NULL);
    if (size < 0)
        goto unlock;
    size_t ps = page_size();
    size_t map_size = ((size_t)size + ps - 1) / ps * ps;
    if (map_size == 0)
        map_size = ps;
    void *mem = mmap(NULL, map_size, PROT_READ | PROT_WRITE | PROT_EXEC,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        char ebuf[128];
        diag_printf(&d, "septune_jit_compile: cannot map %zu bytes of executable memory: %s",
                    map_size, strerror_r(errno, ebuf, sizeof ebuf));
        goto unlock;
    }
    if (tcc_relocate(s, mem) < 0) { /* not expected after a good size pass */
        munmap(mem, map_size);
        goto unlock;
    }
    /* d lives on this stack frame: detach it (a NULL callback would make tcc
     * print to stderr). */
    tcc_set_error_func(s, NULL, on_tcc_silence);
    m->tcc = s;
    m->mem = mem;
    m->map_size = map_size;
    m->code_size = (size_t)size;
    s = NULL;
    rc = 0;

unlock:
    if (s)
        tcc_delete(s);
    pthread_mutex_unlock(&g_tcc_lock);
    free(text);
    if (rc == 0) {
        *out = m;
    } else {
        free(m);
        if (d.count == 0) /* tcc failed without saying why */
            diag_printf(&d, "%s: error: compilation failed", d.name);
    }
    return rc;
}

void *septune_jit_symbol(const septune_jit *m, const char *symbol)
{
    if (!m || !symbol)
        return NULL;
    pthread_mutex_lock(&g_tcc_lock);
    void *p = tcc_get_symbol(m->tcc, symbol);
    pthread_mutex_unlock(&g_tcc_lock);
    return p;
}

void septune_jit_free(septune_jit *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&g_tcc_lock);
    tcc_delete(m->tcc);
    pthread_mutex_unlock(&g_tcc_lock);
    munmap(m->mem, m->map_size);
    free(m);
}

size_t septune_jit_code_size(const septune_jit *m) { return m ? m->code_size : 0; }
