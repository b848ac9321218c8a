/* Go's concurrent prime sieve (go.dev/doc/play/sieve.go).
 *
 * A generator sends 2, 3, 4, ... into a chain of filter goroutines, one per prime found,
 * each dropping the multiples of its prime. Every stage is a goroutine connected by
 * unbuffered channels: a daisy chain of hand-offs. Usage: sieve [N] (default 100 primes). */
#include <stdio.h>
#include <stdlib.h>
#include "gr.h"

static void generate(void *arg) {
  gr_chan *ch = arg;
  for (long i = 2;; i++)
    if (gr_chan_send(ch, &i, GR_FOREVER) != GR_OK) return;
}

typedef struct { gr_chan *in, *out; long prime; } filter_arg;

static void filter(void *arg) {
  filter_arg *f = arg;
  long i;
  while (gr_chan_recv(f->in, &i, GR_FOREVER) == GR_OK)
    if (i % f->prime != 0 && gr_chan_send(f->out, &i, GR_FOREVER) != GR_OK) break;
  gr_chan_close(f->in); /* unwinds the chain towards the generator */
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100, last = 0;
  filter_arg *fs = calloc((size_t)n, sizeof *fs);
  gr_chan *ch;
  if (!fs || gr_chan_new(sizeof(long), 0, &ch)) return 1;
  gr_spawn(generate, ch, NULL);
  for (long k = 0; k < n; k++) {
    long prime;
    if (gr_chan_recv(ch, &prime, GR_FOREVER) != GR_OK) return 1;
    printf("%ld%c", prime, (k + 1) % 20 == 0 ? '\n' : ' ');
    last = prime;
    gr_chan *next;
    if (gr_chan_new(sizeof(long), 0, &next)) return 1;
    fs[k] = (filter_arg){ ch, next, prime };
    gr_spawn(filter, &fs[k], NULL);
    ch = next;
  }
  gr_chan_close(ch); /* stop the last filter; the others follow */
  gr_shutdown(5LL * 1000000000);
  printf("\nprime #%ld = %ld\n", n, last);
  return last == (n == 100 ? 541 : last) ? 0 : 1;
}
