/*
 * timing.h — the tuner's clock and measurement helpers, also used by the
 * benchmarks.
 *
 *   bench_now_us              monotonic clock (CLOCK_MONOTONIC) in microseconds
 *   bench_pin_cpu             pins the calling thread to one CPU
 *   bench_pin_cpus            pins it to a number of CPUs (threaded work)
 *   bench_measure             one callback: warm-up, then batches of repetitions
 *                             until a minimum duration; median and min per call
 *   bench_measure_interleaved K callbacks alternated round by round so that noise
 *                             (frequency changes, a neighbour's build) hits all alike
 *   bench_fma_peak_gflops     this core's single-thread fp32 FMA peak
 *
 * Nothing here prints; all times are per call of the callback, in µs.
 */
#ifndef SEPTUNE_TIMING_H
#define SEPTUNE_TIMING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A measured piece of work. Returns 0 on success; a non-zero value stops the
 * measurement, which then returns that value. */
typedef int (*bench_fn)(void *ctx);

typedef struct bench_stats {
  double median_us;  /* median over samples (rounds) of the time per call */
  double min_us;     /* fastest sample */
  double max_us;     /* slowest sample */
  int samples;       /* samples (rounds) taken */
  long reps;         /* calls per sample (per round, for the interleaved helper) */
} bench_stats;

/* Monotonic time in microseconds (arbitrary origin). */
double bench_now_us(void);

/* Pins the calling thread to `cpu`; cpu < 0 picks the CPU the thread runs on
 * now. Returns the CPU pinned to, or -1 on failure (the thread is left as it
 * was). */
int bench_pin_cpu(int cpu);

/* Pins the calling thread (and so the threads and children it makes later)
 * to `count` of the CPUs it may run on: the one it runs on now and the next
 * ones in number order, wrapping around. Returns the CPUs pinned to (fewer
 * than count when fewer are allowed), or -1 on failure (left as it was). */
int bench_pin_cpus(int count);

/* Warm-up (at least one call and ~min(20 ms, min_total_ms/4)), then samples
 * of `reps` calls each, reps chosen so that one sample lasts >= 100 µs, until
 * at least min_total_ms have been spent and at least 5 samples taken.
 * min_total_ms <= 0 means 200 ms. Returns 0, or the callback's non-zero result. */
int bench_measure(bench_fn fn, void *ctx, double min_total_ms, bench_stats *out);

/* Interleaved measurement of k callbacks: each is warmed up and calibrated,
 * then `rounds` rounds (< 1 means 15) run every candidate for >= round_ms
 * (<= 0 means 2 ms) of repetitions, after one untimed call that brings its
 * data back into cache, the order rotating from round to round.
 * out[i] gets the median/min/max across rounds of candidate i's time per call.
 * Returns 0, or the first non-zero callback result. */
int bench_measure_interleaved(size_t k, const bench_fn fns[], void *const ctxs[], int rounds,
                              double round_ms, bench_stats out[]);

/* bench_measure_interleaved with a pause of settle_ms before each
 * candidate's round (before its untimed call): thread pools spin for some
 * milliseconds after a job before they sleep (pthreadpool ~25 ms, OpenMP
 * less), and without the pause one library's spinning threads would take
 * cores from the next one's round. */
int bench_measure_interleaved_settled(size_t k, const bench_fn fns[], void *const ctxs[], int rounds,
                                      double round_ms, double settle_ms, bench_stats out[]);

/* Sleeps ms milliseconds (a pause for thread pools to stop spinning). */
void bench_pause_ms(double ms);

/* Writes and reads every cache line of buf (n floats), so that the caches
 * hold nothing else; returns a sum for the caller to keep. */
float bench_flush_caches(float *buf, size_t n);

/* Cold caches: `rounds` rounds (< 1 means 15), each timing one call of
 * every candidate right after a flush of flush_mb MiB (the first rotating
 * from round to round), as an inference meets a layer whose data the rest
 * of the network has evicted. out[i] gets the median/min/max of candidate
 * i's calls. Returns 0, -1 when out of memory, or the first non-zero
 * callback result. */
int bench_measure_cold(size_t k, const bench_fn fns[], void *const ctxs[], int rounds, double flush_mb,
                       bench_stats out[]);

/* Single-thread fp32 peak of this core in GFLOP/s (2 flops per FMA lane),
 * measured with an inline-asm loop of independent FMAs: AVX-512 when the CPU
 * has it, else AVX2+FMA, else SSE mul+add. Takes about 0.2 s. `isa`, when not
 * NULL, receives "avx512", "avx2" or "sse". Best of several trials. */
double bench_fma_peak_gflops(const char **isa);

#ifdef __cplusplus
}
#endif
#endif /* SEPTUNE_TIMING_H */
