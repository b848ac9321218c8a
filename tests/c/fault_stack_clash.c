/* Issue 11, defect 8: a large frame of C code built without -fstack-clash-protection moves
 * the stack pointer past the end of the stack in one step and writes there first. The guard
 * below each stack is a quarter of the stack (4 pages to 256 KiB): the example, a
 * 300 KiB frame at the top of a default 256 KiB stack, lands in the 64 KiB guard, and the
 * process stops with gr's overflow report instead of writing into the neighbouring stack
 * (with the old 16 KiB guard it did). The frame is emulated (a write 300 KiB below the frame
 * address), so the result does not depend on the compiler's defaults. Each case in a child. */
#include "harness.h"
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t jump;

static void __attribute__((noinline)) big_frame(void *a) {
  (void)a;
  volatile char *p = (volatile char *)__builtin_frame_address(0) - jump;
  *p = 1; /* what an unprobed frame of `jump` bytes does first */
  printf("wrote %zu bytes below the frame without a fault\n", jump);
  fflush(stdout);
  _exit(3);
}

static int run(size_t stack, size_t j) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    init_workers(2);
    jump = j;
    gr_spawn_opts o; gr_spawn_opts_init(&o); o.stack_size = stack;
    gr_handle *h;
    CHECK_OK(gr_spawn_ex(big_frame, NULL, &o, &h));
    gr_wait(h, GR_FOREVER);
    _exit(4);
  }
  close(fds[1]);
  char buf[4096] = {0};
  size_t n = 0;
  ssize_t r;
  while (n < sizeof buf - 1 && (r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)r;
  close(fds[0]);
  int st;
  CHECK(waitpid(pid, &st, 0) == pid);
  int ok = WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(buf, "overflowed its stack");
  printf("stack %zu KiB, frame %zu KiB: %s\n", stack >> 10, j >> 10, ok ? "overflow reported" : "NOT caught");
  if (!ok) printf("  child status %d; stderr: %s\n", st, buf);
  return ok;
}

int main(void) {
  int ok = 1;
  ok &= run(256 << 10, 300 << 10); /* the example: guard 64 KiB */
  ok &= run(16 << 10, 24 << 10);   /* the smallest stack: guard 16 KiB */
  ok &= run(1 << 20, 1200 << 10);  /* a Python-sized stack: guard 256 KiB */
  return !ok;
}
