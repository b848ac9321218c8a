/* Helpers for the netpoller tests: loopback listeners and connections, rlimits. */
#ifndef GR_TEST_NET_UTIL_H
#define GR_TEST_NET_UTIL_H
#include "harness.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* A listening TCP socket on 127.0.0.1 with a kernel-chosen port (written to *port). */
static inline int listen_loopback(int backlog, uint16_t *port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK(fd >= 0);
  int one = 1;
  CHECK(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
  CHECK(listen(fd, backlog) == 0);
  socklen_t len = sizeof a;
  CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
  *port = ntohs(a.sin_port);
  return fd;
}

static inline struct sockaddr_in loopback_addr(uint16_t port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

/* Connects through gr (works in goroutines and on threads); returns the socket. */
static inline int dial_loopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK(fd >= 0);
  struct sockaddr_in a = loopback_addr(port);
  CHECK_OK(gr_fd_connect(fd, (struct sockaddr *)&a, sizeof a, 10LL * 1000000000LL, NULL));
  return fd;
}

/* A connected pair over loopback TCP (plain blocking calls; for tests that need two ends). */
static inline void tcp_pair(int *client, int *server) {
  uint16_t port;
  int l = listen_loopback(4, &port);
  int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = loopback_addr(port);
  CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
  int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  CHECK(s >= 0);
  close(l);
  *client = c;
  *server = s;
}

/* Raises RLIMIT_NOFILE towards n: the hard limit too where allowed (CAP_SYS_RESOURCE),
 * else up to the hard limit. Returns the soft limit now in force. */
static inline rlim_t raise_nofile(rlim_t n) {
  struct rlimit r;
  CHECK(getrlimit(RLIMIT_NOFILE, &r) == 0);
  if (r.rlim_cur >= n) return r.rlim_cur;
  struct rlimit want = {n, r.rlim_max > n ? r.rlim_max : n};
  if (setrlimit(RLIMIT_NOFILE, &want) == 0) return n;
  r.rlim_cur = r.rlim_max; /* no privilege to raise the hard limit: take all of it */
  CHECK(setrlimit(RLIMIT_NOFILE, &r) == 0);
  return r.rlim_cur;
}

static inline uint64_t threads_now(void) {
  gr_stats s = {0};
  s.size = sizeof s;
  CHECK_OK(gr_stats_get(&s));
  return s.threads;
}
#endif
