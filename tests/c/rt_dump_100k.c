/* gr_dump of 100,000 parked goroutines (issue 14): every one is listed once with its wait
 * and backtrace; the time to take the dump is printed (collect_us: the whole collection,
 * held_us: the sum of the microseconds goroutines were held), and so is the time to write
 * it. Timings are reported, not asserted: the machine is shared. */
#include "dump_util.h"
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define N 100000
static gr_chan *gate;
static atomic_long parked;
static volatile int sink;

__attribute__((noinline)) static void waiter_fn(void *arg) {
  (void)arg; long v;
  atomic_fetch_add(&parked, 1);
  sink = gr_chan_recv(gate, &v, GR_FOREVER);
}

static long field(const char *key) {
  char *p = strstr(out, key); CHECK(p);
  return atol(p + strlen(key));
}

int main(void) {
  init_workers(2);
  static gr_handle *hs[N];
  CHECK_OK(gr_chan_new(8, 0, &gate));
  for (int i = 0; i < N; i++) CHECK_OK(gr_spawn(waiter_fn, NULL, &hs[i]));
  while (atomic_load(&parked) < N) gr_sleep(1000000);
  gr_sleep(50000000);

  double t0 = now_s();
  CHECK_OK(gr_dump_to(collect, NULL, NULL, GR_DUMP_JSON));
  double t1 = now_s();
  long lines = 0, frames = 0;
  for (char *p = out; (p = strstr(p, "{\"type\":\"goroutine\"")); p++) lines++;
  for (char *p = out; (p = strstr(p, "\"fn\":\"waiter_fn\"},\"frames\":[")); p++) frames++;
  long collect_us = field("\"collect_us\":"), held_us = field("\"held_us\":");
  CHECK(lines == N);
  /* The waits themselves: every goroutine parked in chan receive, with its frame. */
  long recv = 0;
  for (char *p = out; (p = strstr(p, "\"wait\":\"chan receive\"")); p++) recv++;
  CHECK(recv == N);
  long withframe = 0;
  for (char *p = out; (p = strstr(p, "\"frames\":[{\"pc\"")); p++) {
    char *e = strchr(p, '\n');
    char *f = strstr(p, "\"fn\":\"waiter_fn\"");
    if (f && f < e) withframe++;
  }
  CHECK(withframe == N);
  (void)frames;

  int fd = open("/dev/null", O_WRONLY);
  CHECK(fd >= 0);
  double t2 = now_s();
  CHECK_OK(gr_dump(fd, GR_DUMP_TEXT));
  double t3 = now_s();
  close(fd);
  printf("dump_100k: %d goroutines: JSON dump %.1f ms (collect %.1f ms, goroutines held %.1f ms in sum, %zu bytes); "
         "text dump to /dev/null %.1f ms\n",
         N, (t1 - t0) * 1e3, collect_us / 1e3, held_us / 1e3, outlen, (t3 - t2) * 1e3);

  CHECK_OK(gr_chan_close(gate));
  for (int i = 0; i < N; i++) { CHECK_RC(gr_wait(hs[i], GR_FOREVER), GR_OK); gr_handle_release(hs[i]); }
  gr_chan_release(gate);
  free(out);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
