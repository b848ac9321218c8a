/* Issue 11, defect 7: handles made before fork() answer GR_ESTATE in the child, before and
 * after the child's gr_init. The parent has a goroutine parked receiving on channel C; in
 * the child a send on C must not report GR_OK (the receiver does not exist there: the value
 * would be lost). Every kind of inherited handle is probed. Today the send returns GR_OK
 * after gr_init, and gr_wait on an inherited handle answers GR_EAGAIN even before it. */
#include "harness.h"
#include <sys/wait.h>
#include <unistd.h>

static gr_chan *c, *buffered;
static gr_wg *wg;
static gr_mutex *mu;
static gr_cancel *tok;
static gr_handle *parked;

static void receiver(void *a) { (void)a; long v; CHECK_RC(gr_chan_recv(c, &v, GR_FOREVER), GR_ECLOSED); }

#define PROBE(expr) do { int rc_ = (expr); if (rc_ != GR_ESTATE) { \
  fprintf(stderr, "child: %s returned %d (%s), want GR_ESTATE\n", #expr, rc_, gr_strerror(rc_)); bad++; } } while (0)

int main(void) {
  init_workers(2);
  CHECK_OK(gr_chan_new(sizeof(long), 0, &c));
  CHECK_OK(gr_chan_new(sizeof(long), 4, &buffered));
  CHECK_OK(gr_wg_new(&wg));
  CHECK_OK(gr_mutex_new(&mu));
  CHECK_OK(gr_cancel_new(&tok));
  CHECK_OK(gr_spawn(receiver, NULL, &parked));
  gr_sleep(20000000);
  pid_t pid = fork();
  if (pid == 0) {
    int bad = 0;
    PROBE(gr_wait(parked, 0)); /* before gr_init */
    gr_config cfg; gr_config_init(&cfg); cfg.workers = 2;
    if (gr_init(&cfg) != GR_OK) _exit(2);
    long v = 7;
    PROBE(gr_chan_send(c, &v, 100000000LL));
    PROBE(gr_chan_send(buffered, &v, 0));
    PROBE(gr_chan_recv(buffered, &v, 0));
    PROBE(gr_chan_close(c));
    gr_case cs = {c, GR_SEND, &v, 0};
    PROBE(gr_select(&cs, 1, 0));
    PROBE(gr_wg_add(wg, 1));
    PROBE(gr_wg_wait(wg, 0));
    PROBE(gr_mutex_lock(mu, 0));
    PROBE(gr_cancel_fire(tok));
    PROBE(gr_wait(parked, 0));
    if (gr_chan_retain(c) != NULL) { fprintf(stderr, "child: gr_chan_retain of an inherited channel\n"); bad++; }
    gr_shutdown(1000000000LL);
    _exit(bad ? 1 : 0);
  }
  int st;
  CHECK(waitpid(pid, &st, 0) == pid);
  CHECK_OK(gr_chan_close(c));
  CHECK_OK(gr_wait(parked, GR_FOREVER));
  gr_handle_release(parked);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  return 0;
}
