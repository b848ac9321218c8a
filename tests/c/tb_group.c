/* Task groups through the C API: wait for all, the first failure cancels the context and is
   the one reported, limits and TryGo, gr_group_spawn with options (thread-bound goroutines, as
   the Java binding uses them) and handles, a parent context, callers of every kind. */
#include "toolbox.h"
#include <stdatomic.h>

static atomic_int active, max_active, finished;

static int ok_task(void *arg, gr_cancel *ctx) {
  (void)arg; (void)ctx;
  int a = atomic_fetch_add(&active, 1) + 1;
  int m = atomic_load(&max_active);
  while (a > m && !atomic_compare_exchange_weak(&max_active, &m, a)) {}
  gr_sleep(100000);
  atomic_fetch_sub(&active, 1);
  atomic_fetch_add(&finished, 1);
  return 0;
}

/* Fails with its argument as code after waiting for `gate` (or returns 0 if arg is 0);
   the others wait on the group's context and return when it is cancelled. */
static gr_chan *gate;
static int fail_after_gate(void *arg, gr_cancel *ctx) {
  int code = (int)(intptr_t)arg;
  int64_t v;
  if (code == 7) {
    CHECK_OK(gr_chan_recv(gate, &v, GR_FOREVER));
    return code;
  }
  gr_chan *never;
  CHECK_OK(gr_chan_new(8, 0, &never));
  CHECK_RC(gr_chan_recv_ex(never, &v, GR_FOREVER, ctx), GR_ECANCELED);
  gr_chan_release(never);
  return code;
}

static void failing_goroutine(void *arg) {
  (void)arg;
  CHECK_OK(gr_goroutine_fail("an exception"));
}

static void group_from(void *arg) {
  (void)arg;
  gr_group *g;
  /* all succeed */
  CHECK_OK(gr_group_new(NULL, 0, &g));
  for (int i = 0; i < 50; i++) CHECK_OK(gr_group_go(g, ok_task, NULL, GR_FOREVER));
  CHECK_OK(gr_group_wait(g, GR_FOREVER));
  CHECK(gr_group_error(g, NULL) == NULL);
  CHECK_RC(gr_cancel_err(gr_group_context(g)), GR_ECANCELED);   /* wait ends the context */
  gr_group_free(g);
}

int main(void) {
  init_workers(2);
  gr_group *g;
  int code = 0;
  /* callers of every kind */
  mix m = {0};
  for (int i = 0; i < 6; i++) mix_start(&m, i, group_from, NULL);
  mix_join(&m);
  CHECK(atomic_load(&finished) == 300);

  /* the first failure cancels the others' context and is the one reported */
  CHECK_OK(gr_chan_new(8, 0, &gate));
  CHECK_OK(gr_group_new(NULL, 0, &g));
  CHECK_OK(gr_group_go(g, fail_after_gate, (void *)(intptr_t)7, GR_FOREVER));
  for (int i = 0; i < 5; i++) CHECK_OK(gr_group_go(g, fail_after_gate, (void *)(intptr_t)(i % 2 ? 9 : 0), GR_FOREVER));
  CHECK_RC(gr_group_wait(g, ms_ns(20)), GR_ETIMEDOUT);
  CHECK_RC(gr_group_wait(g, 0), GR_EAGAIN);
  CHECK_RC(gr_cancel_err(gr_group_context(g)), GR_OK);
  int64_t v = 1;
  CHECK_OK(gr_chan_send(gate, &v, GR_FOREVER));
  CHECK_RC(gr_group_wait(g, GR_FOREVER), GR_EPANIC);
  const char *msg = gr_group_error(g, &code);
  CHECK(msg != NULL && code == 7);
  printf("first failure: %s (code %d)\n", msg, code);
  gr_group_free(g);

  /* a limit: never more than 3 at once; TryGo (timeout 0) when full */
  atomic_store(&max_active, 0);
  CHECK_OK(gr_group_new(NULL, 3, &g));
  for (int i = 0; i < 60; i++) CHECK_OK(gr_group_go(g, ok_task, NULL, GR_FOREVER));
  CHECK_OK(gr_group_wait(g, GR_FOREVER));
  CHECK(atomic_load(&max_active) <= 3);
  gr_group_free(g);
  CHECK_OK(gr_group_new(NULL, 1, &g));
  CHECK_OK(gr_group_go(g, fail_after_gate, (void *)(intptr_t)7, 0));
  CHECK_RC(gr_group_go(g, ok_task, NULL, 0), GR_EAGAIN);
  CHECK_RC(gr_group_go(g, ok_task, NULL, ms_ns(5)), GR_ETIMEDOUT);
  gr_cancel *c;
  CHECK_OK(gr_cancel_new(&c));
  CHECK_OK(gr_cancel_fire(c));
  CHECK_RC(gr_group_go_ex(g, ok_task, NULL, GR_FOREVER, c), GR_ECANCELED);
  CHECK_OK(gr_chan_send(gate, &v, GR_FOREVER));
  CHECK_RC(gr_group_wait(g, GR_FOREVER), GR_EPANIC);
  gr_group_free(g);

  /* a parent context: its cancel reaches the tasks; the group records no failure */
  gr_cancel *parent;
  CHECK_OK(gr_cancel_new(&parent));
  CHECK_OK(gr_group_new(parent, 0, &g));
  for (int i = 0; i < 4; i++) CHECK_OK(gr_group_go(g, fail_after_gate, NULL, GR_FOREVER));
  CHECK_OK(gr_sleep(ms_ns(5)));
  CHECK_OK(gr_cancel_fire(parent));
  CHECK_OK(gr_group_wait(g, GR_FOREVER));
  CHECK_RC(gr_cancel_err(gr_group_context(g)), GR_ECANCELED);
  gr_group_free(g);
  gr_cancel_free(parent);

  /* gr_group_spawn: thread-bound goroutines with handles; a goroutine that fails through
     gr_goroutine_fail is the group's failure (code GR_EPANIC) */
  CHECK_OK(gr_group_new(NULL, 2, &g));
  gr_spawn_opts o;
  gr_spawn_opts_init(&o);
  o.flags = GR_SPAWN_BOUND;
  gr_handle *h[3];
  CHECK_OK(gr_group_spawn(g, failing_goroutine, NULL, &o, GR_FOREVER, NULL, &h[0]));
  gr_spawn_opts_init(&o);
  CHECK_OK(gr_group_spawn(g, failing_goroutine, NULL, &o, GR_FOREVER, NULL, &h[1]));
  CHECK_OK(gr_group_spawn(g, failing_goroutine, NULL, NULL, GR_FOREVER, NULL, NULL));
  o.flags = 99;
  CHECK_RC(gr_group_spawn(g, failing_goroutine, NULL, &o, GR_FOREVER, NULL, &h[2]), GR_EINVAL);
  CHECK_RC(gr_group_wait(g, GR_FOREVER), GR_EPANIC);
  msg = gr_group_error(g, &code);
  CHECK(msg != NULL && code == GR_EPANIC);
  CHECK(strcmp(msg, "an exception") == 0);
  for (int i = 0; i < 2; i++) {
    CHECK_RC(gr_wait(h[i], GR_FOREVER), GR_EPANIC);
    gr_handle_release(h[i]);
  }
  gr_group_free(g);

  /* bad input */
  CHECK_RC(gr_group_new(NULL, 0, NULL), GR_EINVAL);
  CHECK_RC(gr_group_go(NULL, ok_task, NULL, 0), GR_EINVAL);
  CHECK_RC(gr_group_wait(NULL, 0), GR_EINVAL);
  CHECK(gr_group_context(NULL) == NULL);
  CHECK(gr_group_error(NULL, &code) == NULL);
  CHECK_OK(gr_group_new(NULL, 0, &g));
  CHECK_RC(gr_group_go(g, NULL, NULL, 0), GR_EINVAL);
  gr_cancel *ctx = gr_group_context(g);
  gr_group_free(g);
  CHECK_RC(gr_group_go(g, ok_task, NULL, 0), GR_EINVAL);
  CHECK_RC(gr_cancel_err(ctx), GR_EINVAL);   /* its context handle went with it */
  gr_group_free(g);
  gr_chan_release(gate);
  printf("tb_group: ok\n");
  return 0;
}
