/* sync.c: WaitGroup, Mutex, RWMutex, Semaphore and Cond (see glue.h). */
#include "glue.h"

NEW(wgNew, gr_wg, gr_wg_new)
FORWARD(jint, wgAdd, (jlong w, jlong d), return gr_wg_add(P(w), d))
FORWARD(jint, wgWait, (jlong w, jlong t, jlong c), return gr_wg_wait_ex(P(w), t, P(c)))
FORWARD(void, wgFree, (jlong w), gr_wg_free(P(w)))

NEW(mutexNew, gr_mutex, gr_mutex_new)
FORWARD(jint, mutexLock, (jlong m, jlong t, jlong c), return gr_mutex_lock_ex(P(m), t, P(c)))
FORWARD(jint, mutexUnlock, (jlong m), return gr_mutex_unlock(P(m)))
FORWARD(void, mutexFree, (jlong m), gr_mutex_free(P(m)))

NEW(rwmutexNew, gr_rwmutex, gr_rwmutex_new)
FORWARD(jint, rwmutexLock, (jlong m, jlong t, jlong c), return gr_rwmutex_lock_ex(P(m), t, P(c)))
FORWARD(jint, rwmutexUnlock, (jlong m), return gr_rwmutex_unlock(P(m)))
FORWARD(jint, rwmutexRlock, (jlong m, jlong t, jlong c), return gr_rwmutex_rlock_ex(P(m), t, P(c)))
FORWARD(jint, rwmutexRunlock, (jlong m), return gr_rwmutex_runlock(P(m)))
FORWARD(void, rwmutexFree, (jlong m), gr_rwmutex_free(P(m)))

JNIEXPORT jlong JNICALL Java_io_gr_Native_semNew(JNIEnv *env, jclass cls, jlong size) {
  (void)env;
  (void)cls;
  gr_sem *s = NULL;
  int rc = gr_sem_new(size, &s);
  return rc != GR_OK ? rc : J(s);
}
FORWARD(jint, semAcquire, (jlong s, jlong n, jlong t, jlong c), return gr_sem_acquire_ex(P(s), n, t, P(c)))
FORWARD(jint, semRelease, (jlong s, jlong n), return gr_sem_release(P(s), n))
FORWARD(void, semFree, (jlong s), gr_sem_free(P(s)))

FORWARD(jlong, condNew, (jlong m), gr_cond *c = NULL; int rc = gr_cond_new(P(m), &c); return rc != GR_OK ? rc : J(c))
FORWARD(jint, condWait, (jlong c, jlong t, jlong k), return gr_cond_wait_ex(P(c), t, P(k)))
FORWARD(jint, condSignal, (jlong c), return gr_cond_signal(P(c)))
FORWARD(jint, condBroadcast, (jlong c), return gr_cond_broadcast(P(c)))
FORWARD(void, condFree, (jlong c), gr_cond_free(P(c)))
