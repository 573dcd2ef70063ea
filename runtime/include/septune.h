/*
 * septune.h — the public API of septune: tuned depthwise and pointwise (1x1)
 * convolution kernels for the CPU the program runs on.
 *
 * Conventions
 *   - Activations are NHWC, fp32, contiguous, batch N >= 1.
 *   - Every function that can fail returns a septune_status. Functions taking
 *     a `septune_error *err` also fill it (when err is not NULL) with the
 *     status and a one-line message naming what is wrong, e.g.
 *     "depthwise: h must be >= 1 (got 0)". The library never prints and never
 *     calls exit.
 *   - Dimensions are int64_t so that a negative value is reported as such
 *     instead of wrapping around.
 *   - A plan is immutable once created; septune_execute may be called on the
 *     same plan from several threads at once (each call with its own tensors).
 *   - Threads: a plan splits each execution across threads (options.threads,
 *     options.pool; "Threads" below says who may call what at once). The
 *     output is bitwise the same for every thread count and every run.
 */
#ifndef SEPTUNE_H
#define SEPTUNE_H

#include <stddef.h>
#include <stdint.h>

#include "septune_kernel_table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* pthreadpool's pool (pthreadpool.h: typedef struct pthreadpool *pthreadpool_t),
 * declared here so that this header needs no pthreadpool header. */
struct pthreadpool;

/* Every function declared here is the API that libseptune_rt.so exports; the
 * library is built with every other symbol hidden. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define SEPTUNE_VERSION_MAJOR 0
#define SEPTUNE_VERSION_MINOR 1
#define SEPTUNE_VERSION_PATCH 0

/* The version of the library linked in, "MAJOR.MINOR.PATCH" (the build's
 * project version, e.g. "0.1.0"); it may differ from the SEPTUNE_VERSION_*
 * of the header a program was compiled with. A static string; never fails. */
const char *septune_version(void);

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */

typedef enum septune_status {
  SEPTUNE_OK = 0,
  SEPTUNE_ERR_INVALID_ARGUMENT = 1, /* a NULL pointer or a bad descriptor field */
  SEPTUNE_ERR_UNSUPPORTED = 2,      /* valid request this build or CPU cannot serve
                                       (e.g. a forced ISA the CPU lacks) */
  SEPTUNE_ERR_OUT_OF_MEMORY = 3,
  SEPTUNE_ERR_GENERATOR = 4,        /* the Lua generator failed to render a kernel */
  SEPTUNE_ERR_COMPILE = 5,          /* libtcc rejected the generated source */
  SEPTUNE_ERR_IO = 6,               /* a file could not be read or written */
  SEPTUNE_ERR_PARSE = 7             /* a layer line or database line is malformed */
} septune_status;

#define SEPTUNE_ERROR_MESSAGE_SIZE 512

/* Sizes, with the terminating NUL, of the texts the API hands over. */
#define SEPTUNE_KNOBS_SIZE 128   /* a canonical knob string "key=value,..." */
#define SEPTUNE_OP_LINE_SIZE 1024 /* septune_op_format of any valid op fits */

typedef struct septune_error {
  septune_status status;
  char message[SEPTUNE_ERROR_MESSAGE_SIZE];
} septune_error;

/* Returns a static, human-readable name for a status ("invalid argument",
 * ...); "unknown status" for a value outside the enum. Never NULL. */
const char *septune_status_string(septune_status status);

/* ------------------------------------------------------------------------ */
/* Instruction sets                                                          */

typedef enum septune_isa {
  SEPTUNE_ISA_AUTO = 0,   /* the best ISA the CPU and OS support */
  SEPTUNE_ISA_SCALAR = 1, /* portable C, any CPU */
  SEPTUNE_ISA_SSE = 2,    /* x86-64 SSE, 4 lanes */
  SEPTUNE_ISA_AVX2 = 3,   /* AVX2 + FMA3, 8 lanes */
  SEPTUNE_ISA_AVX512 = 4  /* AVX-512F, 16 lanes */
} septune_isa;

/* Returns 1 when this CPU and its OS (XSAVE state enabled) can run `isa`,
 * else 0. SEPTUNE_ISA_AUTO and SEPTUNE_ISA_SCALAR always return 1; an
 * unknown value returns 0. The environment variable
 * SEPTUNE_MAX_ISA=scalar|sse|avx2|avx512 caps the answer (an ISA wider than
 * the cap returns 0), which lets one machine test the paths of older CPUs. */
int septune_cpu_has_isa(septune_isa isa);

/* Returns the widest ISA septune_cpu_has_isa accepts. Never AUTO. */
septune_isa septune_cpu_best_isa(void);

/* Returns "auto", "scalar", "sse", "avx2" or "avx512"; "unknown" otherwise. */
const char *septune_isa_name(septune_isa isa);

/* Parses an ISA name as printed by septune_isa_name. Returns SEPTUNE_OK, or
 * SEPTUNE_ERR_INVALID_ARGUMENT for NULL or an unknown name. */
septune_status septune_isa_from_name(const char *name, septune_isa *isa);

/* ------------------------------------------------------------------------ */
/* Activations                                                               */

/* The activation fused after the bias. Accuracy, measured against the
 * exact function of the float input (a double-precision reference) over
 * every float input class (tests/c/test_activation_sweep.c):
 *   none, relu, relu6, clamp: exact.
 *   hswish, hsigmoid: within 2 * 2^-23 * max(|f(x)|, 2^-126)
 *     (one rounding each of x + 3, of the multiply by the rounded 1/6 and,
 *     for hswish, of the product with x).
 *   sigmoid, silu: within 3 * 2^-23 * max(|f(x)|, 2^-126): relative error
 *     below 3 units of 2^-23 for every normal result; results below 2^-126
 *     are subnormal floats, rounded once.
 *   gelu, gelu_tanh: within 3 * 2^-23 * max(|f(x)|, 1): relative error where
 *     |f(x)| >= 1, absolute error 3 * 2^-23 where |f(x)| < 1 (the negative
 *     tail, where f(x) tends to -0 and x itself is many times larger).
 * Special values: NaN gives NaN (all but relu, relu6 and clamp, whose x86
 * kernels may map NaN to a bound); -0 gives -0 (hswish, silu, gelu,
 * gelu_tanh) or f(0); +-inf give the limits: sigmoid and hsigmoid 1 and 0;
 * silu, gelu and gelu_tanh +inf and -0; hswish +inf and NaN (-inf * 0).
 * The kernels compute sigmoid, silu, gelu and gelu_tanh as x * sigmoid(w)
 * with w = x (silu), sqrt(8/pi) * (x + 0.044715 x^3) (gelu_tanh), or a
 * minimax polynomial of x (gelu: the logit of the normal CDF); sigmoid(w) is
 * a quotient of 2^32-scaled exponentials, e^-|w| from a degree-6 polynomial
 * after range reduction to [-ln2/2, ln2/2]. */
typedef enum septune_activation {
  SEPTUNE_ACT_NONE = 0,
  SEPTUNE_ACT_RELU = 1,      /* max(x, 0) */
  SEPTUNE_ACT_RELU6 = 2,     /* min(max(x, 0), 6) */
  SEPTUNE_ACT_CLAMP = 3,     /* min(max(x, act_min), act_max); act_min <= act_max */
  SEPTUNE_ACT_HSWISH = 4,    /* x * min(max(x + 3, 0), 6) / 6 (MobileNetV3's hard swish) */
  SEPTUNE_ACT_HSIGMOID = 5,  /* min(max(x + 3, 0), 6) / 6 (PyTorch's Hardsigmoid) */
  SEPTUNE_ACT_SIGMOID = 6,   /* 1 / (1 + e^-x) */
  SEPTUNE_ACT_SILU = 7,      /* x * sigmoid(x) (SiLU, swish) */
  SEPTUNE_ACT_GELU = 8,      /* 0.5 x (1 + erf(x / sqrt(2))) (PyTorch's GELU default) */
  SEPTUNE_ACT_GELU_TANH = 9  /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
} septune_activation;

/* Returns "none", "relu", "relu6", "clamp", "hswish", "hsigmoid", "sigmoid",
 * "silu", "gelu", "gelu_tanh" (the names of layer lines); "unknown"
 * otherwise. */
const char *septune_activation_name(septune_activation act);

/* ------------------------------------------------------------------------ */
/* Operators                                                                 */

/* Depthwise convolution. Input [n][h][w][c]; output [n][oh][ow][c*multiplier]
 * where output channel o = ci*multiplier + m reads input channel ci (the
 * channel order of PyTorch's Conv2d(groups=c) and TensorFlow's
 * DepthwiseConv2D).
 *   oh = (h + pad_top + pad_bottom - dilation_h*(kh-1) - 1) / stride_h + 1
 *   ow = (w + pad_left + pad_right - dilation_w*(kw-1) - 1) / stride_w + 1
 * Canonical weight layout: [kh][kw][c*multiplier]. Bias (optional): [c*multiplier]. */
typedef struct septune_depthwise_desc {
  int64_t n, h, w, c;
  int64_t kh, kw;
  int64_t stride_h, stride_w;
  int64_t dilation_h, dilation_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  int64_t multiplier;
  int has_bias;                /* 0 or 1 */
  septune_activation act;
  float act_min, act_max;      /* used by SEPTUNE_ACT_CLAMP only */
} septune_depthwise_desc;

/* Pointwise (1x1) convolution: out[p][co] = act(bias[co] + sum_ci in[p][ci] * w[ci][co])
 * over p in n*h*w pixels: input [n][h][w][ci], output [n][h][w][co].
 * Canonical weight layout: [ci][co] (septune_weights_from_pytorch converts
 * PyTorch's [co][ci][1][1]). Bias: [co]. A plan packs the weights once into
 * the register-tile panels of its kernel. */
typedef struct septune_pointwise_desc {
  int64_t n, h, w, ci, co;
  int has_bias;
  septune_activation act;
  float act_min, act_max;
} septune_pointwise_desc;

/* Depthwise-separable block: depthwise (+bias, act) then pointwise
 * (+bias, act) in one call: input [n][h][w][c], output [n][oh][ow][co] with
 * oh, ow those of dw. The stages must chain: pw.n = dw.n, pw.h = oh,
 * pw.w = ow, pw.ci = dw.c*dw.multiplier (septune_op_validate names the
 * field that does not).
 * Canonical weight layout: the stages' canonical layouts one after the
 * other, dw [kh][kw][c*m] then pw [ci][co]. Bias: dw's [c*m] when
 * dw.has_bias, then pw's [co] when pw.has_bias (a stage without bias takes
 * no room; NULL when neither has one). */
typedef struct septune_separable_desc {
  septune_depthwise_desc dw;
  septune_pointwise_desc pw;
} septune_separable_desc;

/* Inverted residual (MobileNetV2/V3, EfficientNet): pointwise expand
 * (+bias, act), depthwise (+bias, act), pointwise project (+bias, act,
 * usually none), then, when residual is 1, plus the block's input:
 *   out = project(dw(expand(in))) + (residual ? in : 0)
 * Input [n][h][w][expand.ci], output [n][oh][ow][project.co]. The stages
 * must chain: dw.n/h/w = expand.n/h/w, dw.c = expand.co,
 * project.n = dw.n, project.h/w = dw's oh/ow, project.ci = dw.c*dw.multiplier.
 * residual = 1 needs the output shaped like the input: stride 1 on both
 * axes, oh = h, ow = w, project.co = expand.ci.
 * Canonical weight layout: expand [ci][mid], dw [kh][kw][mid*m], project
 * [mid*m][co], one after the other (mid = expand.co). Bias: expand's [mid],
 * dw's [mid*m], project's [co], each only when that stage has_bias, in this
 * order (NULL when none has one). */
typedef struct septune_inverted_residual_desc {
  septune_pointwise_desc expand;
  septune_depthwise_desc dw;
  septune_pointwise_desc project;
  int residual;                /* 0 or 1 */
} septune_inverted_residual_desc;

typedef enum septune_op_kind {
  SEPTUNE_OP_DEPTHWISE = 1,
  SEPTUNE_OP_POINTWISE = 2,
  SEPTUNE_OP_SEPARABLE = 3,
  SEPTUNE_OP_INVERTED_RESIDUAL = 4
} septune_op_kind;

typedef struct septune_op {
  septune_op_kind kind;
  union {
    septune_depthwise_desc dw;
    septune_pointwise_desc pw;
    septune_separable_desc sep;
    septune_inverted_residual_desc ir;
  } u;
} septune_op;

/* Fills *desc with a 1x1x1x1 depthwise layer: kernel 1x1, stride 1,
 * dilation 1, no padding, multiplier 1, no bias, no activation. Callers set
 * the fields they need afterwards. Does nothing if desc is NULL. */
void septune_depthwise_desc_init(septune_depthwise_desc *desc);

/* Fills *desc with a 1x1x1, ci=co=1 pointwise layer, no bias, no activation. */
void septune_pointwise_desc_init(septune_pointwise_desc *desc);

/* Sets the four paddings to TensorFlow's "same": output size ceil(in/stride),
 * total padding max((out-1)*stride + dilation*(k-1) + 1 - in, 0), split with
 * the smaller half on top/left (asymmetric for e.g. stride 2 on even sizes).
 * Returns SEPTUNE_ERR_INVALID_ARGUMENT for NULL or when h, w, kh, kw, stride
 * or dilation is < 1 (err names the field). */
septune_status septune_depthwise_pad_same(septune_depthwise_desc *desc, septune_error *err);

/* Sets the four paddings to 0 (TensorFlow's "valid"). Returns
 * SEPTUNE_ERR_INVALID_ARGUMENT for NULL. */
septune_status septune_depthwise_pad_valid(septune_depthwise_desc *desc, septune_error *err);

/* Validates an operator. Returns SEPTUNE_OK, or SEPTUNE_ERR_INVALID_ARGUMENT
 * with err naming the first bad field: a dimension < 1 (n, h, w, c, kh, kw,
 * stride, dilation, multiplier, ci, co), a negative padding, an output size
 * < 1, a tensor whose byte count overflows size_t, has_bias not 0/1, an
 * unknown activation or kind, clamp with act_min > act_max or a NaN bound.
 * A block (separable, inverted residual) is checked stage by stage (the
 * message names the stage, e.g. "inverted residual: dw: h must be >= 1"),
 * then the chaining: stages whose n, h or w do not match (e.g. "separable:
 * pw.h (56) must equal dw's output height (112)"), channel counts that do
 * not match ("inverted residual: dw.c (96) must equal expand.co (144)"), a
 * residual other than 0/1, or a residual on mismatched shapes (a stride
 * other than 1, "dw.stride_h is 2", or project.co != expand.ci). */
septune_status septune_op_validate(const septune_op *op, septune_error *err);

/* Output spatial size of a valid op (pointwise: oh=h, ow=w; a block: its
 * depthwise stage's). Returns
 * SEPTUNE_ERR_INVALID_ARGUMENT as septune_op_validate does. */
septune_status septune_op_output_size(const septune_op *op, int64_t *oh, int64_t *ow,
                                      septune_error *err);

/* Element counts of a valid op's tensors (input, output, weights, bias).
 * A block's weights and bias are those of its stages together (the
 * canonical layouts of the block descriptors); bias counts only the stages
 * with has_bias (0 when none). Any pointer may be NULL. Returns as
 * septune_op_validate. */
septune_status septune_op_tensor_sizes(const septune_op *op, size_t *input, size_t *output,
                                       size_t *weights, size_t *bias, septune_error *err);

/* Floating-point operations of one execution (2 per multiply-add; bias and
 * activation not counted). Returns 0 for an invalid op. */
double septune_op_flops(const septune_op *op);

/* Converts PyTorch weights to the canonical layout of a valid op:
 *   depthwise: [c*m][1][kh][kw]  ->  [kh][kw][c*m]
 *   pointwise: [co][ci][1][1]    ->  [ci][co]
 *   a block: src holds each stage's PyTorch tensor one after the other
 *   (separable: dw then pw; inverted residual: expand, dw, project), dst
 *   gets the stages' canonical layouts in the same order.
 * src and dst must not overlap. Returns SEPTUNE_ERR_INVALID_ARGUMENT for
 * NULL pointers or an invalid op. */
septune_status septune_weights_from_pytorch(const septune_op *op, const float *src, float *dst,
                                            septune_error *err);

/* The plain-C reference: obviously correct, slow. bias may be NULL only if
 * the op has no bias. A block runs its stages' references one after the
 * other through full-size intermediate tensors (allocated here), then adds
 * the residual. Returns SEPTUNE_ERR_INVALID_ARGUMENT for NULL tensors or an
 * invalid op, SEPTUNE_ERR_OUT_OF_MEMORY when a block's intermediates cannot
 * be allocated. */
septune_status septune_reference_execute(const septune_op *op, const float *weights,
                                         const float *bias, const float *input, float *output,
                                         septune_error *err);

/* ------------------------------------------------------------------------ */
/* Layer lines (the model-file format, one layer per line)                   */

/* A parsed layer line such as
 *   dw name=b2.dw h=56 w=56 c=144 k=3 s=1 pad=same act=relu6
 *   pw name=b2.project h=56 w=56 ci=144 co=24 act=none
 *   sep name=b0 h=112 w=112 c=32 k=3 s=1 pad=same co=16 act=relu6 pw.act=none bias=1
 *   ir name=b2 h=56 w=56 ci=24 t=6 co=24 k=3 s=1 pad=same act=relu6 bias=1 residual=1
 * dw keys: n h w c k|kh kw s|sh sw d|dh dw pad (same|valid|t,l,b,r) m act bias
 * pw keys: n h w ci co act bias
 * sep keys (separable block, the input's n h w c): the dw keys, co (the
 *   pointwise stage's output channels), act and bias (both stages), dw.act,
 *   pw.act, dw.bias, pw.bias (one stage, over act and bias).
 * ir keys (inverted residual, the input's n h w ci): t (expansion: mid =
 *   ci*t) or mid (expanded channels), co (output channels), the dw keys but
 *   c, residual=0|1 (default 0), act (expand and dw; project stays linear),
 *   bias (all three), expand.act, dw.act, project.act, expand.bias, dw.bias,
 *   project.bias (one stage).
 * A stride key on a block's pointwise stage (pw.s, expand.sh,
 * project.stride, ...) is an error naming it: only the depthwise stage has
 * a stride.
 * act: none relu relu6 hswish hsigmoid sigmoid silu gelu gelu_tanh clamp(min,max).
 * bias: 0|1 (default 0). n defaults to 1. */
typedef struct septune_layer {
  char name[64];   /* "" when the line has no name= */
  septune_op op;
} septune_layer;

/* Parses one layer line. Returns SEPTUNE_ERR_PARSE with err naming the key
 * and the problem when one key is at fault (unknown key, missing value, not
 * a number, out of range such as h=0, repeated key, unknown op), or
 * SEPTUNE_ERR_INVALID_ARGUMENT with err naming the field when the keys are
 * each fine but the op as a whole fails septune_op_validate (an output size
 * of 0, a tensor too large for size_t). Blank and comment (#) lines return
 * SEPTUNE_ERR_PARSE with message "empty line". */
septune_status septune_layer_parse(const char *line, septune_layer *layer, septune_error *err);

/* Formats op as a canonical layer line (no name) into buf. Returns the
 * length written, or the length needed (excluding NUL) if buf_size is too
 * small, like snprintf; a negative value for an invalid op. */
int septune_op_format(const septune_op *op, char *buf, size_t buf_size);

/* ------------------------------------------------------------------------ */
/* Plans                                                                     */

typedef struct septune_plan septune_plan;

/* The most threads a plan may have (septune_plan_options.threads). */
#define SEPTUNE_MAX_THREADS 1024

/* Threads
 *
 * A plan has a thread count T (options.threads; 0 means the CPUs this
 * process may run on, as sched_getaffinity says). Its kernel cuts the work
 * into items (a band of rows and a block of channels of one image for
 * depthwise, a block of pixels and a group of output channels for
 * pointwise), and septune_execute spreads them over a pthreadpool:
 *   - options.pool, the caller's pool (e.g. the one a framework already
 *     has), taken as it is: septune never creates threads for such a plan
 *     and never destroys the pool; it must outlive the plan;
 *   - else, for T > 1, a pool of T threads that the library owns and shares
 *     between every plan of T threads (made by the first execution of such
 *     a plan, destroyed with the last plan; the first plan checks that the
 *     system gives that many threads); T = 1 runs on the calling thread.
 * A layer too small to pay for waking T threads runs on fewer (the kernel's
 * knob th, the tuner's choice): never more than T, the pool's threads, or
 * the layer's items. The calling thread works as one of them.
 *
 * Who may call what at once:
 *   - septune_execute on one plan or on different plans from several
 *     threads: allowed. Calls whose plans use the same pool take turns on
 *     it (pthreadpool runs one parallel job at a time): correct, but not
 *     faster than one after the other.
 *   - septune_execute_on with a different pool per calling thread: the calls
 *     run in parallel, also on one plan.
 *   - plan creation and destruction, from any thread, concurrently with each
 *     other and with executions of other plans: allowed. Destroying a plan
 *     while it executes is not.
 *   - never call septune_execute from inside a task of the pool the plan
 *     runs on (the pool waits for its own task: a deadlock).
 * A process that forks keeps working in the child: the library's pools are
 * made afresh there on first use (a caller's pool is the caller's affair:
 * pthreadpool's threads do not survive fork). Note that pthreadpool's
 * threads spin for some milliseconds after each job before they sleep. */

typedef struct septune_plan_options {
  septune_isa isa;     /* SEPTUNE_ISA_AUTO: the best the CPU has */
  const char *knobs;   /* NULL or "": the best kernel available (see
                          septune_plan_create); otherwise "key=value,..." */
  const char *db_path; /* the tuning database (written by `septune tune`):
                          NULL: $SEPTUNE_DB when set, else
                          $XDG_CACHE_HOME/septune/tuning.db (or
                          ~/.cache/septune/tuning.db); "": none.
                          libseptune_rt reads no database. */
  const septune_kernel_table *kernels; /* emitted kernels to look in before
                          those registered with septune_register_kernels;
                          NULL: only the registered ones */
  int threads;         /* the threads to split each execution across, 1 to
                          SEPTUNE_MAX_THREADS; 0: the pool's threads when
                          `pool` is given, else the CPUs this process may run
                          on (sched_getaffinity). The kernel's knobs are
                          chosen for this count (a tuning record for it, see
                          septune_plan_create) */
  struct pthreadpool *pool; /* the caller's pthreadpool_t to run on, or NULL
                          (see "Threads" above) */
} septune_plan_options;

typedef enum septune_kernel_source {
  SEPTUNE_KERNEL_DEFAULT = 0, /* generated with the heuristic default knobs */
  SEPTUNE_KERNEL_FORCED = 1,  /* generated with caller-supplied knobs */
  SEPTUNE_KERNEL_TUNED = 2,   /* generated with a tuning-database record's knobs */
  SEPTUNE_KERNEL_GENERIC = 3  /* a generic kernel of the library (any shape) */
} septune_kernel_source;

typedef enum septune_kernel_build {
  SEPTUNE_BUILD_JIT = 0,      /* compiled by libtcc when the plan was created */
  SEPTUNE_BUILD_EMITTED = 1,  /* from a kernel table written by `septune emit` */
  SEPTUNE_BUILD_LIBRARY = 2   /* built into the library (the generic kernels) */
} septune_kernel_build;

typedef struct septune_plan_info {
  septune_op op;
  septune_isa isa;
  septune_kernel_source source; /* which knobs: tuned, default, forced or generic */
  septune_kernel_build build;   /* where the code came from */
  char knobs[SEPTUNE_KNOBS_SIZE]; /* canonical "key=value,..." of the kernel's config;
                            "" for a generic kernel */
  char table[64];        /* the emitted table's name for SEPTUNE_BUILD_EMITTED, else "" */
  int threads;           /* the plan's thread count T (>= 1) */
  int tuned_threads;     /* TUNED by a tuning-database record: the record's
                            thread count (T, or 1 when the plan took a
                            1-thread record's knobs with the default split
                            for T, or as they are when the T record's kernel
                            ran on one thread too and measured slower); 0
                            otherwise (an emitted kernel's record is not
                            known) */
  long work;             /* the kernel's work items per image */
  int wake;              /* the most threads an execution wakes: min(T, the
                            kernel's knob th, n * work); with a caller's
                            pool, also at most its threads */
  int fused;             /* a block (separable, inverted residual): 1 when it
                            runs fused, band by band (knobs "band=R": R
                            output rows per band), 0 when it runs layer by
                            layer through a full-size intermediate (knobs
                            "band=0": asked for, a band of every output row
                            asked for or chosen, or a block the fused path
                            cannot run, see septune_plan_create); -1 for a
                            layer */
  int stage_plans;       /* a block: the plans of its stages (one per
                            distinct band shape of each stage); 0 for a layer */
} septune_plan_info;

/* Registers a table of emitted kernels for every plan created afterwards in
 * this process (tables are searched in registration order, after
 * options.kernels). The table is not copied: it must outlive the plans
 * created from it (emitted tables are static data). Registering the same
 * table twice is a no-op. Thread-safe. Returns SEPTUNE_OK, or:
 *   SEPTUNE_ERR_INVALID_ARGUMENT  NULL table, or an entry with a NULL or
 *                                 unparsable op line, a block's line
 *                                 (tables hold layers), or one with n other
 *                                 than 1, an unknown isa, a NULL kernel,
 *                                 work or threads, or a pointwise entry
 *                                 without its packer (err names the entry)
 *   SEPTUNE_ERR_UNSUPPORTED       table->abi is not SEPTUNE_KERNEL_TABLE_ABI
 *                                 (emitted by another septune version)
 *   SEPTUNE_ERR_OUT_OF_MEMORY     more than 64 tables registered */
septune_status septune_register_kernels(const septune_kernel_table *table, septune_error *err);

/* Checks a table as septune_register_kernels does, without registering it.
 * Same returns. */
septune_status septune_kernel_table_check(const septune_kernel_table *table, septune_error *err);

/* Creates a plan: validates op, picks the ISA (by CPUID unless forced),
 * finds or builds the kernel and packs weights (canonical layout, copied:
 * the caller may free them after return) and bias into the layout the
 * kernel reads. opts may be NULL.
 *
 * Which kernel (septune_plan_get_info reports the choice):
 *   libseptune     knobs given: JIT with those knobs (FORCED; split knobs
 *                  not given take the default split for the plan's
 *                  threads). Else an emitted table entry for this op whose
 *                  ISA the CPU (and opts->isa, when not AUTO) admits (its
 *                  TUNED or DEFAULT, EMITTED: no compile at all); else a
 *                  tuning-database record for this op, this CPU and the
 *                  plan's thread count T (TUNED, JIT), failing that the
 *                  1-thread record's knobs with the default split for T
 *                  (TUNED, tuned_threads 1; as they are when the T record
 *                  runs on one thread, th=1, and measured slower than
 *                  the 1-thread one); else the heuristic default
 *                  for T threads (DEFAULT, JIT).
 *   libseptune_rt  an emitted table entry for this op whose ISA the CPU (and
 *                  opts->isa, when not AUTO) admits, with the given knobs if
 *                  any (EMITTED); else, without knobs, the generic kernel for
 *                  the ISA (GENERIC, LIBRARY).
 *   a block        (separable, inverted residual; both libraries) knobs
 *                  "band=R": R output rows per band, 0 (or R >= the
 *                  output rows) for layer by layer (FORCED); else
 *                  (libseptune) a tuning-database record's band for this
 *                  block, this CPU and the plan's thread count or 1
 *                  thread (TUNED); else the band of least estimated
 *                  traffic beyond L2, in bands that share out evenly over
 *                  the threads (DEFAULT).
 *                  Each stage runs on plans of its own, chosen as above for
 *                  the stage's layer cut to a band (an image of the band's
 *                  rows): emitted, tuned, default or generic kernels alike.
 *                  The block's source, build and isa in septune_plan_info
 *                  are its band knob's and its first stage plan's.
 * Kernels, records and entries are for one image: an entry matches when
 * its op line equals septune_op_format(op) with n set to 1, and serves any
 * n (the same for records).
 *
 * Returns SEPTUNE_OK and sets *plan, or:
 *   SEPTUNE_ERR_INVALID_ARGUMENT  NULL op/weights/plan, bias NULL while
 *                                 has_bias (a block: any stage's), invalid
 *                                 op, malformed knobs (a block: not band=R),
 *                                 options.threads < 0 or more than
 *                                 SEPTUNE_MAX_THREADS (err names
 *                                 options.threads)
 *   SEPTUNE_ERR_UNSUPPORTED       forced ISA the CPU lacks, knobs invalid for
 *                                 this shape and ISA, a shape the ISA's
 *                                 generated kernels cannot address (rows or
 *                                 weights of 2 GiB and more; the message
 *                                 names the dimension); libseptune_rt: knobs
 *                                 that no emitted entry has (it cannot JIT);
 *                                 an options.kernels table that fails
 *                                 septune_kernel_table_check
 *   SEPTUNE_ERR_OUT_OF_MEMORY     out of memory, or the thread pool the
 *                                 plan needs could not be created (the
 *                                 system refused a thread: err says so)
 *   SEPTUNE_ERR_GENERATOR         the Lua generator failed (err has its message)
 *   SEPTUNE_ERR_COMPILE           libtcc rejected the source (err has tcc's message)
 * On failure *plan is set to NULL. A database that cannot be read, or a
 * record whose knobs this version cannot build, is not an error: the plan
 * then uses the next choice. */
septune_status septune_plan_create(const septune_op *op, const float *weights, const float *bias,
                                   const septune_plan_options *opts, septune_plan **plan,
                                   septune_error *err);

/* Runs the plan on one input, on the plan's threads (see "Threads"). Returns
 * SEPTUNE_OK, or
 *   SEPTUNE_ERR_INVALID_ARGUMENT  a NULL plan, input or output, or input and
 *                                 output that overlap (the byte ranges of
 *                                 the op's input and output tensors share a
 *                                 byte: no kernel computes in place)
 *   SEPTUNE_ERR_OUT_OF_MEMORY     depthwise with multiplier > 1: no room for
 *                                 the expanded input; or the library's pool,
 *                                 which the first execution of a plan of T
 *                                 threads in this process makes, could not
 *                                 be made (the system refused a thread);
 *                                 a block: no room for a thread's band
 *                                 scratch (kept by the plan for the next
 *                                 execution) or, layer by layer, for the
 *                                 intermediate tensors
 * Safe to call concurrently on one plan. */
septune_status septune_execute(const septune_plan *plan, const float *input, float *output,
                               septune_error *err);

/* septune_execute on `pool` for this call instead of the plan's own: the
 * caller's pthreadpool_t, or NULL for the calling thread alone. Several
 * threads may run one plan at once in parallel this way, each with its own
 * pool. The threads woken are at most min(the plan's T, the kernel's knob
 * th, the pool's threads). Returns as septune_execute. */
septune_status septune_execute_on(const septune_plan *plan, const float *input, float *output,
                                  struct pthreadpool *pool, septune_error *err);

/* Describes a plan. Returns SEPTUNE_ERR_INVALID_ARGUMENT for NULL. */
septune_status septune_plan_get_info(const septune_plan *plan, septune_plan_info *info);

/* Returns the generated C source of the plan's kernel (owned by the plan,
 * valid until it is destroyed), or NULL for a NULL plan or a kernel that was
 * not compiled by the JIT (emitted or generic). */
const char *septune_plan_source(const septune_plan *plan);

/* Frees a plan. NULL is a no-op. */
void septune_plan_destroy(septune_plan *plan);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif /* SEPTUNE_H */
