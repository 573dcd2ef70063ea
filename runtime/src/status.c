/*
 * status.c — names of statuses, ISAs and activations; filling septune_error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *septune_status_string(septune_status status)
{
  switch (status) {
    case SEPTUNE_OK: return "ok";
    case SEPTUNE_ERR_INVALID_ARGUMENT: return "invalid argument";
    case SEPTUNE_ERR_UNSUPPORTED: return "unsupported";
    case SEPTUNE_ERR_OUT_OF_MEMORY: return "out of memory";
    case SEPTUNE_ERR_GENERATOR: return "generator error";
    case SEPTUNE_ERR_COMPILE: return "compile error";
    case SEPTUNE_ERR_IO: return "i/o error";
    case SEPTUNE_ERR_PARSE: return "parse error";
  }
  return "unknown status";
}

/* Indexed by septune_isa. */
static const char *const isa_names[] = {"auto", "scalar", "sse", "avx2", "avx512"};

#define NUM_ISAS ((int)(sizeof(isa_names) / sizeof(isa_names[0])))

const char *septune_isa_name(septune_isa isa)
{
  int i = (int)isa;
  if (i < 0 || i >= NUM_ISAS) return "unknown";
  return isa_names[i];
}

septune_status septune_isa_from_name(const char *name, septune_isa *isa)
{
  int i;
  if (name == NULL || isa == NULL) return SEPTUNE_ERR_INVALID_ARGUMENT;
  for (i = 0; i < NUM_ISAS; i++) {
    if (strcmp(name, isa_names[i]) == 0) {
      *isa = (septune_isa)i;
      return SEPTUNE_OK;
    }
  }
  return SEPTUNE_ERR_INVALID_ARGUMENT;
}

const char *septune_activation_name(septune_activation act)
{
  switch (act) {
    case SEPTUNE_ACT_NONE: return "none";
    case SEPTUNE_ACT_RELU: return "relu";
    case SEPTUNE_ACT_RELU6: return "relu6";
    case SEPTUNE_ACT_CLAMP: return "clamp";
    case SEPTUNE_ACT_HSWISH: return "hswish";
    case SEPTUNE_ACT_HSIGMOID: return "hsigmoid";
    case SEPTUNE_ACT_SIGMOID: return "sigmoid";
    case SEPTUNE_ACT_SILU: return "silu";
    case SEPTUNE_ACT_GELU: return "gelu";
    case SEPTUNE_ACT_GELU_TANH: return "gelu_tanh";
  }
  return "unknown";
}

septune_status septune_error_set(septune_error *err, septune_status status, const char *fmt, ...)
{
  if (err != NULL) {
    va_list ap;
    err->status = status;
    va_start(ap, fmt);
    if (vsnprintf(err->message, sizeof(err->message), fmt, ap) < 0)
      err->message[0] = '\0';
    va_end(ap);
  }
  return status;
}

septune_status septune_error_clear(septune_error *err)
{
  if (err != NULL) {
    err->status = SEPTUNE_OK;
    err->message[0] = '\0';
  }
  return SEPTUNE_OK;
}
