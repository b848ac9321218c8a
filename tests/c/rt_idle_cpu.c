/* With the runtime started and idle, the process uses under 1% CPU over 2 s. */
#include "harness.h"
#include <sys/resource.h>

static double cpu_s(void) {
  struct rusage ru; getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}
static void nop(void *arg) { (void)arg; }

int main(void) {
  gr_handle *h;
  for (int i = 0; i < 100; i++) { CHECK_OK(gr_spawn(nop, NULL, &h)); CHECK_OK(gr_wait(h, GR_FOREVER)); gr_handle_release(h); }
  gr_sleep(100000000); /* let spinning workers settle */
  double c0 = cpu_s(), t0 = now_s();
  struct timespec ts = {2, 0};
  nanosleep(&ts, NULL);
  double used = cpu_s() - c0, wall = now_s() - t0;
  printf("idle: %.4f s CPU over %.2f s (%.3f%%)\n", used, wall, 100 * used / wall);
  CHECK(used / wall < 0.01);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
