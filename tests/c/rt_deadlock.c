/* The deadlock report (GR_DEADLOCK) and SIGQUIT dumps (GR_TRACEBACK), issue 14. Each case
 * runs in a child process (the parent never starts gr) whose standard error goes to a pipe
 * the parent reads:
 *  - deadlock: main waits on a goroutine blocked on a channel nobody else holds: with
 *    GR_DEADLOCK=warn the message and the dump come within 2 s, and the program carries on;
 *    with abort it dies of SIGABRT;
 *  - no report (3 s each, run side by side) with a pending timer, a goroutine waiting on a
 *    file descriptor (in a blocking section), or a plain thread busy outside gr;
 *  - SIGQUIT with GR_TRACEBACK=1 prints the dump and the program finishes normally; without
 *    it gr leaves SIGQUIT alone.
 * This program provokes deadlocks on purpose: each child sets its own GR_DEADLOCK, whatever
 * `make test` exported. */
#include "harness.h"
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MSG "gr: all goroutines are asleep - deadlock!"

static volatile int sink;
static gr_chan *ch;

__attribute__((noinline)) static void recv_forever(void *a) {
  (void)a; long v; sink = gr_chan_recv(ch, &v, GR_FOREVER);
}
__attribute__((noinline)) static void sleep_3s(void *a) { (void)a; sink = gr_sleep(3000000000LL); }
static int rfd;
__attribute__((noinline)) static void fd_wait(void *a) {
  (void)a; struct pollfd p = {rfd, POLLIN, 0};
  gr_blocking_begin();
  sink = poll(&p, 1, 3000);
  gr_blocking_end();
}

/* The cases, each the whole of a child's main. */
static int case_deadlock(void) {
  gr_handle *h;
  CHECK_OK(gr_chan_new(8, 0, &ch));
  CHECK_OK(gr_spawn(recv_forever, NULL, &h));
  gr_wait(h, GR_FOREVER); /* never returns */
  return 1;
}
static int case_timer(void) {
  gr_handle *h;
  CHECK_OK(gr_spawn(sleep_3s, NULL, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  return gr_shutdown(GR_FOREVER) == GR_OK ? 0 : 1;
}
static int case_fd(void) {
  int p[2]; CHECK(pipe(p) == 0); rfd = p[0];
  gr_handle *h;
  CHECK_OK(gr_spawn(fd_wait, NULL, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  return gr_shutdown(GR_FOREVER) == GR_OK ? 0 : 1;
}
static int case_busy_thread(void) {
  gr_handle *h; long v = 7;
  CHECK_OK(gr_chan_new(8, 0, &ch));
  CHECK_OK(gr_spawn(recv_forever, NULL, &h));
  double t = now_s();
  while (now_s() - t < 3.0) usleep(10000); /* busy outside gr: it will send */
  CHECK_OK(gr_chan_send(ch, &v, GR_FOREVER));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  return gr_shutdown(GR_FOREVER) == GR_OK ? 0 : 1;
}
static int ctl[2];
static int case_sigquit(void) {
  gr_handle *hs[3];
  CHECK_OK(gr_chan_new(8, 0, &ch));
  for (int i = 0; i < 3; i++) CHECK_OK(gr_spawn(recv_forever, NULL, &hs[i]));
  gr_stats st = {.size = sizeof st};
  do { gr_sleep(1000000); CHECK_OK(gr_stats_get(&st)); } while (st.waiting[GR_WAIT_CHAN_RECV] < 3);
  CHECK(write(ctl[1], "r", 1) == 1); /* ready for the signal */
  char c; CHECK(read(ctl[0], &c, 1) == 1); /* the parent saw the dump */
  CHECK_OK(gr_chan_close(ch));
  for (int i = 0; i < 3; i++) { CHECK_RC(gr_wait(hs[i], GR_FOREVER), GR_OK); gr_handle_release(hs[i]); }
  gr_chan_release(ch);
  return gr_shutdown(GR_FOREVER) == GR_OK ? 0 : 1;
}

typedef struct { pid_t pid; int err; char buf[1 << 16]; size_t len; double found; } child;

static void start(child *c, int (*fn)(void), const char *deadlock, const char *traceback) {
  int p[2]; CHECK(pipe(p) == 0);
  c->len = 0; c->found = 0; c->buf[0] = 0;
  c->pid = fork(); CHECK(c->pid >= 0);
  if (c->pid == 0) {
    close(p[0]); dup2(p[1], 2);
    setenv("GR_DEADLOCK", deadlock, 1);
    if (traceback) setenv("GR_TRACEBACK", traceback, 1); else unsetenv("GR_TRACEBACK");
    _exit(fn());
  }
  close(p[1]); c->err = p[0];
}

/* Reads the child's stderr until `want` shows (returns seconds since `t0`) or `secs` pass. */
static double wait_for(child *c, const char *want, double t0, double secs) {
  while (now_s() - t0 < secs) {
    struct pollfd p = {c->err, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) {
      ssize_t n = read(c->err, c->buf + c->len, sizeof c->buf - 1 - c->len);
      if (n <= 0) break;
      c->len += (size_t)n; c->buf[c->len] = 0;
    }
    if (want && strstr(c->buf, want)) return now_s() - t0;
  }
  return -1;
}

static int reap(child *c) {
  int st; CHECK(waitpid(c->pid, &st, 0) == c->pid);
  wait_for(c, NULL, now_s(), 0.2);
  close(c->err);
  return st;
}

int main(void) {
  static child a, b, d, e;

  /* Deadlock, warn: the message and the dump within 2 s; the program goes on. */
  double t0 = now_s();
  start(&a, case_deadlock, "warn", NULL);
  double t = wait_for(&a, "goroutine 1 [chan receive", t0, 5);
  if (t < 0) { fprintf(stderr, "no deadlock report; the child wrote:\n%s\n", a.buf); return 1; }
  CHECK(strstr(a.buf, MSG));
  CHECK(t <= 2.0 + 0.5); /* the bound, with room for a loaded machine's start-up */
  CHECK(strstr(a.buf, "recv_forever+0x"));
  if (!strstr(a.buf, "[join ") || !strstr(a.buf, "no timeout]")) { fprintf(stderr, "%s", a.buf); return 1; }
  CHECK(waitpid(a.pid, NULL, WNOHANG) == 0); /* still running: warn carries on */
  printf("deadlock reported after %.2f s\n", t);
  kill(a.pid, SIGKILL); reap(&a);

  /* Deadlock, abort. */
  start(&a, case_deadlock, "abort", NULL);
  int st = reap(&a);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
  CHECK(strstr(a.buf, MSG) && strstr(a.buf, "GR_DEADLOCK=abort"));

  /* No report: a pending timer, an fd wait, a plain thread busy outside gr (side by side). */
  t0 = now_s();
  start(&b, case_timer, "abort", NULL);
  start(&d, case_fd, "abort", NULL);
  start(&e, case_busy_thread, "abort", NULL);
  child *cs[] = {&b, &d, &e};
  const char *names[] = {"pending timer", "fd wait", "busy thread"};
  for (int i = 0; i < 3; i++) {
    int s = reap(cs[i]);
    if (!WIFEXITED(s) || WEXITSTATUS(s) != 0 || strstr(cs[i]->buf, MSG)) {
      fprintf(stderr, "%s: status %d, stderr:\n%s\n", names[i], s, cs[i]->buf); return 1;
    }
  }
  printf("no false report with a pending timer, an fd wait, a busy plain thread (%.1f s)\n", now_s() - t0);

  /* SIGQUIT with GR_TRACEBACK=1: a dump, and the program finishes normally. */
  CHECK(pipe(ctl) == 0);
  int back[2]; CHECK(pipe(back) == 0);
  int saved[2] = {ctl[0], ctl[1]};
  ctl[0] = back[0]; ctl[1] = saved[1]; /* child reads `back`, writes `ctl` */
  start(&a, case_sigquit, "0", "1");
  char c; CHECK(read(saved[0], &c, 1) == 1);
  kill(a.pid, SIGQUIT);
  t = wait_for(&a, "recv_forever+0x", now_s(), 10);
  if (t < 0) { fprintf(stderr, "no SIGQUIT dump:\n%s\n", a.buf); return 1; }
  CHECK(strstr(a.buf, "SIGQUIT") && strstr(a.buf, "[chan receive"));
  CHECK(write(back[1], "g", 1) == 1);
  st = reap(&a);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

  /* Without GR_TRACEBACK gr leaves SIGQUIT alone. */
  CHECK_OK(gr_init(NULL));
  struct sigaction old; CHECK(sigaction(SIGQUIT, NULL, &old) == 0);
  CHECK(old.sa_handler == SIG_DFL);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  printf("deadlock: 2 + 3 + 2 cases passed\n");
  return 0;
}
