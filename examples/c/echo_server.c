/* A TCP echo server with a goroutine per connection, in the style of Go's
 *
 *     ln, _ := net.Listen("tcp", "127.0.0.1:0")
 *     for { conn, _ := ln.Accept(); go handle(conn) }
 *
 * driven by client goroutines in the same program that send messages of random sizes and
 * check every byte that comes back. gr_fd_accept, gr_fd_read and gr_fd_write park only the
 * calling goroutine while the socket is not ready, so 200 connections run on 2 worker
 * threads. The program ends by itself: the clients finish, the acceptor is cancelled. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "gr.h"

#define CLIENTS 200
#define MESSAGES 20

static int listener;
static struct sockaddr_in addr;
static gr_cancel *stop_accepting;
static gr_wg *clients_done;

static void fail(const char *what, int rc) {
  fprintf(stderr, "%s: %s\n", what, gr_strerror(rc));
  exit(1);
}

/* handle(conn): echo until the client closes its side (a 0-byte read). */
static void handle(void *arg) {
  int conn = (int)(intptr_t)arg;
  char buf[4096];
  for (;;) {
    size_t n, w;
    int rc = gr_fd_read(conn, buf, sizeof buf, GR_FOREVER, NULL, &n);
    if (rc != GR_OK) fail("server read", rc); /* e.g. GR_EOS - ECONNRESET */
    if (n == 0) break;
    rc = gr_fd_write(conn, buf, n, GR_FOREVER, NULL, &w);
    if (rc != GR_OK) fail("server write", rc);
  }
  gr_fd_close(conn);
}

/* The accept loop: `go handle(conn)` for every connection, until cancelled. */
static void serve(void *arg) {
  (void)arg;
  for (;;) {
    int conn;
    int rc = gr_fd_accept(listener, NULL, NULL, SOCK_CLOEXEC, GR_FOREVER, stop_accepting, &conn);
    if (rc == GR_ECANCELED) return;
    if (rc != GR_OK) fail("accept", rc);
    gr_spawn(handle, (void *)(intptr_t)conn, NULL);
  }
}

static void client(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = gr_fd_connect(fd, (struct sockaddr *)&addr, sizeof addr, 5 * 1000000000LL, NULL);
  if (rc != GR_OK) fail("connect", rc);
  char out[8192], in[8192];
  for (int m = 0; m < MESSAGES; m++) {
    size_t len = 1 + rand_r(&seed) % sizeof out, n, got = 0;
    for (size_t i = 0; i < len; i++) out[i] = (char)rand_r(&seed);
    if ((rc = gr_fd_write(fd, out, len, GR_FOREVER, NULL, &n)) != GR_OK) fail("client write", rc);
    while (got < len) { /* TCP is a stream: the echo may come back in pieces */
      if ((rc = gr_fd_read(fd, in + got, len - got, GR_FOREVER, NULL, &n)) != GR_OK) fail("client read", rc);
      if (n == 0) fail("client read", GR_ECLOSED);
      got += n;
    }
    if (memcmp(in, out, len) != 0) {
      fprintf(stderr, "client %u: echo differs\n", seed);
      exit(1);
    }
  }
  gr_fd_close(fd);
  gr_wg_done(clients_done);
}

int main(void) {
  gr_config cfg;
  gr_config_init(&cfg);
  cfg.workers = 2;
  if (gr_init(&cfg) != GR_OK) return 1;

  listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* port 0: the kernel picks one */
  socklen_t len = sizeof addr;
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 256) ||
      getsockname(listener, (struct sockaddr *)&addr, &len)) {
    perror("listen");
    return 1;
  }
  printf("echo server on 127.0.0.1:%d\n", ntohs(addr.sin_port));

  gr_cancel_new(&stop_accepting);
  gr_wg_new(&clients_done);
  gr_handle *server;
  gr_spawn(serve, NULL, &server);
  gr_wg_add(clients_done, CLIENTS);
  for (long i = 1; i <= CLIENTS; i++) gr_spawn(client, (void *)i, NULL);
  gr_wg_wait(clients_done, GR_FOREVER);

  gr_cancel_fire(stop_accepting); /* the acceptor returns; handlers already saw EOF */
  gr_wait(server, GR_FOREVER);
  gr_handle_release(server);
  gr_fd_close(listener);
  gr_stats st = {.size = sizeof st};
  gr_stats_get(&st);
  printf("%d clients x %d messages echoed and checked on %u workers (%llu OS threads)\n", CLIENTS, MESSAGES,
         st.workers, (unsigned long long)st.threads);
  gr_cancel_free(stop_accepting);
  gr_wg_free(clients_done);
  return gr_shutdown(5 * 1000000000LL) == GR_OK ? 0 : 1;
}
