/*
 * septune_kernel_table.h — the table that `septune emit` writes: statically
 * compiled kernels, each with the layer it was generated for.
 *
 * This header depends on nothing. `septune emit` copies it verbatim into the
 * header it writes, so emitted sources build with libc alone; septune.h
 * includes it too, and the include guard lets a program include both.
 *
 * Kernel calling convention (every emitted kernel, both ops):
 *   kernel(in, out, packed, zero_row, scratch, begin, end)
 *     A kernel is generated for one image (its entry's op line says n=1)
 *     and cuts that image's work into work() items; a call runs items
 *     [begin, end) of n images' n * work(), item i of image i / work(). The
 *     items of one call, or of calls on several threads at once, may be any
 *     partition of [0, n * work()): each output element belongs to one
 *     item and is computed the same way whatever the partition, so the
 *     output is bitwise the same for every split and thread count.
 *     in, out   NHWC tensors of n images of the entry's layer. For depthwise
 *               with multiplier m > 1, `in` is the input with every channel
 *               repeated m times (channel c*m + j holds input channel c).
 *     packed    pointwise: what pack() wrote into packed_floats() floats.
 *               depthwise: rows of co_pad = round_up(c*m,
 *               SEPTUNE_KERNEL_PACK_LANES) floats, the bias (zeros when
 *               none) then one row per tap in [kh][kw] order, the padding
 *               zero.
 *     zero_row  depthwise: w*c*m + SEPTUNE_KERNEL_PACK_LANES zero floats;
 *               pointwise: unused.
 *     scratch   unused by the kernels of this version.
 *     begin, end  the items to run, 0 <= begin <= end <= n * work().
 * All pointers 4-byte aligned at least; a 64-byte aligned `out` lets a
 * kernel with non-temporal stores use them.
 *
 * ABI history: 1 — first version. 2 — kernels for one image that run a
 * range of work items (begin, end; work() and threads() in the entry); op
 * lines with n=1.
 */
#ifndef SEPTUNE_KERNEL_TABLE_H
#define SEPTUNE_KERNEL_TABLE_H

#ifdef __cplusplus
extern "C" {
#endif

#define SEPTUNE_KERNEL_TABLE_ABI 2

/* Depthwise weight rows are padded to this many floats, so that a full
 * vector of any ISA loads at the channel tail. The generator reads it from
 * here (through runtime/src/generator.c). */
#define SEPTUNE_KERNEL_PACK_LANES 16

typedef void (*septune_kernel_fn)(const float *in, float *out, const float *packed, const float *zero_row,
                                  float *scratch, long begin, long end);

typedef struct septune_kernel_entry {
  const char *op;      /* the layer as its canonical line (septune_op_format)
                          with n=1, e.g. "dw n=1 h=56 w=56 c=144 kh=3 kw=3 ...":
                          the key; it serves the layer at any batch size */
  int isa;             /* the septune_isa the kernel needs: 1 scalar, 2 sse,
                          3 avx2, 4 avx512 */
  int tuned;           /* 1: knobs from a tuning-database record; 0: default */
  const char *knobs;   /* canonical "key=value,..." the kernel was generated with */
  const char *symbol;  /* the kernel function's name */
  septune_kernel_fn kernel;
  long (*work)(void);    /* work items per image (>= 1) */
  long (*threads)(void); /* the most threads worth waking for the layer (>= 1) */
  long (*packed_floats)(void);                               /* pointwise; NULL for depthwise */
  void (*pack)(const float *weights, const float *bias, float *packed); /* pointwise; NULL for depthwise */
} septune_kernel_entry;

typedef struct septune_kernel_table {
  int abi;                 /* SEPTUNE_KERNEL_TABLE_ABI of the emitter */
  int template_version;    /* the generator's template version */
  const char *name;        /* the table's name (emit --name) */
  const char *cpu;         /* signature of the CPU the tuned records were measured on; "" if none */
  long count;
  const septune_kernel_entry *entries;
} septune_kernel_table;

#ifdef __cplusplus
}
#endif
#endif /* SEPTUNE_KERNEL_TABLE_H */
