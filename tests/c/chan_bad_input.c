/* Bad input returns codes, never crashes: NULL handles and elements, size 0, released
   handles, bad select cases, negative WaitGroup, unlocking an unlocked mutex. */
#include "harness.h"
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  init_workers(2);
  gr_chan *c = NULL;
  int v = 1;
  CHECK_RC(gr_chan_new(0, 1, &c), GR_EINVAL);
  CHECK_RC(gr_chan_new(4, 1, NULL), GR_EINVAL);
  CHECK_RC(gr_chan_new((size_t)1 << 40, (size_t)1 << 40, &c), GR_EINVAL); /* > GR_CHAN_ELEM_MAX */
  CHECK_RC(gr_chan_new(GR_CHAN_ELEM_MAX + 1, 0, &c), GR_EINVAL);
  CHECK_RC(gr_chan_new(GR_CHAN_ELEM_MAX, (size_t)1 << 48, &c), GR_ENOMEM); /* 2^64 bytes */
  CHECK(c == NULL);
  CHECK_RC(gr_chan_send(NULL, &v, 0), GR_EINVAL);
  CHECK_RC(gr_chan_recv(NULL, &v, 0), GR_EINVAL);
  CHECK_RC(gr_chan_close(NULL), GR_EINVAL);
  CHECK(gr_chan_len(NULL) == 0 && gr_chan_cap(NULL) == 0);
  CHECK(gr_chan_retain(NULL) == NULL);
  gr_chan_release(NULL);
  CHECK_OK(gr_chan_new(sizeof v, 1, &c));
  CHECK_RC(gr_chan_send(c, NULL, 0), GR_EINVAL);
  CHECK_RC(gr_chan_recv(c, NULL, 0), GR_EINVAL);
  /* select */
  gr_case cs[2] = { { c, GR_RECV, &v, 99 }, { NULL, GR_SEND, NULL, 99 } };
  CHECK_RC(gr_select(NULL, 1, 0), GR_EINVAL);
  CHECK_RC(gr_select(NULL, 0, 0), GR_EAGAIN);
  CHECK_RC(gr_select(NULL, 0, 1000), GR_ETIMEDOUT);
  CHECK_RC(gr_select(cs, 2, 0), GR_EAGAIN);
  cs[0].op = (gr_op)7;
  CHECK_RC(gr_select(cs, 2, 0), GR_EINVAL);
  cs[0].op = GR_SEND; cs[0].elem = NULL;
  CHECK_RC(gr_select(cs, 2, 0), GR_EINVAL);
  CHECK(cs[0].status == 99 && cs[1].status == 99); /* outputs untouched on failure */
  gr_cancel *k;
  CHECK_OK(gr_cancel_new(&k));
  gr_cancel_free(k);
  CHECK_RC(gr_chan_recv_ex(c, &v, 0, k), GR_EINVAL); /* released cancel token */
  /* after the last release */
  gr_chan_release(c);
  CHECK_RC(gr_chan_send(c, &v, 0), GR_EINVAL);
  CHECK_RC(gr_chan_recv(c, &v, 0), GR_EINVAL);
  CHECK_RC(gr_chan_close(c), GR_EINVAL);
  CHECK(gr_chan_retain(c) == NULL);
  gr_chan_release(c); /* ignored */
  cs[0] = (gr_case){ c, GR_RECV, &v, 0 };
  CHECK_RC(gr_select(cs, 1, 0), GR_EINVAL);
  /* WaitGroup */
  gr_wg *wg;
  CHECK_RC(gr_wg_new(NULL), GR_EINVAL);
  CHECK_RC(gr_wg_add(NULL, 1), GR_EINVAL);
  CHECK_RC(gr_wg_done(NULL), GR_EINVAL);
  CHECK_RC(gr_wg_wait(NULL, 0), GR_EINVAL);
  CHECK_OK(gr_wg_new(&wg));
  CHECK_RC(gr_wg_add(wg, -1), GR_EINVAL);
  CHECK_RC(gr_wg_done(wg), GR_EINVAL);
  CHECK_OK(gr_wg_add(wg, 2));
  CHECK_RC(gr_wg_add(wg, -3), GR_EINVAL);
  CHECK_RC(gr_wg_wait(wg, 0), GR_EAGAIN);
  CHECK_RC(gr_wg_wait(wg, 1000000), GR_ETIMEDOUT);
  CHECK_OK(gr_wg_add(wg, -2));
  CHECK_OK(gr_wg_wait(wg, 0));
  gr_wg_free(wg);
  CHECK_RC(gr_wg_add(wg, 1), GR_EINVAL);
  gr_wg_free(wg); /* double free ignored */
  gr_wg_free(NULL);
  /* Mutex */
  gr_mutex *mu;
  CHECK_RC(gr_mutex_new(NULL), GR_EINVAL);
  CHECK_RC(gr_mutex_lock(NULL, 0), GR_EINVAL);
  CHECK_RC(gr_mutex_unlock(NULL), GR_EINVAL);
  CHECK_OK(gr_mutex_new(&mu));
  CHECK_RC(gr_mutex_unlock(mu), GR_ESTATE);
  CHECK_OK(gr_mutex_lock(mu, 0));
  CHECK_RC(gr_mutex_lock(mu, 0), GR_EAGAIN);
  CHECK_RC(gr_mutex_lock(mu, 1000000), GR_ETIMEDOUT);
  CHECK_OK(gr_mutex_unlock(mu));
  CHECK_RC(gr_mutex_unlock(mu), GR_ESTATE);
  gr_mutex_free(mu);
  CHECK_RC(gr_mutex_lock(mu, 0), GR_EINVAL);
  gr_mutex_free(mu);
  gr_mutex_free(NULL);
  /* A fork()ed child refuses channel and sync calls with GR_ESTATE until gr_init; the
     parent's handles stay refused after it (they belong to the parent's runtime). */
  gr_chan *live;
  CHECK_OK(gr_chan_new(sizeof v, 1, &live));
  pid_t pid = fork();
  if (pid == 0) {
    gr_chan *x;
    if (gr_chan_new(sizeof v, 1, &x) != GR_ESTATE) _exit(10);
    if (gr_chan_send(live, &v, 0) != GR_ESTATE) _exit(11);
    if (gr_chan_close(live) != GR_ESTATE) _exit(12);
    if (gr_wg_new(&wg) != GR_ESTATE) _exit(13);
    if (gr_mutex_new(&mu) != GR_ESTATE) _exit(14);
    if (gr_init(NULL) != GR_OK) _exit(15);
    if (gr_chan_send(live, &v, 0) != GR_ESTATE) _exit(16);
    if (gr_chan_new(sizeof v, 1, &x) != GR_OK || gr_chan_send(x, &v, 0) != GR_OK) _exit(17);
    _exit(0);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  gr_chan_release(live);
  printf("chan_bad_input: ok\n");
  return 0;
}
