/*
 * replay_main.c — runs a fuzz target without libFuzzer: each file named on
 * the command line, and each regular file of each directory named (in name
 * order), goes once through LLVMFuzzerTestOneInput. A failed check aborts,
 * so the test fails on the input that broke it (its path is printed before
 * it runs). Exits 1 when no input was found: an empty corpus is a mistake.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static void run_file(const char *path, long *count)
{
  FILE *f = fopen(path, "rb");
  FUZZ_CHECK(f != NULL, "cannot open %s: %s", path, strerror(errno));
  size_t cap = 4096, len = 0;
  uint8_t *data = malloc(cap);
  FUZZ_CHECK(data != NULL, "out of memory");
  for (size_t n; (n = fread(data + len, 1, cap - len, f)) > 0;) {
    len += n;
    if (len == cap) {
      data = realloc(data, cap *= 2);
      FUZZ_CHECK(data != NULL, "out of memory");
    }
  }
  FUZZ_CHECK(!ferror(f), "cannot read %s", path);
  fclose(f);
  fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
  LLVMFuzzerTestOneInput(data, len);
  free(data);
  (*count)++;
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

int main(int argc, char **argv)
{
  long count = 0;
  LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++) {
    struct stat st;
    FUZZ_CHECK(stat(argv[i], &st) == 0, "cannot read %s: %s", argv[i], strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
      run_file(argv[i], &count);
      continue;
    }
    struct dirent **names;
    int n = scandir(argv[i], &names, NULL, by_name);
    FUZZ_CHECK(n >= 0, "cannot list %s: %s", argv[i], strerror(errno));
    for (int j = 0; j < n; j++) {
      char path[8192];
      snprintf(path, sizeof path, "%s/%s", argv[i], names[j]->d_name);
      if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) run_file(path, &count);
      free(names[j]);
    }
    free(names);
  }
  printf("%s: %ld input%s replayed\n", argv[0], count, count == 1 ? "" : "s");
  return count > 0 ? 0 : 1;
}
