/*
 * generator.h — the runtime's bridge to the Lua generator: renders the C
 * source of a kernel for one op, ISA and knob set.
 *
 * One LuaJIT state serves the process, created on first use and guarded by a
 * mutex (rendering is not on any hot path). The state hosts the generator:
 * it preloads the Lua module "septune_host" with what the generator takes
 * from the runtime (the depthwise pack width, the pointwise tile score, the
 * threads a layer pays for).
 * The Lua files are read from the directory septune_lua_root finds
 * (lua_root.h says the order).
 */
#ifndef SEPTUNE_GENERATOR_H
#define SEPTUNE_GENERATOR_H

#include <stddef.h>

#include "cache_budget.h"
#include "internal.h"
#include "septune.h"

/* Room for a function's declaration ("void name(params)"). */
#define SEPTUNE_GEN_DECLARATION_SIZE 256
/* The most functions one source exports. */
#define SEPTUNE_GEN_EXPORTS_MAX 6

/* What an exported function does (generator/kernel_abi.lua). */
typedef enum septune_gen_role {
  SEPTUNE_GEN_KERNEL,         /* the kernel: septune_kernel_fn */
  SEPTUNE_GEN_PACKED_FLOATS,  /* pointwise: long (void), floats of the packed weights */
  SEPTUNE_GEN_PACK,           /* pointwise: void (weights, bias, packed) */
  SEPTUNE_GEN_WORK,           /* long (void): work items per image */
  SEPTUNE_GEN_THREADS         /* long (void): the most threads worth waking */
} septune_gen_role;

typedef struct septune_gen_export {
  septune_gen_role role;
  char name[SEPTUNE_SYMBOL_SIZE];
  char declaration[SEPTUNE_GEN_DECLARATION_SIZE];  /* "void name(const float *in, ...)" */
} septune_gen_export;

typedef struct septune_kernel_source_text {
  char *source;      /* malloc'd C source; free with septune_gen_free */
  char symbol[SEPTUNE_SYMBOL_SIZE]; /* the kernel function's name in source */
  char knobs[SEPTUNE_KNOBS_SIZE];   /* the canonical knob string of the config rendered */
  size_t nexports;   /* every function source defines with external linkage */
  septune_gen_export exports[SEPTUNE_GEN_EXPORTS_MAX];
} septune_kernel_source_text;

/* A render's options beyond op and ISA; every field may be NULL (0). */
typedef struct septune_gen_request {
  const char *knobs;                  /* NULL or "": the heuristic default */
  const char *prefix;                 /* the symbols' first part, a C identifier of at most 63
                                         characters; NULL: "septune" */
  const septune_cache_budget *budget; /* the target's caches, which the default follows; NULL: this CPU's */
  int threads;                        /* the plan's thread count, which the default split follows; 0: 1 */
  int resplit;                        /* 1: drop the split knobs of `knobs` for the default split
                                         (knobs tuned for another thread count) */
} septune_gen_request;

/* Renders the kernel for a valid op, for one image: the op's n is taken as
 * 1 (the kernel runs any batch). isa must not be AUTO. Returns
 * SEPTUNE_OK and fills *out, or:
 *   SEPTUNE_ERR_INVALID_ARGUMENT  NULL arguments, AUTO isa, or a prefix that is
 *                                 not such an identifier
 *   SEPTUNE_ERR_UNSUPPORTED       knobs malformed or invalid for this shape and
 *                                 ISA, or a shape the ISA's kernels cannot
 *                                 address (err has the generator's reason)
 *   SEPTUNE_ERR_GENERATOR         the Lua side failed (err has the Lua error)
 *   SEPTUNE_ERR_OUT_OF_MEMORY */
septune_status septune_gen_render_request(const septune_op *op, septune_isa isa, const septune_gen_request *req,
                                          septune_kernel_source_text *out, septune_error *err);

/* septune_gen_render_request with only knobs given. */
septune_status septune_gen_render(const septune_op *op, septune_isa isa, const char *knobs,
                                  septune_kernel_source_text *out, septune_error *err);

/* The export of `role` in text, or NULL when the source has none. */
const septune_gen_export *septune_gen_export_of(const septune_kernel_source_text *text, septune_gen_role role);

/* Frees what septune_gen_render allocated in *text (not text itself). */
void septune_gen_free(septune_kernel_source_text *text);

/* Calls Lua function `name` of module septune_gen with the op (n taken as
 * 1), ISA, req->knobs as its string argument and the rest of req as its
 * options (req NULL: none, one thread, this CPU's caches); returns its
 * string result (malloc'd) in *result. Used for queries such as listing the
 * search space ("space", "split_space", "default_knobs"). Errors as
 * septune_gen_render. */
septune_status septune_gen_call(const char *name, const septune_op *op, septune_isa isa,
                                const septune_gen_request *req, char **result, septune_error *err);

struct lua_State;

/* Preloads the Lua module "septune_host" into L: what the generator takes
 * from the runtime (pack_lanes, pw_tile_score, act_consts: the
 * activations' constants of act_consts.h by name) and hw, this CPU's cache
 * budgets as septune_gen's opts.hw. The generator's own state gets it, and
 * `septune lua` gives it to scripts so that require "septune.generator"
 * renders what the runtime renders. */
void septune_gen_preload_host(struct lua_State *L);

#endif /* SEPTUNE_GENERATOR_H */
