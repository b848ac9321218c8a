/* Scale: 10,000 client goroutines, each with its own loopback TCP connection to a
 * goroutine-per-connection echo server in the same process, on 2 workers; each exchanges 100
 * messages of random size up to 4 KiB, every byte checked. gr_stats must show at most
 * workers + 4 OS threads throughout (sampled every millisecond by a plain thread).
 * RLIMIT_NOFILE is raised to what 10,000 connections need (two descriptors each); where the
 * hard limit cannot be raised (no CAP_SYS_RESOURCE) the test runs as many connections as it
 * allows and says so. */
#include "net_util.h"
#include <pthread.h>
#include <stdatomic.h>

#define WANT_CONNS 10000
#define MSGS 100
#define MAXMSG 4096
#define WORKERS 2

static int lfd;
static int CONNS = WANT_CONNS;
static uint16_t lport;
static atomic_int clients_done, servers_done;
static atomic_ulong bytes_checked;
static atomic_int sampling = 1;
static atomic_ulong max_threads;

static void echo_conn(void *arg) {
  int fd = (int)(intptr_t)arg;
  char buf[MAXMSG];
  for (;;) {
    size_t n, w;
    CHECK_OK(gr_fd_read(fd, buf, sizeof buf, GR_FOREVER, NULL, &n));
    if (n == 0) break;
    CHECK_OK(gr_fd_write(fd, buf, n, GR_FOREVER, NULL, &w));
  }
  CHECK_OK(gr_fd_close(fd));
  atomic_fetch_add(&servers_done, 1);
}

static void acceptor(void *arg) {
  (void)arg;
  for (int i = 0; i < CONNS; i++) {
    int c;
    CHECK_OK(gr_fd_accept(lfd, NULL, NULL, SOCK_CLOEXEC, GR_FOREVER, NULL, &c));
    CHECK_OK(gr_spawn(echo_conn, (void *)(intptr_t)c, NULL));
  }
}

static void client(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
  int fd = dial_loopback(lport);
  char out[MAXMSG], in[MAXMSG];
  for (int m = 0; m < MSGS; m++) {
    size_t len = 1 + rand_r(&seed) % MAXMSG, n;
    for (size_t i = 0; i < len; i++) out[i] = (char)rand_r(&seed);
    CHECK_OK(gr_fd_write(fd, out, len, GR_FOREVER, NULL, &n));
    size_t got = 0;
    while (got < len) {
      CHECK_OK(gr_fd_read(fd, in + got, len - got, GR_FOREVER, NULL, &n));
      CHECK(n > 0);
      got += n;
    }
    CHECK(memcmp(in, out, len) == 0);
    atomic_fetch_add(&bytes_checked, len);
  }
  CHECK(shutdown(fd, SHUT_WR) == 0);
  size_t n;
  CHECK_OK(gr_fd_read(fd, in, 1, GR_FOREVER, NULL, &n));
  CHECK(n == 0); /* the server closed after our EOF */
  CHECK_OK(gr_fd_close(fd));
  atomic_fetch_add(&clients_done, 1);
}

static void *sampler(void *arg) {
  (void)arg;
  while (atomic_load(&sampling)) {
    uint64_t t = threads_now();
    if (t > atomic_load(&max_threads)) atomic_store(&max_threads, t);
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

int main(void) {
  rlim_t lim = raise_nofile(2 * WANT_CONNS + 64);
  if (lim < 2 * WANT_CONNS + 64) {
    CONNS = (int)((lim - 64) / 2);
    printf("NOTE: RLIMIT_NOFILE hard limit %lu (not raisable here): %d connections instead of %d\n",
           (unsigned long)lim, CONNS, WANT_CONNS);
  }
  init_workers(WORKERS);
  lfd = listen_loopback(4096, &lport);
  pthread_t smp;
  CHECK(pthread_create(&smp, NULL, sampler, NULL) == 0);
  double t0 = now_s();
  gr_handle *acc;
  CHECK_OK(gr_spawn(acceptor, NULL, &acc));
  gr_wg *wg;
  CHECK_OK(gr_wg_new(&wg));
  for (long i = 0; i < CONNS; i++) CHECK_OK(gr_spawn(client, (void *)(i + 1), NULL));
  while (atomic_load(&clients_done) < CONNS || atomic_load(&servers_done) < CONNS) {
    CHECK(now_s() - t0 < 240);
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
  }
  double dt = now_s() - t0;
  CHECK_OK(gr_wait(acc, GR_FOREVER));
  gr_handle_release(acc);
  atomic_store(&sampling, 0);
  pthread_join(smp, NULL);
  gr_wg_free(wg);
  printf("net_scale: %d connections x %d messages, %lu bytes checked in %.1f s; max %lu threads (workers %d)\n",
         CONNS, MSGS, (unsigned long)atomic_load(&bytes_checked), dt, (unsigned long)atomic_load(&max_threads), WORKERS);
  CHECK(atomic_load(&max_threads) <= WORKERS + 4);
  CHECK_OK(gr_fd_close(lfd));
  CHECK_OK(gr_shutdown(10LL * 1000000000LL));
  return 0;
}
