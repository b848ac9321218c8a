/* Reading a child process's output from a goroutine while other goroutines run.
 *
 * The child (/bin/sh) prints a line every 20 ms. A reader goroutine waits on the pipe with
 * gr_fd_read, which parks only that goroutine; meanwhile a ticker goroutine and a few
 * workers keep running on the same 2 worker threads. The reader sends each line over a
 * channel to main, which prints it. When the child exits the pipe reports end of file
 * (a 0-byte read), the reader closes the channel, and everything winds down by itself. */
#include <fcntl.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "gr.h"

extern char **environ;

#define LINE 128
static int out_fd;
static gr_chan *lines;
static atomic_int ticks, child_done;

/* Splits what the pipe delivers into lines and sends each one to main. */
static void reader(void *arg) {
  (void)arg;
  char buf[512], line[LINE];
  size_t used = 0;
  for (;;) {
    size_t n;
    int rc = gr_fd_read(out_fd, buf, sizeof buf, 5 * 1000000000LL, NULL, &n);
    if (rc != GR_OK) {
      fprintf(stderr, "read: %s\n", gr_strerror(rc));
      break;
    }
    if (n == 0) break; /* end of file: the child closed its stdout (it exited) */
    for (size_t i = 0; i < n; i++) {
      if (buf[i] == '\n' || used == LINE - 1) {
        line[used] = 0;
        gr_chan_send(lines, line, GR_FOREVER);
        used = 0;
      } else {
        line[used++] = buf[i];
      }
    }
  }
  gr_fd_close(out_fd);
  gr_chan_close(lines);
}

/* Other goroutines keep running while the reader waits. */
static void ticker(void *arg) {
  (void)arg;
  while (!atomic_load(&child_done)) {
    atomic_fetch_add(&ticks, 1);
    gr_sleep(5 * 1000000);
  }
}

static void worker(void *arg) {
  volatile unsigned long x = (unsigned long)arg;
  for (int i = 0; i < 20; i++) {
    for (int k = 0; k < 200000; k++) x = x * 6364136223846793005UL + 1;
    gr_yield();
  }
}

int main(void) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return 1;
  /* the child's stdout is the pipe's write end (dup2'd, so without O_CLOEXEC there) */
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
  char *argv[] = {"sh", "-c", "for i in 1 2 3 4 5; do echo \"line $i from child $$\"; sleep 0.02; done", NULL};
  pid_t pid;
  if (posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ) != 0) {
    perror("posix_spawn");
    return 1;
  }
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]); /* ours: else the pipe never reports end of file */
  out_fd = p[0];

  gr_chan_new(LINE, 4, &lines);
  gr_handle *r, *t, *w[3];
  gr_spawn(reader, NULL, &r);
  gr_spawn(ticker, NULL, &t);
  for (long i = 0; i < 3; i++) gr_spawn(worker, (void *)i, &w[i]);

  char line[LINE];
  int nlines = 0;
  while (gr_chan_recv(lines, line, GR_FOREVER) == GR_OK) { /* GR_ECLOSED after the last line */
    printf("got: %s\n", line);
    nlines++;
  }
  int status;
  /* waitpid blocks the thread: fine on the main thread (it is not a goroutine). */
  waitpid(pid, &status, 0);
  atomic_store(&child_done, 1);
  gr_wait(r, GR_FOREVER);
  gr_wait(t, GR_FOREVER);
  for (int i = 0; i < 3; i++) gr_wait(w[i], GR_FOREVER), gr_handle_release(w[i]);
  gr_handle_release(r);
  gr_handle_release(t);
  gr_chan_release(lines);
  printf("%d lines from the child (exit status %d); the ticker ran %d times meanwhile\n", nlines,
         WIFEXITED(status) ? WEXITSTATUS(status) : -1, atomic_load(&ticks));
  return gr_shutdown(GR_FOREVER) == GR_OK && nlines == 5 && atomic_load(&ticks) > 5 ? 0 : 1;
}
