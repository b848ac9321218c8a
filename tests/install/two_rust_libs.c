/* libgr.a linked beside another Rust static library (other.rs): both carry the Rust standard
 * library, and only libgr.a's gr_* API is global, so the link has no duplicate symbols, and
 * each library keeps its own runtime pieces (the other one still catches its own panics). */
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <gr.h>

ssize_t other_distinct_words(const char *s);

static ssize_t counted[2];

static void count(void *arg) {
  (void)arg;
  counted[0] = other_distinct_words("go go gr rust c go");
  counted[1] = other_distinct_words(NULL);
}

int main(void) {
  gr_handle *g;
  if (gr_spawn(count, NULL, &g) != GR_OK || gr_wait(g, GR_FOREVER) != GR_OK) return 1;
  gr_handle_release(g);
  if (counted[0] != 4 || counted[1] != -1) {
    fprintf(stderr, "other_distinct_words: %zd and %zd, expected 4 and -1\n", counted[0], counted[1]);
    return 1;
  }
  printf("libgr.a + another Rust staticlib: 4 distinct words and a caught panic, in a goroutine\n");
  return gr_shutdown(GR_FOREVER) == GR_OK ? 0 : 1;
}
