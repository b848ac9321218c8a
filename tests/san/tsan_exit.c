/* Built with ThreadSanitizer: a goroutine may end the program with exit() (which runs its
 * worker thread's destructors on the goroutine's TSan context) without a report. */
#include "harness.h"

static gr_chan *ch;
static void quitter(void *arg) {
  (void)arg;
  long v;
  CHECK_OK(gr_chan_recv(ch, &v, GR_FOREVER));
  gr_yield();
  exit(v == 42 ? 0 : 1);
}

int main(void) {
  init_workers(2);
  CHECK_OK(gr_chan_new(sizeof(long), 0, &ch));
  CHECK_OK(gr_spawn(quitter, NULL, NULL));
  long v = 42;
  CHECK_OK(gr_chan_send(ch, &v, GR_FOREVER));
  for (;;) gr_sleep(1000000000); /* the goroutine ends the process */
}
