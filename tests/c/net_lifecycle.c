/* fork and shutdown.
 * - fork() while a goroutine waits on a pipe: in the child every gr_fd_ call returns
 *   GR_ESTATE until gr_init, which starts a fresh runtime with a fresh poller (the parent's
 *   epoll instance is never touched); the child then waits on descriptors normally. The
 *   parent's waiter is unaffected.
 * - gr_shutdown while a plain thread waits on a descriptor: the wait returns GR_ESTATE (no
 *   poller will ever serve it again); a new gr_init serves the same descriptor afresh. */
#include "net_util.h"
#include <pthread.h>
#include <sys/wait.h>

#define MS 1000000LL

static int p[2], q[2];
static void parent_reader(void *arg) {
  (void)arg;
  char c;
  size_t n;
  CHECK_OK(gr_fd_read(p[0], &c, 1, 20000 * MS, NULL, &n));
  CHECK(n == 1 && c == 'P');
}

static void child_reader(void *arg) {
  (void)arg;
  char c;
  size_t n;
  CHECK_OK(gr_fd_read(q[0], &c, 1, 20000 * MS, NULL, &n));
  CHECK(n == 1 && c == 'C');
}

static int child(void) {
  char c;
  size_t n;
  CHECK_RC(gr_fd_wait(p[0], GR_READ, 0), GR_ESTATE);
  CHECK_RC(gr_fd_read(q[0], &c, 1, 0, NULL, &n), GR_ESTATE);
  CHECK_RC(gr_fd_close(q[1]), GR_ESTATE);
  CHECK_OK(gr_init(NULL));
  gr_handle *h;
  CHECK_OK(gr_spawn(child_reader, NULL, &h));
  CHECK_OK(gr_wait(h, 20000 * MS));
  gr_handle_release(h);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}

static int shut_fd[2];
static int thread_rc;
static void *thread_waiter(void *arg) {
  (void)arg;
  thread_rc = gr_fd_wait(shut_fd[0], GR_READ, 20000 * MS);
  return NULL;
}

int main(void) {
  init_workers(2);
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  CHECK(pipe2(q, O_CLOEXEC) == 0);
  gr_handle *h;
  CHECK_OK(gr_spawn(parent_reader, NULL, &h));
  gr_sleep(20 * MS); /* parked in the poller */
  fflush(stdout);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) _exit(child());
  CHECK(write(q[1], "C", 1) == 1); /* for the child's reader */
  int st;
  CHECK(waitpid(pid, &st, 0) == pid);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK(write(p[1], "P", 1) == 1); /* the parent's reader is still served */
  CHECK_OK(gr_wait(h, 20000 * MS));
  gr_handle_release(h);

  /* shutdown under a waiting thread */
  CHECK(pipe2(shut_fd, O_CLOEXEC) == 0);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, thread_waiter, NULL) == 0);
  gr_sleep(50 * MS);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  pthread_join(t, NULL);
  CHECK_RC(thread_rc, GR_ESTATE);
  CHECK_RC(gr_fd_wait(shut_fd[0], GR_READ, 0), GR_ESTATE);
  init_workers(2);
  CHECK(write(shut_fd[1], "s", 1) == 1);
  CHECK_OK(gr_fd_wait(shut_fd[0], GR_READ, 5000 * MS));
  CHECK_RC(gr_fd_wait(p[0], GR_READ, 10 * MS), GR_ETIMEDOUT);
  printf("net_lifecycle: fork child refused then served afresh; shutdown ended a thread's wait\n");
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
