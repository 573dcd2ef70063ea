/* jit.h — septune's internal C API over libtcc (Debian 0.9.27+git20200814).
 *
 * A septune_jit is one compiled module: the TCCState that compiled it and the
 * executable memory holding its code and data. Compile a C source with
 * septune_jit_compile, look functions up with septune_jit_symbol, release
 * everything with septune_jit_free.
 *
 * Threads: every call may be made from any thread at any time, including the
 * very first compile of the process (no warm-up on the main thread is needed).
 * libtcc of this version keeps global state, so all libtcc calls made by this
 * file are serialised by one process-wide mutex: compiles from several threads
 * are safe but do not run in parallel. Executing the compiled code takes no
 * lock. All libtcc use in the process must go through this API, otherwise the
 * mutex does not protect it.
 *
 * What the compiled source sees: tcc's own headers (stddef.h, stdarg.h, ...)
 * and the system headers under /usr/include; libc and libtcc1.a are linked,
 * and any other undefined symbol is resolved against the running process
 * (dlsym), so a kernel may call libc functions such as memset.
 *
 * Processes that libtcc still ends with exit(1), which this API cannot catch:
 * running out of heap memory inside libtcc. Everything else is reported as an
 * error return.
 */
#ifndef SEPTUNE_JIT_H
#define SEPTUNE_JIT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One compiled module: owns its TCCState and its executable memory. */
typedef struct septune_jit septune_jit;

/* Compiles the C source `source` and links it into executable memory.
 *
 * `name` is the file name the diagnostics use (e.g. "dw_3x3_avx512.c"); NULL
 * means "<jit>". The source is compiled as if it were that file: line numbers
 * in diagnostics count from the first line of `source`, and __FILE__ is `name`.
 * Any bytes are accepted in `name` (it is escaped for tcc), but a newline in it
 * would split a diagnostic over two lines.
 *
 * On success returns 0 and sets *out to the new module (free it with
 * septune_jit_free); err then holds tcc's warnings in the format below, or
 * the empty string when there were none.
 *
 * On failure returns -1 and sets *out = NULL (when out is not NULL), and
 * writes into err every diagnostic, errors and warnings, one per line (no
 * trailing newline), in the order tcc reported them:
 *   - compile errors and warnings:  "<name>:<line>: error: ..." /
 *                                   "<name>:<line>: warning: ..."
 *     (an error inside an #included header is reported by tcc on two lines,
 *      "In file included from <name>:<line>:" then "<header>:<line>: error: ...")
 *   - link errors (reported when the code is relocated, after compiling),
 *     without a line number:        "<name>: error: undefined symbol 'foo'"
 *                                   "<name>: error: file '.../libtcc1.a' not found"
 *   - errors of this wrapper itself:
 *     "septune_jit_compile: source is NULL"
 *     "septune_jit_compile: out is NULL"
 *     "septune_jit_compile: out of memory"
 *     "septune_jit_compile: cannot map <n> bytes of executable memory: <strerror>"
 *       (e.g. when a security policy forbids writable+executable memory)
 * err is always NUL-terminated when err != NULL and err_size > 0; the text is
 * cut at err_size - 1 bytes when longer. err may be NULL and err_size may be 0:
 * then nothing is written.
 *
 * Never prints, never exits (except on heap exhaustion inside libtcc, see
 * above); safe to call from several threads at once. */
int septune_jit_compile(const char *source, const char *name, septune_jit **out,
                        char *err, size_t err_size);

/* Returns the address of the non-static function or object named `symbol`
 * defined by module m, or NULL when m or symbol is NULL or the module defines
 * no such non-static symbol. The address stays valid until septune_jit_free(m).
 * Thread-safe; may be called concurrently with compiles and with other lookups. */
void *septune_jit_symbol(const septune_jit *m, const char *symbol);

/* Frees the module, its TCCState and its code: every address obtained from
 * septune_jit_symbol(m, ...) becomes invalid. NULL is a no-op. Thread-safe
 * (for different modules). */
void septune_jit_free(septune_jit *m);

/* Size in bytes of the module's code and data as laid out by tcc (text, data,
 * bss, GOT/PLT and the libtcc1/libc_nonshared members linked in, plus
 * alignment), for reports; 0 when m is NULL. The executable mapping that holds
 * it is this size rounded up to whole pages. */
size_t septune_jit_code_size(const septune_jit *m);

#ifdef __cplusplus
}
#endif

#endif /* SEPTUNE_JIT_H */
