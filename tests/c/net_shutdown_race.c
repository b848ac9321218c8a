/* gr_shutdown racing descriptor waits of plain threads (issue 11 with the netpoller): a wait
 * that registers after shutdown failed the parked ones must still end with GR_ESTATE at
 * once, not wait for an event no thread will ever deliver (before the fix it waited out its
 * own timeout: for good with GR_FOREVER).
 *
 * Each cycle, four plain threads wait on one pipe again and again (GR_FOREVER) while a
 * pinger makes it readable every few microseconds and the waiters drain it, so that waits
 * keep registering; then gr_shutdown. Every waiter must see GR_ESTATE and return within
 * 5 s of the shutdown (a generous bound: it is immediate). */
#include "harness.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define CYCLES 200
#define WAITERS 4
static int p[2];
static atomic_int stop_ping;
static atomic_long waits;

static void *waiter(void *a) {
  (void)a;
  for (;;) {
    int rc = gr_fd_wait(p[0], GR_READ, GR_FOREVER);
    if (rc == GR_ESTATE) return NULL;
    CHECK_OK(rc);
    atomic_fetch_add(&waits, 1);
    char buf[64];
    (void)!read(p[0], buf, sizeof buf); /* non-blocking: another waiter may have drained it */
  }
}

static void *pinger(void *a) {
  (void)a;
  while (!atomic_load(&stop_ping)) {
    (void)!write(p[1], "x", 1);
    usleep(5);
  }
  return NULL;
}

static void cycle(int i) {
  init_workers(2);
  CHECK(pipe2(p, O_NONBLOCK) == 0);
  atomic_store(&stop_ping, 0);
  pthread_t w[WAITERS], pg;
  for (int k = 0; k < WAITERS; k++) CHECK(pthread_create(&w[k], NULL, waiter, NULL) == 0);
  CHECK(pthread_create(&pg, NULL, pinger, NULL) == 0);
  usleep(200 + (i % 7) * 100);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 5;
  for (int k = 0; k < WAITERS; k++) {
    int rc = pthread_timedjoin_np(w[k], NULL, &until);
    if (rc != 0) {
      fprintf(stderr, "cycle %d: a descriptor wait did not end within 5 s of gr_shutdown\n", i);
      exit(1);
    }
  }
  atomic_store(&stop_ping, 1);
  CHECK(pthread_join(pg, NULL) == 0);
  close(p[0]);
  close(p[1]);
}

int main(void) {
  for (int i = 0; i < CYCLES; i++) cycle(i);
  printf("net_shutdown_race: %d cycles, %ld waits served; every wait ended with the shutdown\n", CYCLES,
         atomic_load(&waits));
  return 0;
}
