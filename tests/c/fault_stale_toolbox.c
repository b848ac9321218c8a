/* Issue 11 (defects 3, 7) for the toolbox of issue 15 and the ports of issue 13: handles of
 * every new type answer GR_ESTATE once their runtime is shut down, before and after the next
 * gr_init, and freeing them still frees them.
 * Round 2: the alarms of a timer, a ticker and a context deadline sit in the runtime's timer
 * heap (goroutines are parked receiving on the timer's and the ticker's channels, another in
 * a wait registered on the context, a group task likewise) when a gr_shutdown times out; once
 * the runtime's threads are gone its memory, timer heap included, is freed. The stale handles
 * must then neither reach that heap nor resume those goroutines: probing and freeing them
 * under the next runtime (which the sanitizer build checks for use after free) answers
 * GR_ESTATE and frees. Round 3: CYCLES init/shutdown cycles that each make, arm and free (half
 * before the shutdown, half after the next gr_init) one handle of each type. */
#include "stale_toolbox.h"
#include "resources.h"
#include <unistd.h>

#define CYCLES 150

static gr_chan *block_ch;
static void park_on(void *ch) { long v; gr_chan_recv((gr_chan *)ch, &v, GR_FOREVER); }
static void park_ctx(void *ctx) { long v; gr_chan_recv_ex(block_ch, &v, GR_FOREVER, (gr_cancel *)ctx); }
static int task_park(void *arg, gr_cancel *ctx) { (void)arg; long v; gr_chan_recv_ex(block_ch, &v, GR_FOREVER, ctx); return 0; }

static void wait_reclaimed(void) {
  double t0 = now_s();
  while (resources_now().threads > 1) { CHECK(now_s() - t0 < 10); usleep(1000); }
}

int main(void) {
  tb_handles t;
  /* Round 1: a clean shutdown. */
  init_workers(2);
  tb_make(&t);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  CHECK(tb_probe(&t, GR_ESTATE, "no runtime") == 0);
  init_workers(2);
  CHECK(tb_probe(&t, GR_ESTATE, "next runtime") == 0);
  tb_free(&t);

  /* Round 2: alarms armed and waits registered at a shutdown that times out. */
  tb_make(&t);
  CHECK_OK(gr_chan_new(sizeof(long), 0, &block_ch));
  CHECK_OK(gr_spawn(park_on, gr_timer_chan(t.timer), NULL));
  CHECK_OK(gr_spawn(park_on, gr_ticker_chan(t.ticker), NULL));
  CHECK_OK(gr_spawn(park_on, t.after, NULL));
  CHECK_OK(gr_spawn(park_ctx, t.deadline, NULL));
  CHECK_OK(gr_group_go(t.group, task_park, NULL, GR_FOREVER));
  gr_sleep(30000000);
  CHECK_RC(gr_shutdown(50000000), GR_ETIMEDOUT);
  wait_reclaimed();
  init_workers(2);
  CHECK(tb_probe(&t, GR_ESTATE, "after reclaim") == 0);
  tb_free(&t); /* cancels the context (ending, in vain, the stale waits), stops the timers */
  long v = 1;
  CHECK_RC(gr_chan_send(block_ch, &v, 0), GR_ESTATE);
  gr_chan_release(block_ch);
  /* The new runtime's toolbox works. */
  tb_make(&t);
  CHECK_OK(gr_timer_reset(t.timer, 1000000) == 1 ? GR_OK : -100);
  int64_t at;
  CHECK_OK(gr_chan_recv(gr_timer_chan(t.timer), &at, GR_FOREVER));
  CHECK_OK(gr_cancel_fire(t.ctx));
  CHECK_RC(gr_cancel_err(t.deadline), GR_ECANCELED);
  CHECK_OK(gr_group_wait(t.group, GR_FOREVER));
  tb_free(&t);
  CHECK_OK(gr_shutdown(GR_FOREVER));

  /* Round 3: cycles. */
  resources r0 = resources_now();
  tb_handles prev;
  int have_prev = 0;
  for (int i = 0; i < CYCLES; i++) {
    init_workers(2);
    if (have_prev) {
      CHECK(tb_probe(&prev, GR_ESTATE, "cycle") == 0);
      tb_free(&prev);
    }
    tb_make(&t);
    tb_handles now;
    tb_make(&now);
    CHECK_OK(gr_spawn(park_on, gr_ticker_chan(now.ticker), NULL)); /* arms it; woken by nothing */
    CHECK_OK(gr_rwmutex_rlock(now.rw, 0));
    CHECK_OK(gr_sem_acquire(now.sem, 2, 0));
    tb_free(&t);
    int rc = gr_shutdown(20000000);
    CHECK(rc == GR_ETIMEDOUT);
    prev = now;
    have_prev = 1;
  }
  init_workers(2);
  tb_free(&prev);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  wait_reclaimed();
  resources r1 = resources_now();
  printf("%d cycles with every toolbox handle type: threads %ld -> %ld, fds %ld -> %ld\n", CYCLES, r0.threads, r1.threads,
         r0.fds, r1.fds);
  CHECK(r1.fds <= r0.fds + 2); /* the ports' eventfds are closed with them */
  printf("toolbox handles of a shut-down runtime answer GR_ESTATE, before and after the next gr_init; frees free them\n");
  return 0;
}
