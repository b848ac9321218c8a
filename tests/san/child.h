/* For the sanitizer tests that expect a report: run this program again as a child, in a
 * given mode and with extra environment, and collect what it printed. */
#ifndef GR_TEST_CHILD_H
#define GR_TEST_CHILD_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs `self mode` with `env` ("NAME=value", or NULL) added to the environment; its stdout
 * and stderr go to `out` (NUL-terminated, truncated to `cap`). Returns the wait status. The
 * caller must not have started gr (or any thread) before: it forks. */
static int run_child(const char *self, const char *mode, const char *env, char *out, size_t cap) {
  int fds[2];
  if (pipe(fds) != 0) { perror("pipe"); exit(1); }
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); exit(1); }
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    if (env) putenv((char *)env);
    execl("/proc/self/exe", self, mode, (char *)NULL);
    _exit(99);
  }
  close(fds[1]);
  size_t n = 0;
  ssize_t r;
  char sink[4096];
  while ((r = read(fds[0], n + 1 < cap ? out + n : sink, n + 1 < cap ? cap - 1 - n : sizeof sink)) > 0)
    if (n + 1 < cap) n += (size_t)r;
  out[n] = 0;
  close(fds[0]);
  int status;
  if (waitpid(pid, &status, 0) != pid) { perror("waitpid"); exit(1); }
  return status;
}

/* Checks that `text` contains (or, with `want` 0, lacks) `needle`; on failure prints what
 * the child said and exits 1. */
static void expect(const char *what, const char *text, const char *needle, int want) {
  if ((strstr(text, needle) != NULL) == want) return;
  fprintf(stderr, "%s: %s \"%s\"; the child printed:\n%s\n", what, want ? "missing" : "unexpected", needle, text);
  exit(1);
}
#endif
