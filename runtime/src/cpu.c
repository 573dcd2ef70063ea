/*
 * cpu.c — which ISAs this CPU and OS can run (CPUID + XGETBV), the
 * SEPTUNE_MAX_ISA cap, the cache sizes (and the SEPTUNE_CACHES override),
 * and the CPU signature used as a tuning-database key.
 *
 * CPUID is read once per process (pthread_once): in a virtual machine each
 * CPUID instruction traps to the hypervisor, and a dozen of them per call
 * outweighed the rest of a plan's database lookup. The signature is kept
 * formatted for each ISA it can name. The environment (SEPTUNE_MAX_ISA,
 * SEPTUNE_CACHES) is still read on every call, so tests may change it
 * between calls.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Hardware features, as far as they matter here. */
typedef struct cpu_info {
  int sse2, avx2, avx512;    /* usable: CPU has it and the OS saves its state */
  char vendor[13];
  unsigned family, model, stepping;
  char brand[49];
  unsigned l1d_kb, l2_kb, l3_kb;
} cpu_info;

#if defined(__x86_64__)

/* Plain inline asm rather than <cpuid.h>, so that tcc builds this file too. */
static void cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
  unsigned a, b, c, d;
  __asm__ volatile(".byte 0x0f, 0xa2" /* cpuid */
                   : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
                   : "0"(leaf), "2"(sub));
  r[0] = a;
  r[1] = b;
  r[2] = c;
  r[3] = d;
}

static uint64_t xgetbv0(void)
{
  uint32_t lo, hi;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" /* xgetbv */ : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

/* Cache sizes from the "deterministic cache parameters" leaf: 4 on Intel,
 * 0x8000001D on AMD and Hygon (same format). */
static void read_caches(cpu_info *ci, unsigned leaf)
{
  unsigned sub;
  for (sub = 0; sub < 16; sub++) {
    unsigned r[4];
    unsigned type, level;
    unsigned long long bytes;
    cpuid(leaf, sub, r);
    type = r[0] & 0x1f;
    if (type == 0) break;                       /* no more caches */
    level = (r[0] >> 5) & 0x7;
    bytes = (unsigned long long)(((r[1] >> 22) & 0x3ff) + 1)   /* ways */
            * ((((r[1] >> 12) & 0x3ff) + 1))                   /* partitions */
            * (((r[1]) & 0xfff) + 1)                           /* line size */
            * ((unsigned long long)r[2] + 1);                  /* sets */
    if (type == 2) continue;                    /* instruction cache */
    if (level == 1) ci->l1d_kb = (unsigned)(bytes / 1024);
    else if (level == 2) ci->l2_kb = (unsigned)(bytes / 1024);
    else if (level == 3) ci->l3_kb = (unsigned)(bytes / 1024);
  }
}

static void read_cpu_caches(cpu_info *ci, unsigned max_leaf, unsigned max_ext);

static void read_cpu(cpu_info *ci)
{
  unsigned r[4], max_leaf, max_ext, base_family;
  int osxsave = 0, avx = 0, fma = 0;
  uint64_t xcr0 = 0;
  memset(ci, 0, sizeof(*ci));
  cpuid(0, 0, r);
  max_leaf = r[0];
  memcpy(ci->vendor + 0, &r[1], 4);   /* ebx, edx, ecx spell the vendor */
  memcpy(ci->vendor + 4, &r[3], 4);
  memcpy(ci->vendor + 8, &r[2], 4);
  ci->vendor[12] = '\0';
  if (max_leaf >= 1) {
    cpuid(1, 0, r);
    ci->stepping = r[0] & 0xf;
    base_family = (r[0] >> 8) & 0xf;
    ci->family = base_family;
    ci->model = (r[0] >> 4) & 0xf;
    if (base_family == 0xf) ci->family += (r[0] >> 20) & 0xff;
    if (base_family == 0x6 || base_family == 0xf) ci->model += ((r[0] >> 16) & 0xf) << 4;
    ci->sse2 = (r[3] >> 26) & 1;
    fma = (r[2] >> 12) & 1;
    osxsave = (r[2] >> 27) & 1;
    avx = (r[2] >> 28) & 1;
  }
  if (osxsave) xcr0 = xgetbv0();
  if (max_leaf >= 7 && avx && fma && (xcr0 & 0x6) == 0x6) {
    unsigned b;
    cpuid(7, 0, r);
    b = r[1];
    ci->avx2 = (b >> 5) & 1;
    if (ci->avx2 && (xcr0 & 0xe0) == 0xe0) {
      ci->avx512 = ((b >> 16) & 1)     /* AVX512F */
                   && ((b >> 17) & 1)  /* AVX512DQ */
                   && ((b >> 30) & 1)  /* AVX512BW */
                   && ((b >> 31) & 1); /* AVX512VL */
    }
  }
  cpuid(0x80000000u, 0, r);
  max_ext = r[0];
  if (max_ext >= 0x80000004u) {
    unsigned i;
    for (i = 0; i < 3; i++) {
      cpuid(0x80000002u + i, 0, r);
      memcpy(ci->brand + 16 * i, r, 16);
    }
    ci->brand[48] = '\0';
  }
  read_cpu_caches(ci, max_leaf, max_ext);
}

/* Cache sizes: the "deterministic cache parameters" leaf (4 on Intel,
 * 0x8000001D on AMD and Hygon when CPUID says TOPOEXT), else AMD's legacy
 * leaves 0x80000005 (L1d) and 0x80000006 (L2, L3), which Intel fills for L2
 * only. Virtual machines often leave the first empty and the second set.
 * The legacy L3 may be the whole package's rather than one instance's; no
 * budget depends on L3. */
static void read_cpu_caches(cpu_info *ci, unsigned max_leaf, unsigned max_ext)
{
  unsigned r[4];
  int intel = strcmp(ci->vendor, "GenuineIntel") == 0;
  if (intel && max_leaf >= 4) read_caches(ci, 4);
  if (!intel && max_ext >= 0x8000001du) {
    cpuid(0x80000001u, 0, r);
    if ((r[2] >> 22) & 1) read_caches(ci, 0x8000001du); /* TOPOEXT */
  }
  if (!intel && ci->l1d_kb == 0 && max_ext >= 0x80000005u) {
    cpuid(0x80000005u, 0, r);
    ci->l1d_kb = r[2] >> 24;
  }
  if (max_ext >= 0x80000006u) {
    cpuid(0x80000006u, 0, r);
    if (ci->l2_kb == 0) ci->l2_kb = r[2] >> 16;
    if (!intel && ci->l3_kb == 0) ci->l3_kb = (r[3] >> 18) * 512; /* in 512 KiB units */
  }
}

#else /* not x86-64 */

static void read_cpu(cpu_info *ci)
{
  memset(ci, 0, sizeof(*ci));
  strcpy(ci->vendor, "generic");
}

#endif

/* The signature's longest form is some 150 characters (a 48-character brand,
 * three 10-digit numbers twice); a database record holds 255. */
#define SIGNATURE_MAX 256

/* What the hardware says, read once: the CPU and its signature for each ISA
 * the cap may leave as the best. */
static struct {
  cpu_info ci;
  char signature[SEPTUNE_ISA_AVX512 + 1][SIGNATURE_MAX];
} hw;
static pthread_once_t hw_once = PTHREAD_ONCE_INIT;

static void format_signatures(void);

static void read_hw(void)
{
  read_cpu(&hw.ci);
  format_signatures();
}

static const cpu_info *cpu(void)
{
  pthread_once(&hw_once, read_hw);
  return &hw.ci;
}

/* The SEPTUNE_MAX_ISA cap, or SEPTUNE_ISA_AUTO for none. */
static septune_isa max_isa(void)
{
  const char *s = getenv(SEPTUNE_MAX_ISA_ENV);
  septune_isa isa;
  if (s == NULL || septune_isa_from_name(s, &isa) != SEPTUNE_OK) return SEPTUNE_ISA_AUTO;
  return isa;
}

static int hw_has(const cpu_info *ci, septune_isa isa)
{
  switch (isa) {
    case SEPTUNE_ISA_AUTO:
    case SEPTUNE_ISA_SCALAR: return 1;
    case SEPTUNE_ISA_SSE: return ci->sse2;
    case SEPTUNE_ISA_AVX2: return ci->avx2;
    case SEPTUNE_ISA_AVX512: return ci->avx512;
  }
  return 0;
}

/* ISAs are ordered by width: SCALAR < SSE < AVX2 < AVX512. */
static int has(const cpu_info *ci, septune_isa isa)
{
  septune_isa cap = max_isa();
  if (!hw_has(ci, isa)) return 0;
  if (isa == SEPTUNE_ISA_AUTO || cap == SEPTUNE_ISA_AUTO) return 1;
  return (int)isa <= (int)cap;
}

static septune_isa best(const cpu_info *ci)
{
  if (has(ci, SEPTUNE_ISA_AVX512)) return SEPTUNE_ISA_AVX512;
  if (has(ci, SEPTUNE_ISA_AVX2)) return SEPTUNE_ISA_AVX2;
  if (has(ci, SEPTUNE_ISA_SSE)) return SEPTUNE_ISA_SSE;
  return SEPTUNE_ISA_SCALAR;
}

int septune_cpu_hw_has_isa(septune_isa isa)
{
  return hw_has(cpu(), isa);
}

int septune_cpu_has_isa(septune_isa isa)
{
  return has(cpu(), isa);
}

septune_isa septune_cpu_best_isa(void)
{
  return best(cpu());
}

/* Copies src into dst (of size n) keeping [A-Za-z0-9.()+@-] and turning each
 * run of other characters into one '_'; leading and trailing runs are
 * dropped. */
static void sanitize(char *dst, size_t n, const char *src)
{
  size_t len = 0;
  int pending = 0;
  for (; *src != '\0'; src++) {
    unsigned char c = (unsigned char)*src;
    int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '(' || c == ')' || c == '+' || c == '@' || c == '-';
    if (!keep) {
      pending = (len > 0);
      continue;
    }
    if (pending && len + 1 < n) dst[len++] = '_';
    pending = 0;
    if (len + 1 < n) dst[len++] = (char)c;
  }
  dst[len] = '\0';
}

/* Formats hw.signature[isa] for each ISA (called once, from read_hw). */
static void format_signatures(void)
{
  const cpu_info *ci = &hw.ci;
  char vendor[sizeof(ci->vendor)], brand[sizeof(ci->brand)];
  const char *brand_or = brand;
  sanitize(vendor, sizeof(vendor), ci->vendor);
  sanitize(brand, sizeof(brand), ci->brand);
#if !defined(__x86_64__)
#if defined(__aarch64__)
  brand_or = "aarch64";
#else
  brand_or = "unknown-arch";
#endif
#endif
  if (brand_or[0] == '\0') brand_or = "unknown";
  for (int isa = SEPTUNE_ISA_SCALAR; isa <= SEPTUNE_ISA_AVX512; isa++)
    snprintf(hw.signature[isa], SIGNATURE_MAX, "%s:%u.%u.%u:%s:%s:l1d=%uK,l2=%uK,l3=%uK",
             vendor[0] != '\0' ? vendor : "unknown", ci->family, ci->model, ci->stepping, brand_or,
             septune_isa_name((septune_isa)isa), ci->l1d_kb, ci->l2_kb, ci->l3_kb);
}

size_t septune_cpu_signature(char *buf, size_t n)
{
  const char *sig = hw.signature[best(cpu())];
  size_t len = strlen(sig);
  if (n > 0) {
    size_t k = len < n - 1 ? len : n - 1;
    memcpy(buf, sig, k);
    buf[k] = '\0';
  }
  return len;
}

void septune_cpu_caches(septune_caches *caches)
{
  const cpu_info *ci = cpu();
  const char *env = getenv(SEPTUNE_CACHES_ENV);
  caches->l1d = (size_t)ci->l1d_kb * 1024;
  caches->l2 = (size_t)ci->l2_kb * 1024;
  caches->l3 = (size_t)ci->l3_kb * 1024;
  if (env != NULL && *env != '\0') septune_caches_parse(env, caches);
}

/* One "name=<n>K" item of a cache list into *bytes; returns the end of the
 * item, or NULL when it is not one. */
static const char *parse_cache_item(const char *s, const char *name, size_t *bytes)
{
  size_t len = strlen(name);
  unsigned long long kb = 0;
  const char *p;
  if (strncmp(s, name, len) != 0 || s[len] != '=') return NULL;
  p = s + len + 1;
  if (*p < '0' || *p > '9') return NULL;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (kb > (unsigned long long)SIZE_MAX / 10240) return NULL;
    kb = kb * 10 + (unsigned)(*p - '0');
  }
  if (*p != 'K' || (p[1] != '\0' && p[1] != ',')) return NULL;
  *bytes = (size_t)kb * 1024;
  return p + 1;
}

int septune_caches_parse(const char *s, septune_caches *caches)
{
  septune_caches c = *caches;
  while (*s != '\0') {
    const char *end = parse_cache_item(s, "l1d", &c.l1d);
    if (end == NULL) end = parse_cache_item(s, "l2", &c.l2);
    if (end == NULL) end = parse_cache_item(s, "l3", &c.l3);
    if (end == NULL || (*end == ',' && end[1] == '\0')) return -1;
    s = *end == ',' ? end + 1 : end;
  }
  *caches = c;
  return 0;
}
