/* In a subprocess, a stack overflow names the goroutine and its stack size on stderr and
 * aborts (never a bare SIGSEGV). */
#include "harness.h"
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <signal.h>
#include <fcntl.h>

static int recurse(int n) {
  volatile char buf[512];
  buf[0] = (char)n;
  return recurse(n + 1) + buf[0];
}
static void overflow(void *arg) { (void)arg; printf("%d\n", recurse(0)); }

int main(int argc, char **argv) {
  if (argc > 1) { /* the child */
    gr_handle *h;
    gr_spawn(overflow, NULL, &h);
    gr_wait(h, GR_FOREVER);
    return 0;
  }
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    execl("/proc/self/exe", argv[0], "child", (char *)NULL);
    _exit(99);
  }
  close(fds[1]);
  char buf[4096] = {0};
  size_t n = 0;
  ssize_t r;
  while ((r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)r;
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  printf("child stderr: %s", buf);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
  CHECK(strstr(buf, "gr: fatal: goroutine 1 overflowed its stack (262144 bytes)") != NULL);

  /* With GR_SIGNAL_HANDLERS=0 gr installs nothing: the overflow is the host's plain SIGSEGV. */
  pid = fork();
  if (pid == 0) {
    setenv("GR_SIGNAL_HANDLERS", "0", 1);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    execl("/proc/self/exe", argv[0], "child", (char *)NULL);
    _exit(99);
  }
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
  return 0;
}
