/* Select with a timeout (gobyexample.com/timeouts and non-blocking channel operations).
 *
 * A slow goroutine answers after 30 ms: a select with a 10 ms timeout gives up
 * (GR_ETIMEDOUT), one with 50 ms gets the answer; timeout 0 is Go's `default`. */
#include <stdio.h>
#include "gr.h"

static void slow(void *arg) {
  gr_chan *c = arg;
  gr_sleep(30 * 1000000);
  long v = 42;
  gr_chan_send(c, &v, GR_FOREVER);
}

int main(void) {
  gr_chan *c1, *c2, *quit;
  if (gr_chan_new(sizeof(long), 1, &c1) || gr_chan_new(sizeof(long), 1, &c2) || gr_chan_new(sizeof(long), 0, &quit)) return 1;
  long v = 0;
  gr_case cases[3] = {
    { c1, GR_RECV, &v, 0 },
    { c2, GR_RECV, &v, 0 },
    { NULL, GR_RECV, NULL, 0 }, /* a nil channel: never fires */
  };

  int i = gr_select(cases, 3, 0);
  printf("non-blocking select: %s\n", i == GR_EAGAIN ? "nothing ready (default)" : "?");

  gr_spawn(slow, c1, NULL);
  i = gr_select(cases, 3, 10 * 1000000);
  printf("select with 10 ms timeout: %s\n", gr_strerror(i));
  int ok = i == GR_ETIMEDOUT;

  i = gr_select(cases, 3, 50 * 1000000);
  if (i >= 0) printf("select with 50 ms timeout: case %d, status %d, value %ld\n", i, cases[i].status, v);
  ok = ok && i == 0 && v == 42;

  gr_chan_release(c1);
  gr_chan_release(c2);
  gr_chan_release(quit);
  return ok ? 0 : 1;
}
