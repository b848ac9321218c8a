/* sync.c: WaitGroup and Mutex (see glue.h). */
#include "glue.h"

NEW(wgNew, gr_wg, gr_wg_new)
FORWARD(jint, wgAdd, (jlong w, jlong d), return gr_wg_add(P(w), d))
FORWARD(jint, wgWait, (jlong w, jlong t, jlong c), return gr_wg_wait_ex(P(w), t, P(c)))
FORWARD(void, wgFree, (jlong w), gr_wg_free(P(w)))

NEW(mutexNew, gr_mutex, gr_mutex_new)
FORWARD(jint, mutexLock, (jlong m, jlong t, jlong c), return gr_mutex_lock_ex(P(m), t, P(c)))
FORWARD(jint, mutexUnlock, (jlong m), return gr_mutex_unlock(P(m)))
FORWARD(void, mutexFree, (jlong m), gr_mutex_free(P(m)))
