/* Dumps collected through gr_dump_to into one growing string (`out`, `outlen` bytes; reset
   with outlen = 0), and the JSON line of one goroutine in it. */
#ifndef GR_TEST_DUMP_UTIL_H
#define GR_TEST_DUMP_UTIL_H
#include "harness.h"
#include <stdint.h>
#include <string.h>

static char *out; static size_t outlen, outcap;
static inline void collect(const char *buf, size_t len, void *ctx) {
  (void)ctx;
  if (outlen + len + 1 > outcap) { outcap = (outlen + len + 1) * 2; out = realloc(out, outcap); CHECK(out); }
  memcpy(out + outlen, buf, len); outlen += len; out[outlen] = 0;
}

/* The JSON line of goroutine `id` (a copy to free), or NULL; fails if it appears twice. */
static inline char *line_of(uint64_t id) {
  char key[64]; snprintf(key, sizeof key, "{\"type\":\"goroutine\",\"id\":%llu,", (unsigned long long)id);
  char *p = strstr(out, key);
  if (!p) return NULL;
  CHECK(strstr(p + 1, key) == NULL);
  char *e = strchr(p, '\n'); CHECK(e);
  return strndup(p, (size_t)(e - p));
}
#endif
