/*
 * bench_common.h — small helpers shared by the benchmark programs
 * (peer_check, bench_layers): reproducible data, the output comparison,
 * shape strings and model files.
 *
 * Nothing here prints except the model-file readers, which report a bad
 * file or line on stderr prefixed with the calling program's name.
 */
#ifndef SEPTUNE_BENCH_COMMON_H
#define SEPTUNE_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "septune.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- reproducible data -------------------------------------------------- */

/* Deterministic data, independent of libc's rand: the runtime's generator
 * (septune_random_next), one stream per layer. */
typedef struct bench_rng {
  unsigned long long state;
} bench_rng;

/* Seeds r for layer number `layer` (0-based) of a run with seed `seed`, so
 * that every layer gets its own stream whatever the layers before it were. */
void bench_rng_seed(bench_rng *r, unsigned long long seed, size_t layer);

/* Fills v[0..n) with values uniform in [-scale, scale). */
void bench_fill(bench_rng *r, float *v, size_t n, float scale);

/* ---- comparison --------------------------------------------------------- */

/* Largest errors of got against ref over n elements. Error per element:
 * |got - ref| / max(|ref|, 1), i.e. relative for large values and absolute
 * near zero (where cancellation makes a relative error meaningless). A NaN
 * in one but not the other counts as infinite error; NaN in both is equal. */
void bench_compare(const float *got, const float *ref, size_t n, double *max_abs,
                   double *max_rel);

/* ---- shapes --------------------------------------------------------------- */

/* A compact description of op: "dw 56x56x144 k3 s1" (batch, dilation and
 * multiplier added only when not 1) or "pw 56x56 144>24". With full != 0 the
 * padding (t,l,b,r), activation and "+b" for a bias follow:
 * "dw 56x56x144 k3 s1 p1111 relu6". A block: "ir 112x112 16>96>24 k3 s2"
 * ("+res" with a residual) or "sep 112x112 32>16 k3 s1", whatever full. */
void bench_shape_string(const septune_op *op, int full, char *buf, size_t n);

/* ---- model files ---------------------------------------------------------- */

typedef struct bench_layer_entry {
  septune_layer layer;
  char where[96]; /* "file:line", or whatever the caller passed */
} bench_layer_entry;

typedef struct bench_layer_list {
  bench_layer_entry *v;
  size_t n, cap;
} bench_layer_list; /* zero-initialise before use */

/* Parses one layer line and appends it. Blank and comment lines are skipped
 * (returns 0, nothing added). Returns -1 after printing "prog: where: why"
 * for a malformed line or when out of memory. */
int bench_layer_list_add(bench_layer_list *l, const char *line, const char *where,
                         const char *prog);

/* Appends every layer of a model file (the tuner's reader, model_file.h).
 * Returns 0, or -1 after printing the problems (unreadable file, each bad
 * line). */
int bench_layer_list_read(bench_layer_list *l, const char *path, const char *prog);

void bench_layer_list_free(bench_layer_list *l);

/* With threads: measures the FMA peak and the copy bandwidth within L2 on
 * each CPU the program is pinned to, one after the other, and prints them
 * on one line (the CPUs of a shared VM differ at times, and a split over
 * them waits for the slower). Returns the sum of the CPUs' peaks, 0 when
 * they could not be measured. */
double bench_print_cpu_ceilings(void);

#ifdef __cplusplus
}
#endif
#endif /* SEPTUNE_BENCH_COMMON_H */
