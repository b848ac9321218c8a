/* Issue 11, defect 5: stack sizes near SIZE_MAX are refused with GR_EINVAL (the round-up
 * and size + guard must not wrap), for gr_spawn_opts.stack_size and gr_config.stack_size,
 * and the runtime still works afterwards. Each probe runs in a child process: today
 * SIZE_MAX aborts ("overflowed its stack"), SIZE_MAX - 16383 gives GR_EPANIC (a division
 * by zero), and gr_config.stack_size = SIZE_MAX is accepted, after which spawns abort. */
#include "harness.h"
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

static void nop(void *a) { (void)a; }

static int spawn_probe(size_t size) {
  init_workers(2);
  gr_spawn_opts o; gr_spawn_opts_init(&o); o.stack_size = size;
  gr_handle *h = NULL;
  int rc = gr_spawn_ex(nop, NULL, &o, &h);
  if (rc != GR_EINVAL) { fprintf(stderr, "stack_size %zu: %d (%s), want GR_EINVAL\n", size, rc, gr_strerror(rc)); return 1; }
  if (h) return 2;
  CHECK_OK(gr_spawn(nop, NULL, &h)); /* still usable */
  CHECK_OK(gr_wait(h, 5000000000LL));
  return 0;
}

static int config_probe(size_t size) {
  gr_config c; gr_config_init(&c); c.workers = 2; c.stack_size = size;
  int rc = gr_init(&c);
  if (rc != GR_EINVAL) { fprintf(stderr, "gr_config.stack_size %zu: gr_init %d (%s), want GR_EINVAL\n", size, rc, gr_strerror(rc)); return 1; }
  init_workers(2); /* a valid config still starts it */
  gr_handle *h;
  CHECK_OK(gr_spawn(nop, NULL, &h));
  CHECK_OK(gr_wait(h, 5000000000LL));
  return 0;
}

int main(void) {
  size_t sizes[] = {SIZE_MAX, SIZE_MAX - 16383, SIZE_MAX - 4095, SIZE_MAX / 2 + 1, (size_t)1 << 62};
  int failed = 0;
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
      pid_t pid = fork();
      if (pid == 0) _exit(k == 0 ? spawn_probe(sizes[i]) : config_probe(sizes[i]));
      int st;
      CHECK(waitpid(pid, &st, 0) == pid);
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "%s %zu: child %s %d\n", k ? "gr_config.stack_size" : "gr_spawn_opts.stack_size", sizes[i],
                WIFSIGNALED(st) ? "killed by signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        failed++;
      }
    }
  printf("%d of 10 stack-size probes wrong\n", failed);
  return failed != 0;
}
