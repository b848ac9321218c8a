/* Process resources for the leak tests (fault_*, the soak): RSS, threads, file descriptors
 * and memory mappings, from /proc/self. */
#ifndef GR_TEST_RESOURCES_H
#define GR_TEST_RESOURCES_H
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { long rss_kib, threads, fds, maps; } resources;

static inline resources resources_now(void) {
  resources r = {0, 0, 0, 0};
  char line[512];
  FILE *f = fopen("/proc/self/status", "r");
  if (f) {
    while (fgets(line, sizeof line, f)) {
      if (!strncmp(line, "VmRSS:", 6)) r.rss_kib = atol(line + 6);
      if (!strncmp(line, "Threads:", 8)) r.threads = atol(line + 8);
    }
    fclose(f);
  }
  f = fopen("/proc/self/maps", "r");
  if (f) { while (fgets(line, sizeof line, f)) if (strchr(line, '\n')) r.maps++; fclose(f); }
  DIR *d = opendir("/proc/self/fd");
  if (d) { struct dirent *e; while ((e = readdir(d))) if (e->d_name[0] != '.') r.fds++; closedir(d); r.fds--; /* the DIR's own */ }
  return r;
}

/* Raises each field of `acc` to that of `s`, where it is larger. */
static inline void resources_max(resources *acc, const resources *s) {
  if (s->rss_kib > acc->rss_kib) acc->rss_kib = s->rss_kib;
  if (s->threads > acc->threads) acc->threads = s->threads;
  if (s->fds > acc->fds) acc->fds = s->fds;
  if (s->maps > acc->maps) acc->maps = s->maps;
}

static inline void resources_print(const char *label, resources r) {
  printf("%-14s rss %7ld KiB  threads %4ld  fds %3ld  mappings %6ld\n", label, r.rss_kib, r.threads, r.fds, r.maps);
}
#endif
