/*
 * kernel_table.c — tables of emitted kernels (septune_kernel_table.h): the
 * check, the process-wide registry and the lookup both libraries use.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "plan.h"

#define MAX_TABLES 64
#define LINE_SIZE 512

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static const septune_kernel_table *registry[MAX_TABLES];
static int registry_count;

/* An entry is usable when its op line is a valid layer in canonical form
 * (anything else could never match septune_op_format) and it has what a
 * plan of that op calls. */
static septune_status check_entry(const septune_kernel_entry *e, long i, septune_error *err)
{
  septune_layer layer;
  septune_error why;
  char line[LINE_SIZE];
  if (!e->op) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "entry %ld: op is NULL", i);
  if (septune_layer_parse(e->op, &layer, &why) != SEPTUNE_OK)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "entry %ld: op '%s': %s", i, e->op, why.message);
  if (septune_op_format(&layer.op, line, sizeof line) < 0 || strcmp(line, e->op) != 0)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "entry %ld: op '%s' is not in canonical form (expected '%s')", i, e->op, line);
  if (layer.op.kind != SEPTUNE_OP_DEPTHWISE && layer.op.kind != SEPTUNE_OP_POINTWISE)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "entry %ld: op '%s' is a block: a table holds its stages' kernels (this version "
                             "emits no fused kernel)", i, e->op);
  if (septune_op_batch(&layer.op) != 1)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "entry %ld: op '%s' has n other than 1 (a kernel is for one image and serves any batch)",
                             i, e->op);
  if (e->isa < SEPTUNE_ISA_SCALAR || e->isa > SEPTUNE_ISA_AVX512)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "entry %ld (%s): isa %d is not a septune_isa", i,
                             e->op, e->isa);
  if (!e->kernel)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "entry %ld (%s): kernel is NULL", i, e->op);
  if (!e->work || !e->threads)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "entry %ld (%s): work or threads is NULL", i, e->op);
  if (layer.op.kind == SEPTUNE_OP_POINTWISE && (!e->pack || !e->packed_floats))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "entry %ld (%s): a pointwise kernel needs pack and packed_floats", i, e->op);
  return SEPTUNE_OK;
}

septune_status septune_kernel_table_check(const septune_kernel_table *table, septune_error *err)
{
  if (!table) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "kernel table is NULL");
  const char *name = table->name ? table->name : "(unnamed)";
  if (table->abi != SEPTUNE_KERNEL_TABLE_ABI)
    return septune_error_set(err, SEPTUNE_ERR_UNSUPPORTED,
                             "kernel table %s: ABI %d, this library reads ABI %d (emit it again with this "
                             "version of septune)", name, table->abi, SEPTUNE_KERNEL_TABLE_ABI);
  if (table->count < 0 || (table->count > 0 && !table->entries))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "kernel table %s: %ld entries at %p", name,
                             table->count, (const void *)table->entries);
  for (long i = 0; i < table->count; i++) {
    septune_error why;
    if (check_entry(&table->entries[i], i, &why) != SEPTUNE_OK)
      return septune_error_set(err, why.status, "kernel table %s: %s", name, why.message);
  }
  return septune_error_clear(err);
}

septune_status septune_register_kernels(const septune_kernel_table *table, septune_error *err)
{
  septune_status st = septune_kernel_table_check(table, err);
  if (st != SEPTUNE_OK) return st;
  pthread_mutex_lock(&registry_lock);
  int known = 0;
  for (int i = 0; i < registry_count; i++) known |= registry[i] == table;
  if (!known && registry_count == MAX_TABLES) {
    pthread_mutex_unlock(&registry_lock);
    return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "kernel table %s: %d tables are registered already",
                             table->name ? table->name : "(unnamed)", MAX_TABLES);
  }
  if (!known) registry[registry_count++] = table;
  pthread_mutex_unlock(&registry_lock);
  return septune_error_clear(err);
}

static const septune_kernel_entry *find_in(const septune_kernel_table *table, const char *line, septune_isa isa,
                                           const char *knobs)
{
  const septune_kernel_entry *best = NULL;
  for (long i = 0; i < table->count; i++) {
    const septune_kernel_entry *e = &table->entries[i];
    if (strcmp(e->op, line) != 0) continue;
    if (isa != SEPTUNE_ISA_AUTO && e->isa != (int)isa) continue;
    if (!septune_cpu_has_isa((septune_isa)e->isa)) continue;
    if (knobs && *knobs && (!e->knobs || strcmp(e->knobs, knobs) != 0)) continue;
    if (!best || e->isa > best->isa) best = e;
  }
  return best;
}

const septune_kernel_entry *septune_kernel_table_find(const septune_plan_options *opts, const septune_op *op,
                                                      septune_isa isa, const char *knobs,
                                                      const septune_kernel_table **table)
{
  char line[LINE_SIZE];
  septune_op one;
  septune_op_one_image(op, &one);
  int n = septune_op_format(&one, line, sizeof line);
  if (n < 0 || (size_t)n >= sizeof line) return NULL;
  const septune_kernel_entry *e = NULL;
  if (opts && opts->kernels && (e = find_in(opts->kernels, line, isa, knobs))) {
    *table = opts->kernels;
    return e;
  }
  pthread_mutex_lock(&registry_lock);
  for (int i = 0; i < registry_count && !e; i++)
    if ((e = find_in(registry[i], line, isa, knobs))) *table = registry[i];
  pthread_mutex_unlock(&registry_lock);
  return e;
}
