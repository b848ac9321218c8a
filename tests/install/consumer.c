/* A program built against an installed gr by its build system (tests/install/run.sh): by
 * pkg-config with gr.pc and gr-static.pc, by CMake with gr::gr and gr::gr_static. The build
 * system passes its own idea of gr's version as GR_EXPECTED_VERSION (pkg-config --modversion,
 * CMake's gr_VERSION from grConfigVersion.cmake): it must agree with the header's
 * GR_VERSION_STRING and with the library's gr_version(). Then it runs a producer goroutine
 * and a consumer over a buffered channel. */
#include <stdio.h>
#include <string.h>

#include <gr.h>

#ifndef GR_EXPECTED_VERSION
#error "build with -DGR_EXPECTED_VERSION=\"X.Y.Z\""
#endif

static void producer(void *arg) {
  gr_chan *ch = arg;
  for (int i = 1; i <= 1000; i++) {
    if (gr_chan_send(ch, &i, GR_FOREVER) != GR_OK) return;
  }
  gr_chan_close(ch);
}

int main(void) {
  if (strcmp(gr_version(), GR_VERSION_STRING) != 0 || strcmp(gr_version(), GR_EXPECTED_VERSION) != 0) {
    fprintf(stderr, "version mismatch: gr_version() %s, gr.h %s, build system %s\n", gr_version(),
            GR_VERSION_STRING, GR_EXPECTED_VERSION);
    return 1;
  }
  gr_chan *ch;
  gr_handle *g;
  if (gr_chan_new(sizeof(int), 8, &ch) != GR_OK || gr_spawn(producer, ch, &g) != GR_OK) return 1;
  long sum = 0;
  int v, rc;
  while ((rc = gr_chan_recv(ch, &v, GR_FOREVER)) == GR_OK) sum += v;
  if (rc != GR_ECLOSED || gr_wait(g, GR_FOREVER) != GR_OK) return 1;
  gr_handle_release(g);
  gr_chan_release(ch);
  if (sum != 500500) {
    fprintf(stderr, "sum %ld, expected 500500\n", sum);
    return 1;
  }
  printf("gr %s: 1000 values over a channel, sum %ld\n", gr_version(), sum);
  return gr_shutdown(GR_FOREVER) == GR_OK ? 0 : 1;
}
