/* upcall.c: C code calling a Java LongUnaryOperator through a grjni_upcall (grjni.h). */
#include "glue.h"

#include <stdlib.h>

static int upcall_call(grjni_upcall *u, int64_t arg, int64_t *result) {
  if (!u || !u->reserved) return GR_EINVAL;
  if (gr_context() == GR_CTX_COROUTINE) return GR_ESTATE; /* never run Java on a coroutine */
  JNIEnv *env = grjni_env();
  if (!env) return GR_ESTATE;
  if ((*env)->PushLocalFrame(env, 16) != 0) {
    (*env)->ExceptionClear(env);
    return GR_ENOMEM;
  }
  jlong r = (*env)->CallLongMethod(env, (jobject)u->reserved, m_long_op_apply, (jlong)arg);
  int rc = GR_OK;
  if ((*env)->ExceptionCheck(env)) {
    jthrowable t = (*env)->ExceptionOccurred(env);
    (*env)->ExceptionClear(env);
    if (gr_context() != GR_CTX_THREAD) {
      char *d = grjni_describe(env, t);
      gr_goroutine_fail(d);
      free(d);
    }
    rc = GR_EPANIC;
  } else if (result) {
    *result = r;
  }
  (*env)->PopLocalFrame(env, NULL);
  return rc;
}

JNIEXPORT jlong JNICALL Java_io_gr_Native_upcallNew(JNIEnv *env, jclass cls, jobject fn) {
  (void)cls;
  grjni_upcall *u = calloc(1, sizeof *u);
  if (!u) return GR_ENOMEM;
  u->reserved = (*env)->NewGlobalRef(env, fn);
  if (!u->reserved) {
    free(u);
    return GR_ENOMEM;
  }
  u->call = upcall_call;
  return J(u);
}

JNIEXPORT void JNICALL Java_io_gr_Native_upcallFree(JNIEnv *env, jclass cls, jlong p) {
  (void)cls;
  grjni_upcall *u = P(p);
  (*env)->DeleteGlobalRef(env, (jobject)u->reserved);
  u->reserved = NULL;
  free(u);
}

