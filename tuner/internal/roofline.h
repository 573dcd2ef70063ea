/*
 * roofline.h — this machine's ceilings (single-thread FMA peak, L2 and
 * beyond-L2 streaming bandwidth), the roofline limit of a layer, and the
 * roofline chart of a tune as a standalone SVG.
 */
#ifndef SEPTUNE_ROOFLINE_H
#define SEPTUNE_ROOFLINE_H

#include <stddef.h>

#include "septune.h"

typedef struct roofline {
  double peak_gflops;     /* bench_fma_peak_gflops */
  const char *peak_isa;   /* the instructions the peak was measured with */
  double bw_l2_gbs;       /* read+write bandwidth of a copy within L2 */
  double bw_far_gbs;      /* the same over a buffer 8x the size of L2 */
  size_t l2_bytes;        /* L2 size per core from the CPU signature (1 MiB if unknown) */
  int cores;              /* the ceilings are of this many cores (1 as measured) */
} roofline;

/* Measures the ceilings on the calling thread (pin it first). About 0.4 s. */
void roofline_measure(roofline *rf);

/* Measures the ceilings on each CPU the calling thread may run on, pinned
 * to one after the other (at most `max`; the thread's CPU set is restored
 * after): per[i] for cpus[i]. On a shared VM the CPUs differ at times (a
 * neighbour on the same physical core): a depthwise layer ran up to 40%
 * slower on one of two vCPUs than on the other while the FMA peaks agreed, so a
 * static split over both waits for the slower. Returns the number of CPUs
 * measured, 0 when the CPU set cannot be read or set. */
int roofline_measure_cpus(roofline per[], int cpus[], int max);

/* Measures again and keeps the higher value of each ceiling: on a shared
 * machine a neighbour's burst during one measurement lowers it, and a
 * ceiling is the best the machine can do. */
void roofline_measure_again(roofline *rf);

/* The ceilings of `cores` cores (a tune for that many threads): each one
 * core's times the cores, L2's size too. The beyond-L2 bandwidth of several
 * cores is less than that on most machines: an upper bound. */
void roofline_for_cores(roofline *rf, int cores);

/* Bytes a layer moves at least once: input, output, weights and bias. */
double roofline_bytes(const septune_op *op);

/* Flops per byte of the layer. */
double roofline_intensity(const septune_op *op);

/* The attainable GFLOP/s of the layer: min(peak, intensity x bandwidth),
 * the bandwidth of L2 when the layer's bytes fit in L2, else beyond-L2. */
double roofline_limit(const roofline *rf, const septune_op *op);

typedef struct roofline_point {
  const char *label;      /* layer name */
  double intensity;       /* flop/byte */
  double default_gflops;  /* 0: not measured */
  double tuned_gflops;
} roofline_point;

/* Writes the chart (log-log: intensity vs GFLOP/s; the compute and the two
 * bandwidth ceilings; per point the default and the tuned kernel joined by
 * an arrow) to `path` atomically and safely in a shared directory: a
 * temporary file made with O_EXCL beside it, then rename (safe_file.h says
 * what is refused). Returns 0, or -1 with the reason in why. */
int roofline_svg(const char *path, const char *title, const roofline *rf, const roofline_point *pts, size_t n,
                 char *why, size_t why_size);

#endif
