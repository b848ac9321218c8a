/* Process resources for the leak tests (fault_*, the soak): RSS, threads, file descriptors
 * and memory mappings, from /proc/self. */
#ifndef GR_TEST_RESOURCES_H
#define GR_TEST_RESOURCES_H
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `arena_maps`: the mappings of glibc malloc's per-thread arenas (a 64 MiB-aligned heap: its
 * read-write start, then its reserved rest), part of `maps`. glibc makes an arena when a
 * thread allocates while every arena is in use (up to 8 per CPU) and never unmaps it, so a
 * program whose threads come and go may add a few long after its start; they are bounded,
 * and no leak of ours: `maps - arena_maps` is the count to judge flat. */
typedef struct { long rss_kib, threads, fds, maps, arena_maps; } resources;

static inline resources resources_now(void) {
  resources r = {0, 0, 0, 0, 0};
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
  if (f) {
    const unsigned long heap = 64ul << 20; /* glibc's HEAP_MAX_SIZE on 64-bit */
    unsigned long arena = 0;                /* start of the arena heap just seen, or 0 */
    while (fgets(line, sizeof line, f)) {
      if (!strchr(line, '\n')) continue;
      r.maps++;
      unsigned long lo, hi;
      char perms[8] = "", path[8] = "";
      if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %7s", &lo, &hi, perms, path) < 3) continue;
      int anon = path[0] == 0;
      if (anon && lo % heap == 0 && hi - lo < heap && !strcmp(perms, "rw-p")) { arena = lo; r.arena_maps++; continue; }
      if (anon && arena && hi == arena + heap && !strcmp(perms, "---p")) r.arena_maps++;
      arena = 0;
    }
    fclose(f);
  }
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
  if (s->arena_maps > acc->arena_maps) acc->arena_maps = s->arena_maps;
}

static inline void resources_print(const char *label, resources r) {
  printf("%-14s rss %7ld KiB  threads %4ld  fds %3ld  mappings %6ld (malloc arenas' %ld)\n", label, r.rss_kib, r.threads, r.fds, r.maps,
         r.arena_maps);
}
#endif
