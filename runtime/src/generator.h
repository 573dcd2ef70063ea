/*
 * generator.h — the runtime's bridge to the Lua generator: renders the C
 * source of a kernel for one op, ISA and knob set.
 *
 * One LuaJIT state serves the process, created on first use and guarded by a
 * mutex (rendering is not on any hot path). The Lua files are read from
 * the directory septune_lua_root finds (lua_root.h says the order).
 */
#ifndef SEPTUNE_GENERATOR_H
#define SEPTUNE_GENERATOR_H

#include <stddef.h>

#include "internal.h"
#include "septune.h"

typedef struct septune_kernel_source_text {
  char *source;      /* malloc'd C source; free with septune_gen_free */
  char symbol[SEPTUNE_SYMBOL_SIZE]; /* the kernel function's name in source */
  char knobs[SEPTUNE_KNOBS_SIZE];   /* the canonical knob string of the config rendered */
} septune_kernel_source_text;

/* Renders the kernel for a valid op. isa must not be AUTO. knobs NULL or ""
 * selects the heuristic default. Returns SEPTUNE_OK and fills *out, or:
 *   SEPTUNE_ERR_INVALID_ARGUMENT  NULL arguments, or AUTO isa
 *   SEPTUNE_ERR_UNSUPPORTED       knobs malformed or invalid for this shape and
 *                                 ISA (err has the generator's reason)
 *   SEPTUNE_ERR_GENERATOR         the Lua side failed (err has the Lua error)
 *   SEPTUNE_ERR_OUT_OF_MEMORY */
septune_status septune_gen_render(const septune_op *op, septune_isa isa, const char *knobs,
                                  septune_kernel_source_text *out, septune_error *err);

/* Frees what septune_gen_render allocated in *text (not text itself). */
void septune_gen_free(septune_kernel_source_text *text);

/* Calls Lua function `name` of module septune_gen with the op, ISA and a
 * string argument; returns its string result (malloc'd) in *result. Used for
 * queries such as listing the search space. Errors as septune_gen_render. */
septune_status septune_gen_call(const char *name, const septune_op *op, septune_isa isa,
                                const char *arg, char **result, septune_error *err);

#endif /* SEPTUNE_GENERATOR_H */
