/*
 * fuzz.h — what the fuzz targets of tests/fuzz share: a check that aborts
 * (libFuzzer reports an abort as a crash and saves the input), NUL-terminated
 * copies of an input, and files in a scratch directory for the readers that
 * take a path.
 *
 * Every target defines LLVMFuzzerInitialize and LLVMFuzzerTestOneInput.
 * Linked with libFuzzer (-DSEPTUNE_FUZZ=ON, clang) they fuzz; linked with
 * replay_main.c (any compiler) they run the inputs named on the command
 * line once each, which is how the normal test suite replays the corpora.
 */
#ifndef SEPTUNE_FUZZ_H
#define SEPTUNE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry points. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the file, line, the failed condition and a printf-style
 * explanation when cond is false. */
#define FUZZ_CHECK(cond, ...)                                                                                          \
  do {                                                                                                                 \
    if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                                    \
  } while (0)

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

/* data[0..size) with a NUL after it, malloc'd (aborts when out of memory);
 * as a C string it ends at the first NUL of data. */
char *fuzz_string(const uint8_t *data, size_t size);

/* Writes data[0..size) to the file `name` of this process's scratch
 * directory (made on first use under $TMPDIR, else /dev/shm, else /tmp, and
 * removed at exit) and returns its path, valid until the next call with the
 * same name. Aborts when the file cannot be written. */
const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size);

/* The path of `name` in the scratch directory, without writing anything. */
const char *fuzz_path(const char *name);

/* 1 when the message of an error is a non-empty string within its buffer. */
int fuzz_message_ok(const char *msg, size_t size);

#endif
