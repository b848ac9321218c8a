/* The program tools/gdb/gr.py is tested on (tests/gdb/run.sh): goroutines parked in a
 * channel receive and in a sleep, one pinned; prints "ready" and waits on stdin. */
#include "gr.h"
#include <stdio.h>
#include <unistd.h>

static gr_chan *ch;
static volatile int sink;
__attribute__((noinline)) static void parked_in_recv(void *a) {
  (void)a; long v; sink = gr_chan_recv(ch, &v, GR_FOREVER);
}
__attribute__((noinline)) static void parked_in_sleep(void *a) {
  (void)a; sink = gr_sleep(600LL * 1000000000LL);
}

int main(void) {
  gr_config c; gr_config_init(&c); c.workers = 2;
  if (gr_init(&c) != GR_OK || gr_chan_new(8, 0, &ch) != GR_OK) return 1;
  for (int i = 0; i < 3; i++) gr_spawn(parked_in_recv, NULL, NULL);
  gr_spawn(parked_in_sleep, NULL, NULL);
  gr_stats st = {.size = sizeof st};
  do { gr_sleep(1000000); gr_stats_get(&st); } while (st.parked + st.sleeping < 4);
  printf("ready %d\n", getpid());
  fflush(stdout);
  char b; (void)!read(0, &b, 1);
  return 0;
}
