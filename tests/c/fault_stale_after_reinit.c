/* Issue 11, defect 7 (and 3): a handle belongs to the runtime that was live when it was made.
 * After gr_shutdown, and after the next gr_init too, every call with it answers GR_ESTATE
 * (functions that return a value return their "invalid" one), while releasing it still frees
 * it (a channel's drop function runs on what it buffered). Round 2: a goroutine parked on a
 * channel at a gr_shutdown that times out; once the runtime's threads are gone its stack is
 * unmapped, and the channel, from the next runtime, refuses every operation: nothing reaches
 * the parked receiver's wait entry, which lay on that stack. */
#include "harness.h"
#include "resources.h"
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static atomic_int dropped;
static void drop_elem(void *elem, void *ctx) { (void)ctx; if (*(long *)elem == 42) atomic_fetch_add(&dropped, 1); }
static void nop(void *a) { (void)a; }
static gr_chan *park_ch;
static void parked(void *a) { (void)a; long v; gr_chan_recv(park_ch, &v, GR_FOREVER); }

#define STALE(expr) CHECK_RC(expr, GR_ESTATE)

static void probe_all(gr_chan *c, gr_wg *w, gr_mutex *m, gr_cancel *k, gr_handle *h) {
  long v = 1;
  STALE(gr_chan_send(c, &v, 0));
  STALE(gr_chan_send(c, &v, GR_FOREVER));
  STALE(gr_chan_recv(c, &v, GR_FOREVER));
  STALE(gr_chan_close(c));
  STALE(gr_chan_recv_ex(c, &v, 0, NULL));
  gr_case cs = {c, GR_RECV, &v, 77};
  STALE(gr_select(&cs, 1, GR_FOREVER));
  CHECK(cs.status == 77);
  CHECK(gr_chan_len(c) == 0 && gr_chan_cap(c) == 0);
  CHECK(gr_chan_retain(c) == NULL);
  STALE(gr_wg_add(w, 1));
  STALE(gr_wg_done(w));
  STALE(gr_wg_wait(w, GR_FOREVER));
  STALE(gr_mutex_lock(m, GR_FOREVER));
  STALE(gr_mutex_unlock(m));
  STALE(gr_cancel_fire(k));
  STALE(gr_cancel_reset(k));
  STALE(gr_wait(h, GR_FOREVER));
  CHECK(gr_handle_error(h) == NULL);
  /* a live object with a stale cancel token: refused too */
  gr_chan *fresh;
  if (gr_chan_new(8, 1, &fresh) == GR_OK) {
    STALE(gr_chan_recv_ex(fresh, &v, GR_FOREVER, k));
    gr_chan_release(fresh);
  }
}

int main(void) {
  /* Round 1: a clean shutdown, then a new runtime. */
  init_workers(2);
  gr_chan *c; gr_wg *w; gr_mutex *m; gr_cancel *k; gr_handle *h;
  CHECK_OK(gr_chan_new_with_drop(sizeof(long), 4, drop_elem, NULL, &c));
  long v = 42;
  CHECK_OK(gr_chan_send(c, &v, 0));
  CHECK_OK(gr_wg_new(&w)); CHECK_OK(gr_wg_add(w, 1));
  CHECK_OK(gr_mutex_new(&m)); CHECK_OK(gr_mutex_lock(m, 0));
  CHECK_OK(gr_cancel_new(&k));
  CHECK_OK(gr_spawn(nop, NULL, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  CHECK_OK(gr_shutdown(GR_FOREVER));
  probe_all(c, w, m, k, h); /* no runtime */
  init_workers(2);
  probe_all(c, w, m, k, h); /* another runtime */
  gr_chan_release(c);
  CHECK(atomic_load(&dropped) == 1);
  gr_wg_free(w); gr_mutex_free(m); gr_cancel_free(k); gr_handle_release(h);
  CHECK_RC(gr_chan_send(c, &v, 0), GR_EINVAL); /* released: invalid, as always */
  CHECK_RC(gr_wait(h, 0), GR_EINVAL);
  /* The new runtime's handles work. */
  CHECK_OK(gr_chan_new(sizeof(long), 1, &c));
  CHECK_OK(gr_chan_send(c, &v, 0));
  CHECK_OK(gr_chan_recv(c, &v, 0));
  gr_chan_release(c);

  /* Round 2: a goroutine parked at a shutdown that times out. */
  CHECK_OK(gr_chan_new(sizeof(long), 0, &park_ch));
  CHECK_OK(gr_spawn(parked, NULL, NULL));
  gr_sleep(20000000);
  CHECK_RC(gr_shutdown(50000000), GR_ETIMEDOUT);
  double t0 = now_s();
  while (resources_now().threads > 1) { CHECK(now_s() - t0 < 10); usleep(1000); } /* memory reclaimed */
  init_workers(2);
  v = 7;
  STALE(gr_chan_send(park_ch, &v, GR_FOREVER)); /* would hand v to a receiver whose stack is gone */
  STALE(gr_chan_close(park_ch));
  gr_case cs = {park_ch, GR_SEND, &v, 0};
  STALE(gr_select(&cs, 1, 0));
  gr_chan_release(park_ch);
  CHECK_OK(gr_spawn(nop, NULL, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  printf("handles of a shut-down runtime answer GR_ESTATE, before and after the next gr_init; releases free them\n");
  return 0;
}
