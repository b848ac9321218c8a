/* Issue 11, defect 4: when no worker thread can be created, the failure surfaces as
 * GR_ENOMEM (from gr_init, or from the gr_spawn that needed the thread) instead of work that
 * silently never runs, and the runtime is usable once resources return. Memory mappings
 * are exhausted (vm.max_map_count) until only K remain free, for several K, each in a child
 * process: then gr_init and gr_spawn must either fail with GR_ENOMEM or succeed with a
 * goroutine that runs (gr_wait within 3 s); the child must not be killed (glibc aborts with
 * "failed to register TLS destructor" today); and after the mappings are released, spawns
 * work. */
#include "harness.h"
#include "resources.h"
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int ran;
static void work(void *a) { (void)a; atomic_fetch_add(&ran, 1); }

static char *region;
static size_t region_len;

/* Splits a fresh region into `n` single-page mappings (alternating protections). */
static int exhaust(long n) {
  long page = sysconf(_SC_PAGESIZE);
  n &= ~1L;
  region_len = (size_t)n * page;
  region = mmap(NULL, region_len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (region == MAP_FAILED) return -1;
  for (long i = 1; i < n; i += 2)
    if (mprotect(region + i * page, page, PROT_NONE) != 0) return -1;
  return 0;
}

static int probe(long k) {
  long max = 0;
  FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
  if (!f || fscanf(f, "%ld", &max) != 1) return 3;
  fclose(f);
  setvbuf(stdout, NULL, _IONBF, 0);
  long used = resources_now().maps;
  if (exhaust(max - used - k - 1) != 0) { printf("K=%ld: could not exhaust mappings\n", k); return 4; }
  int rc = 0;
  gr_config cfg; gr_config_init(&cfg); cfg.workers = 2;
  int init = gr_init(&cfg);
  if (init != GR_OK && init != GR_ENOMEM) { printf("K=%ld: gr_init %d\n", k, init); return 5; }
  if (init == GR_OK) {
    gr_handle *h = NULL;
    int sp = gr_spawn(work, NULL, &h);
    if (sp == GR_OK) {
      int w = gr_wait(h, 3000000000LL);
      if (w != GR_OK) { printf("K=%ld: gr_init and gr_spawn returned GR_OK, gr_wait(3 s) %d: the goroutine never ran\n", k, w); rc = 6; }
      gr_handle_release(h);
    } else if (sp != GR_ENOMEM) { printf("K=%ld: gr_spawn %d\n", k, sp); rc = 7; }
  }
  munmap(region, region_len); /* resources return */
  if (init != GR_OK && gr_init(&cfg) != GR_OK) { printf("K=%ld: gr_init after recovery failed\n", k); return 8; }
  for (int i = 0; i < 100; i++) {
    gr_handle *h;
    if (gr_spawn(work, NULL, &h) != GR_OK || gr_wait(h, 3000000000LL) != GR_OK) { printf("K=%ld: not usable after recovery\n", k); return 9; }
    gr_handle_release(h);
  }
  return rc;
}

int main(void) {
  long ks[] = {2, 6, 20, 60};
  int failed = 0;
  for (int i = 0; i < 4; i++) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(probe(ks[i]));
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    if (WIFSIGNALED(st)) { printf("K=%ld: child killed by signal %d\n", ks[i], WTERMSIG(st)); failed++; }
    else if (WEXITSTATUS(st) != 0) { printf("K=%ld: child exit %d\n", ks[i], WEXITSTATUS(st)); failed++; }
  }
  printf("%d of 4 mapping-exhaustion probes wrong\n", failed);
  return failed != 0;
}
