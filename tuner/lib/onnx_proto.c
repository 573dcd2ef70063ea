/*
 * onnx_proto.c — protobuf-c's unpacking of an ONNX file, bounded in stack
 * and memory (see onnx_proto.h).
 */
#include "onnx_proto.h"

#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t onnx_proto_budget(size_t len)
{
  size_t base = (size_t)64 << 20;
  return len > (SIZE_MAX - base) / 2 ? SIZE_MAX : 2 * len + base;
}

/* Each block carries its size in front, so that a free can be counted. */
#define HEADER_SIZE (alignof(max_align_t) > sizeof(size_t) ? alignof(max_align_t) : sizeof(size_t))

static void *budget_alloc(void *data, size_t size)
{
  onnx_proto *p = data;
  if (size > SIZE_MAX - HEADER_SIZE || size + HEADER_SIZE > p->budget - p->used) {
    p->refused = 1;
    return NULL;
  }
  unsigned char *block = malloc(size + HEADER_SIZE);
  if (!block) {
    p->failed = 1;
    return NULL;
  }
  memcpy(block, &size, sizeof size);
  p->used += size + HEADER_SIZE;
  if (p->used > p->peak) p->peak = p->used;
  return block + HEADER_SIZE;
}

static void budget_free(void *data, void *ptr)
{
  onnx_proto *p = data;
  if (!ptr) return;
  unsigned char *block = (unsigned char *)ptr - HEADER_SIZE;
  size_t size;
  memcpy(&size, block, sizeof size);
  p->used -= size + HEADER_SIZE;
  free(block);
}

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
  uint64_t x = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p == end) return -1;
    uint8_t b = *(*p)++;
    x |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = x;
      return 0;
    }
  }
  return -1;
}

/* The deepest nesting of messages in buf[p..end), a message of type desc at
 * nesting `depth`; a value over ONNX_PROTO_MAX_NESTING as soon as the limit
 * is passed (the walk stops there, so its own recursion is bounded too); -1
 * when the wire format is broken. Only the fields protobuf-c would unpack as
 * messages are entered: an unknown field is skipped as protobuf-c skips it. */
static int nesting(const ProtobufCMessageDescriptor *desc, const uint8_t *p, const uint8_t *end, int depth)
{
  if (depth > ONNX_PROTO_MAX_NESTING) return depth;
  int deepest = depth;
  while (p < end) {
    uint64_t key, v;
    if (read_varint(&p, end, &key) != 0 || key >> 3 == 0) return -1;
    switch (key & 7) {
      case 0: /* varint */
        if (read_varint(&p, end, &v) != 0) return -1;
        break;
      case 1: /* 64-bit */
        if (end - p < 8) return -1;
        p += 8;
        break;
      case 5: /* 32-bit */
        if (end - p < 4) return -1;
        p += 4;
        break;
      case 2: { /* length-delimited: bytes, strings, packed arrays, messages */
        if (read_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p)) return -1;
        uint64_t id = key >> 3;
        const ProtobufCFieldDescriptor *f =
            id <= UINT_MAX ? protobuf_c_message_descriptor_get_field(desc, (unsigned)id) : NULL;
        if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
          int d = nesting(f->descriptor, p, p + v, depth + 1);
          if (d < 0 || d > ONNX_PROTO_MAX_NESTING) return d;
          if (d > deepest) deepest = d;
        }
        p += v;
        break;
      }
      default: /* groups (3, 4), which protobuf-c does not read, and 6, 7 */ return -1;
    }
  }
  return deepest;
}

onnx_proto_status onnx_proto_parse(onnx_proto *p, const void *buf, size_t len, char *why, size_t why_size)
{
  memset(p, 0, sizeof *p);
  const uint8_t *b = buf;
  int depth = nesting(&onnx__model_proto__descriptor, b, b + len, 1);
  if (depth < 0) {
    snprintf(why, why_size, "does not parse as an ONNX model (a truncated or corrupt file, or not ONNX)");
    return ONNX_PROTO_MALFORMED;
  }
  if (depth > ONNX_PROTO_MAX_NESTING) {
    snprintf(why, why_size, "messages nested more than %d deep, more than any model has", ONNX_PROTO_MAX_NESTING);
    return ONNX_PROTO_TOO_DEEP;
  }
  p->budget = onnx_proto_budget(len);
  p->allocator.alloc = budget_alloc;
  p->allocator.free = budget_free;
  p->allocator.allocator_data = p;
  p->model = onnx__model_proto__unpack(&p->allocator, len, b);
  if (p->model) return ONNX_PROTO_OK;
  if (p->refused) {
    snprintf(why, why_size, "unpacking it would take more than %zu MiB, the most a file of %zu bytes may take",
             p->budget >> 20, len);
    return ONNX_PROTO_TOO_LARGE;
  }
  if (p->failed) {
    snprintf(why, why_size, "out of memory unpacking it");
    return ONNX_PROTO_NO_MEMORY;
  }
  snprintf(why, why_size, "does not parse as an ONNX model (a truncated or corrupt file, or not ONNX)");
  return ONNX_PROTO_MALFORMED;
}

void onnx_proto_free(onnx_proto *p)
{
  if (p->model) onnx__model_proto__free_unpacked(p->model, &p->allocator);
  p->model = NULL;
}
