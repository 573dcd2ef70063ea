/*
 * peers.c — the list of peers compiled into this build and the buffer
 * allocator they need (see peers.h).
 */
#include <stdlib.h>
#include <string.h>

#include "peers.h"

const bench_peer_vtbl *const bench_peers_all[] = {
#ifdef SEPTUNE_HAVE_XNNPACK
    &bench_peer_xnnpack,
#endif
#ifdef SEPTUNE_HAVE_ONEDNN
    &bench_peer_onednn,
#endif
    NULL,
};

static int peer_threads = 1;

void bench_peers_set_threads(int threads) { peer_threads = threads < 1 ? 1 : threads; }
int bench_peers_threads(void) { return peer_threads; }

void *bench_peer_alloc(size_t bytes)
{
  size_t total = bytes + BENCH_PEER_INPUT_SLACK;
  total = (total + 63) / 64 * 64; /* aligned_alloc wants a multiple of the alignment */
  if (total < bytes) return NULL; /* overflow */
  unsigned char *p = aligned_alloc(64, total);
  if (p) memset(p + bytes, 0, total - bytes);
  return p;
}
