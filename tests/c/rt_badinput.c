/* Bad input returns documented codes, never a crash: NULL fn, NULL and released handles,
 * wrong struct sizes, gr_init twice, calls after shutdown, calls in a fork()ed child. */
#include "harness.h"
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void nop(void *arg) { (void)arg; }
static void fail_with_msg(void *arg) { (void)arg; CHECK_OK(gr_goroutine_fail("boom")); }
static void forever(void *arg) { (void)arg; gr_sleep(3600LL * 1000000000LL); }

int main(void) {
  /* strerror covers every code and unknown ones. */
  for (int c = -8; c <= 0; c++) CHECK(gr_strerror(c) && strlen(gr_strerror(c)) > 5);
  CHECK(strstr(gr_strerror(GR_ENOMEM), "vm.max_map_count"));
  CHECK(strstr(gr_strerror(-1000), "unknown"));
  CHECK(strcmp(gr_version(), GR_VERSION_STRING) == 0);

  gr_config c; gr_config_init(&c);
  c.size = 3;
  CHECK_RC(gr_init(&c), GR_EINVAL);
  gr_config_init(&c); c.workers = 2;
  CHECK_OK(gr_init(&c));
  CHECK_RC(gr_init(&c), GR_ESTATE);
  CHECK_RC(gr_init(NULL), GR_ESTATE);

  gr_handle *h = NULL;
  CHECK_RC(gr_spawn(NULL, NULL, &h), GR_EINVAL);
  CHECK(h == NULL); /* outputs written only on success */
  CHECK_RC(gr_wait(NULL, 0), GR_EINVAL);
  gr_handle_release(NULL);
  gr_spawn_opts o; gr_spawn_opts_init(&o); o.flags = 0x80;
  CHECK_RC(gr_spawn_ex(nop, NULL, &o, &h), GR_EINVAL);
  o.flags = 8; /* the next unassigned flag */
  CHECK_RC(gr_spawn_ex(nop, NULL, &o, &h), GR_EINVAL);
  o.flags = 0; o.size = 1;
  CHECK_RC(gr_spawn_ex(nop, NULL, &o, &h), GR_EINVAL);
  /* GR_SPAWN_LOCAL from a plain thread: accepted, an ordinary spawn. */
  gr_spawn_opts_init(&o); o.flags = GR_SPAWN_LOCAL;
  CHECK_OK(gr_spawn_ex(nop, NULL, &o, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);

  CHECK_OK(gr_spawn(nop, NULL, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  CHECK_OK(gr_wait(h, 0)); /* joining again is fine */
  gr_handle_release(h);
  CHECK_RC(gr_wait(h, 0), GR_EINVAL); /* released */
  gr_handle_release(h);               /* double release: ignored */

  /* Timeouts: poll on a running goroutine gives EAGAIN, a short timeout ETIMEDOUT. */
  gr_handle *f;
  CHECK_OK(gr_spawn(forever, NULL, &f));
  CHECK_RC(gr_wait(f, 0), GR_EAGAIN);
  double t0 = now_s();
  CHECK_RC(gr_wait(f, 20000000), GR_ETIMEDOUT);
  CHECK(now_s() - t0 >= 0.019);

  /* Failure reporting. */
  CHECK_RC(gr_goroutine_fail("x"), GR_ESTATE);
  CHECK_OK(gr_spawn(fail_with_msg, NULL, &h));
  CHECK_RC(gr_wait(h, GR_FOREVER), GR_EPANIC);
  CHECK(strcmp(gr_handle_error(h), "boom") == 0);
  gr_handle_release(h);

  gr_stats st; memset(&st, 0, sizeof st);
  CHECK_RC(gr_stats_get(&st), GR_EINVAL); /* size not set */
  CHECK_RC(gr_stats_get(NULL), GR_EINVAL);
  st.size = sizeof st;
  CHECK_OK(gr_stats_get(&st));
  CHECK(st.workers == 2);
  CHECK(gr_self() == 0);
  CHECK(gr_context() == GR_CTX_THREAD);

  /* fork(): the child refuses everything with ESTATE until gr_init. */
  pid_t pid = fork();
  if (pid == 0) {
    if (gr_spawn(nop, NULL, &h) != GR_ESTATE) _exit(10);
    if (gr_sleep(1000) != GR_ESTATE) _exit(11);
    if (gr_stats_get(&st) != GR_ESTATE) _exit(12);
    if (!strstr(gr_strerror(GR_ESTATE), "fork")) _exit(13);
    if (gr_init(NULL) != GR_OK) _exit(14);
    if (gr_spawn(nop, NULL, &h) != GR_OK) _exit(15);
    if (gr_wait(h, GR_FOREVER) != GR_OK) _exit(16);
    _exit(0);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { fprintf(stderr, "child status %d\n", status); }
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  /* Shutdown with a goroutine still parked: ETIMEDOUT, then everything is ESTATE. */
  CHECK_RC(gr_shutdown(10000000), GR_ETIMEDOUT);
  CHECK_RC(gr_spawn(nop, NULL, &h), GR_ESTATE);
  CHECK_RC(gr_sleep(1000), GR_ESTATE);
  CHECK_RC(gr_shutdown(0), GR_ESTATE);
  CHECK_RC(gr_stats_get(&st), GR_ESTATE);
  /* An explicit gr_init starts a fresh runtime. */
  CHECK_OK(gr_init(NULL));
  CHECK_OK(gr_spawn(nop, NULL, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
