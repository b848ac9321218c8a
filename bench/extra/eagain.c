/* The cost of the system calls under an echo exchange, for netpoll/README.md ("Would io_uring
 * help?"): a recv(2) that finds nothing (EAGAIN, the probe before a goroutine parks) against
 * a 512-byte send + recv over loopback TCP.
 *
 *   cc -O2 -o /tmp/eagain bench/extra/eagain.c && /tmp/eagain
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t n = sizeof a;
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &n)) return 1;
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (struct sockaddr *)&a, sizeof a)) return 1;
  int s = accept(l, NULL, NULL), one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char buf[512] = {0};
  const int probes = 1000000, pairs = 200000;
  double t0 = now_ns();
  for (int i = 0; i < probes; i++)
    if (recv(c, buf, sizeof buf, MSG_DONTWAIT) >= 0) return 1;
  double t1 = now_ns();
  for (int i = 0; i < pairs; i++) {
    if (send(s, buf, sizeof buf, 0) != sizeof buf) return 1;
    for (size_t got = 0; got < sizeof buf;) {
      ssize_t r = recv(c, buf + got, sizeof buf - got, 0);
      if (r <= 0) return 1;
      got += (size_t)r;
    }
  }
  double t2 = now_ns();
  printf("EAGAIN recv on a TCP socket: %.0f ns; 512-byte send + recv over loopback TCP: %.0f ns\n",
         (t1 - t0) / probes, (t2 - t1) / pairs);
  return 0;
}
