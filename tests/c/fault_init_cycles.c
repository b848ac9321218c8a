/* Issue 11, defect 3: gr_init/gr_shutdown cycles leak nothing. 300 cycles (the soak's cycle
 * mode runs 10,000), each starting a runtime, running goroutines (coroutine and bound) that
 * pass values and sleep, and shutting it down: after 30 cycles of warm-up, mappings (but
 * glibc's malloc arenas, made on demand, bounded and reused: `resources.h`), threads and fds
 * must not grow and RSS may grow by at most 16 MiB. Before the fix each cycle left ~58
 * mappings, ~465 kB RSS and threads created during shutdown, never joined. */
#include "harness.h"
#include "resources.h"

#define CYCLES 300
#define WARMUP 30
static gr_chan *c;

static void ping(void *a) {
  long v = (long)a;
  CHECK_OK(gr_chan_send(c, &v, GR_FOREVER));
  CHECK_OK(gr_sleep(100000));
}

static void cycle(void) {
  init_workers(2);
  CHECK_OK(gr_chan_new(sizeof(long), 0, &c));
  gr_spawn_opts bo; gr_spawn_opts_init(&bo); bo.flags = GR_SPAWN_BOUND;
  for (long i = 0; i < 40; i++) {
    if (i % 10 == 0) CHECK_OK(gr_spawn_ex(ping, (void *)i, &bo, NULL));
    else CHECK_OK(gr_spawn(ping, (void *)i, NULL));
  }
  long sum = 0, v;
  for (int i = 0; i < 40; i++) { CHECK_OK(gr_chan_recv(c, &v, GR_FOREVER)); sum += v; }
  CHECK(sum == 40 * 39 / 2);
  gr_chan_release(c);
  CHECK_OK(gr_shutdown(GR_FOREVER));
}

int main(void) {
  resources first = {0}, r = {0};
  for (int i = 1; i <= CYCLES; i++) {
    cycle();
    if (i == WARMUP) { first = resources_now(); resources_print("after warm-up", first); }
  }
  r = resources_now();
  resources_print("at the end", r);
  int ok = 1;
  if (r.maps - r.arena_maps > first.maps - first.arena_maps) {
    printf("mappings grew by %ld over %d cycles (malloc's arenas apart)\n", (r.maps - r.arena_maps) - (first.maps - first.arena_maps), CYCLES - WARMUP);
    ok = 0;
  }
  if (r.threads > first.threads) { printf("threads grew by %ld\n", r.threads - first.threads); ok = 0; }
  if (r.fds > first.fds) { printf("fds grew by %ld\n", r.fds - first.fds); ok = 0; }
  if (r.rss_kib > first.rss_kib + 16384) { printf("RSS grew by %ld KiB\n", r.rss_kib - first.rss_kib); ok = 0; }
  return !ok;
}
