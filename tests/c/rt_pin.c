/* A pinned goroutine resumes on the same OS thread across 10,000 parks, while unpinned
 * goroutines still migrate and are stolen. gr_should_yield: a pinned spawner (never preempted
 * in gr_spawn) learns that its backlog is due, and yielding works it off. */
#include "harness.h"
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t tid(void) { return (pid_t)syscall(SYS_gettid); }
static atomic_int migrated;

static void pinned(void *arg) {
  (void)arg;
  CHECK_OK(gr_pin());
  pid_t t = tid();
  for (int i = 0; i < 10000; i++) {
    if (i % 2) gr_sleep(1000); else gr_yield();
    CHECK(tid() == t);
  }
  CHECK_OK(gr_unpin());
}

static void roamer(void *arg) {
  (void)arg;
  pid_t t = tid();
  for (int i = 0; i < 200; i++) {
    gr_sleep(1000);
    if (tid() != t) { atomic_store(&migrated, 1); }
  }
}

static void spinner(void *arg) { (void)arg; volatile long x = 0; for (long i = 0; i < 200000; i++) x += i; }

static atomic_int ran;
static void nop_count(void *arg) { (void)arg; atomic_fetch_add(&ran, 1); }

static void backlog_spawner(void *arg) {
  (void)arg;
  CHECK_OK(gr_pin());
  CHECK(gr_should_yield() == 0);
  gr_spawn_opts o; gr_spawn_opts_init(&o); o.flags = GR_SPAWN_LOCAL;
  int due = 0;
  for (int i = 0; i < 1000; i++) {
    CHECK_OK(gr_spawn_ex(nop_count, NULL, &o, NULL));
    if (gr_should_yield()) { due++; gr_yield(); }
  }
  /* Pinned, so gr_spawn never yielded by itself: without asking, all 1000 would queue. */
  printf("backlog yields=%d ran=%d\n", due, atomic_load(&ran));
  CHECK(due > 0);
  CHECK(atomic_load(&ran) >= 1000 - 300); /* the queue stayed near the 256 backlog */
  CHECK_OK(gr_unpin());
}

int main(void) {
  init_workers(2);
  CHECK_RC(gr_pin(), GR_ESTATE);   /* outside goroutines */
  CHECK_RC(gr_unpin(), GR_ESTATE);
  CHECK(gr_should_yield() == 0);   /* outside goroutines */
  gr_handle *b;
  CHECK_OK(gr_spawn(backlog_spawner, NULL, &b));
  CHECK_OK(gr_wait(b, GR_FOREVER));
  gr_handle_release(b);
  gr_handle *p[4], *r[16];
  for (int i = 0; i < 4; i++) CHECK_OK(gr_spawn(pinned, NULL, &p[i]));
  for (int i = 0; i < 16; i++) CHECK_OK(gr_spawn(roamer, NULL, &r[i]));
  for (int i = 0; i < 2000; i++) CHECK_OK(gr_spawn(spinner, NULL, NULL));
  for (int i = 0; i < 4; i++) { CHECK_OK(gr_wait(p[i], GR_FOREVER)); gr_handle_release(p[i]); }
  for (int i = 0; i < 16; i++) { CHECK_OK(gr_wait(r[i], GR_FOREVER)); gr_handle_release(r[i]); }
  gr_stats st = {.size = sizeof st};
  CHECK_OK(gr_stats_get(&st));
  printf("migrated=%d steals=%lu\n", atomic_load(&migrated), (unsigned long)st.steals_total);
  CHECK(atomic_load(&migrated) == 1);
  CHECK(st.steals_total > 0);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
