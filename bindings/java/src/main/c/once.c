/* once.c: io.gr.Once over gr_once (see glue.h). The function is a Java BooleanSupplier
 * (Once's wrapper: true for success) that gr_once_do calls back on the calling thread, inside
 * this native method; only the first call's runs. */
#include "glue.h"

struct once_call {
  JNIEnv *env;
  jobject fn;
};

static int once_entry(void *arg) {
  struct once_call *c = arg;
  jboolean ok = (*c->env)->CallBooleanMethod(c->env, c->fn, m_bool_get);
  if ((*c->env)->ExceptionCheck(c->env)) { /* the wrapper catches Throwable; a last resort */
    (*c->env)->ExceptionClear(c->env);
    return 1;
  }
  return ok ? 0 : 1;
}

/* For a call that only waits: the function is never run (the Once is not new any more). */
static int never_run(void *arg) {
  (void)arg;
  return 1;
}

NEW(onceNew, gr_once, gr_once_new)
FORWARD(void, onceFree, (jlong o), gr_once_free(P(o)))

/* fn NULL: only wait (a call that cannot be the first). */
JNIEXPORT jint JNICALL Java_io_gr_Native_onceDo(JNIEnv *env, jclass cls, jlong o, jobject fn,
                                                jlong timeout_ns, jlong cancel) {
  (void)cls;
  struct once_call c = {env, fn};
  return gr_once_do_ex(P(o), fn ? once_entry : never_run, fn ? &c : NULL, timeout_ns, P(cancel));
}

/* GR_ONCE_NEW, _RUNNING, _DONE or _FAILED. */
FORWARD(jint, onceState, (jlong o), return gr_once_state(P(o), NULL))
