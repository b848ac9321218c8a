/* Issue 11, defect 2: gr_spawn racing gr_shutdown. Two plain threads and a goroutine spawn
 * goroutines in a loop while the main thread calls gr_shutdown(5 s): every spawn that
 * returned GR_OK must have run by the time gr_shutdown returns GR_OK, and a spawn that lost
 * the race (it came after shutdown began) returns GR_ESTATE. 200 init/shutdown rounds. Before
 * the fix accepted goroutines never ran: gr_shutdown returned GR_OK without them (86 of 300
 * rounds in the attack) or waited for them until its timeout. */
#include "harness.h"
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_long ran, accepted, bad_rc;
static atomic_int go;

static void child(void *a) { (void)a; atomic_fetch_add(&ran, 1); }

static void *spawner(void *a) {
  if (a) gr_sleep(100000); /* the goroutine spawner: let the runtime run a little first */
  while (!atomic_load(&go)) {}
  for (;;) {
    int rc = gr_spawn(child, NULL, NULL);
    if (rc == GR_OK) { atomic_fetch_add(&accepted, 1); continue; }
    if (rc != GR_ESTATE) atomic_fetch_add(&bad_rc, 1);
    return NULL;
  }
}

static void spawner_g(void *a) { (void)a; spawner((void *)1); }

int main(void) {
  int lost_rounds = 0;
  long lost = 0;
  for (int round = 0; round < 200; round++) {
    init_workers(2);
    atomic_store(&ran, 0); atomic_store(&accepted, 0); atomic_store(&go, 0);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, spawner, NULL) == 0);
    CHECK_OK(gr_spawn(spawner_g, NULL, NULL));
    atomic_store(&accepted, 1); /* the goroutine spawner itself */
    atomic_store(&ran, 1);
    atomic_store(&go, 1);
    usleep(100 + (round * 37) % 1500);
    int rc = gr_shutdown(5000000000LL);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    CHECK_RC(rc, GR_OK);
    long a = atomic_load(&accepted), r = atomic_load(&ran);
    if (r != a) { lost_rounds++; lost += a - r; }
  }
  printf("200 rounds of spawn racing shutdown: %d rounds lost %ld accepted goroutines; %ld bad codes\n",
         lost_rounds, lost, atomic_load(&bad_rc));
  CHECK(atomic_load(&bad_rc) == 0);
  CHECK(lost_rounds == 0);
  return 0;
}
