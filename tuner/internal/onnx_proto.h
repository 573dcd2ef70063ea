/*
 * onnx_proto.h — an ONNX file's bytes unpacked by protobuf-c into the
 * messages of onnx.proto, with the two guards protobuf-c lacks:
 *
 *   - nesting: protobuf-c unpacks nested messages by recursion with no limit,
 *     so a file of a few hundred kilobytes nesting graph in node in
 *     attribute in graph overflows the stack. The nesting is measured first
 *     (walking the wire format only as far as it needs: tags, lengths, and
 *     which fields hold messages by protobuf-c's own descriptors) and a
 *     buffer nested deeper than ONNX_PROTO_MAX_NESTING is refused.
 *   - memory: protobuf-c allocates the whole message tree, and a message a
 *     few bytes long on the wire (an empty node) becomes a struct of a
 *     hundred bytes. Every allocation goes through a counting allocator
 *     that refuses to hold more than onnx_proto_budget(len) bytes at once.
 *
 * Nothing here prints.
 */
#ifndef SEPTUNE_ONNX_PROTO_H
#define SEPTUNE_ONNX_PROTO_H

#include <stddef.h>

#include "onnx.pb-c.h"

/* Messages nested deeper than this are refused. A model is 3 levels deep
 * (model, graph, node, attribute) and each subgraph of an If or Loop adds 3;
 * Google's protobuf libraries stop at 100 by default. */
#define ONNX_PROTO_MAX_NESTING 100

/* The most bytes protobuf-c may hold while unpacking a buffer of len bytes:
 * twice the buffer (it copies tensor data, and arrays of 8-byte numbers come
 * from varints that may be shorter) plus 64 MiB for the structs of the
 * graph. The torchvision MobileNets and EfficientNet-B0 need about 1.0 times
 * their file size. */
size_t onnx_proto_budget(size_t len);

typedef enum onnx_proto_status {
  ONNX_PROTO_OK = 0,
  ONNX_PROTO_MALFORMED, /* not a protobuf message of type ModelProto (truncated, corrupt, another format) */
  ONNX_PROTO_TOO_DEEP,  /* nested deeper than ONNX_PROTO_MAX_NESTING */
  ONNX_PROTO_TOO_LARGE, /* unpacking would take more than onnx_proto_budget(len) */
  ONNX_PROTO_NO_MEMORY  /* malloc failed within the budget */
} onnx_proto_status;

/* An unpacked model and the allocator that owns its memory. It must stay at
 * one address from onnx_proto_parse to onnx_proto_free (the allocator points
 * to it). */
typedef struct onnx_proto {
  Onnx__ModelProto *model;
  ProtobufCAllocator allocator;
  size_t used, peak, budget; /* bytes held now, at most, and allowed */
  int refused;               /* an allocation went over the budget */
  int failed;                /* malloc failed */
} onnx_proto;

/* Unpacks buf[0..len) as an ONNX ModelProto into p->model. Returns
 * ONNX_PROTO_OK, or another status with why naming the problem; then
 * p->model is NULL and nothing is held. */
onnx_proto_status onnx_proto_parse(onnx_proto *p, const void *buf, size_t len, char *why, size_t why_size);

/* Frees what onnx_proto_parse unpacked; p->model becomes NULL. */
void onnx_proto_free(onnx_proto *p);

#endif
