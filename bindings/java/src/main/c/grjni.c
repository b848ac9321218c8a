/* grjni.c: the JNI glue between io.gr.Native and libgr.so.0 (include/gr.h): attaching
 * threads to the JVM and JNI_OnLoad. The other areas have a file each (see glue.h).
 *
 * Rules every file of the glue keeps (see ../../../../../docs and issue 5):
 *  1. Java frames never run on a coroutine stack. Java tasks are spawned thread-bound
 *     (GR_SPAWN_BOUND) and run on a worker's own OS stack; an upcall made from a coroutine
 *     goroutine is refused with GR_ESTATE before the JVM is touched.
 *  2. A thread that runs Java code for gr attaches lazily, as a daemon, named gr-worker-N
 *     (gr-native-N for plain C threads). A pthread key destructor detaches it when the
 *     thread exits, except while the VM is exiting (detaching then can hang).
 *  3. No JNIEnv* is cached across a wait: every entry point uses the env it was given or
 *     asks GetEnv afresh. Bound goroutines never migrate, so an env stays valid across a
 *     blocking gr_* call made from Java.
 *  4. Classes and method IDs are looked up once, in JNI_OnLoad: FindClass on an attached
 *     worker sees only the system class loader.
 *  5. Status codes go back to Java as ints; io.gr.Status turns them into exceptions (one
 *     error policy, in Java). Pointer results are returned as jlong, where a negative value
 *     is a gr_status.
 *  6. Every local reference made on an attached thread without a Java frame lives inside
 *     Push/PopLocalFrame, or is deleted (DeleteLocalRef) on every path before the native
 *     code returns; otherwise it would live until the thread detaches. */
#include "glue.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

JavaVM *g_vm;
atomic_int g_exiting;
static pthread_key_t g_attach_key;
static atomic_int g_worker_seq;
static atomic_int g_native_seq;

/* Cached in JNI_OnLoad (global refs to classes, and their method IDs). */
jclass c_task;
jmethodID m_task_invoke;
jmethodID m_task_invoke_slot;
static jclass c_long_op;  /* java.util.function.LongUnaryOperator */
static jclass c_bool_supplier; /* java.util.function.BooleanSupplier */
jmethodID m_bool_get;
jmethodID m_long_op_apply;
static jclass c_object;
static jmethodID m_to_string;
jclass c_thread;
jmethodID m_thread_current;
jmethodID m_thread_get_id;

/* ---- attachment ---------------------------------------------------------------------- */

static void detach_at_exit(void *unused) {
  (void)unused;
  if (!atomic_load(&g_exiting) && g_vm) (*g_vm)->DetachCurrentThread(g_vm);
}

/* The env of the calling thread, attaching it as a daemon if needed; NULL if impossible. */
JNIEnv *grjni_env(void) {
  JNIEnv *env = NULL;
  if (!g_vm) return NULL;
  jint r = (*g_vm)->GetEnv(g_vm, (void **)&env, JNIVER);
  if (r == JNI_OK) return env;
  if (r != JNI_EDETACHED || atomic_load(&g_exiting)) return NULL;
  char name[32];
  if (gr_context() == GR_CTX_THREAD)
    snprintf(name, sizeof name, "gr-native-%d", atomic_fetch_add(&g_native_seq, 1) + 1);
  else
    snprintf(name, sizeof name, "gr-worker-%d", atomic_fetch_add(&g_worker_seq, 1) + 1);
  JavaVMAttachArgs args = {JNIVER, name, NULL};
  if ((*g_vm)->AttachCurrentThreadAsDaemon(g_vm, (void **)&env, &args) != JNI_OK) return NULL;
  pthread_setspecific(g_attach_key, (void *)1);
  return env;
}

/* toString() of a throwable as a malloc'd C string (never NULL). Clears any new exception. */
char *grjni_describe(JNIEnv *env, jthrowable t) {
  char *out = NULL;
  jstring s = (jstring)(*env)->CallObjectMethod(env, t, m_to_string);
  if ((*env)->ExceptionCheck(env)) {
    (*env)->ExceptionClear(env);
    s = NULL;
  }
  if (s) {
    const char *u = (*env)->GetStringUTFChars(env, s, NULL);
    if (u) {
      out = strdup(u);
      (*env)->ReleaseStringUTFChars(env, s, u);
    } else {
      (*env)->ExceptionClear(env);
    }
    (*env)->DeleteLocalRef(env, s);
  }
  return out ? out : strdup("java exception");
}

/* ---- JNI_OnLoad --------------------------------------------------------------------- */

static jclass global_class(JNIEnv *env, const char *name) {
  jclass local = (*env)->FindClass(env, name);
  if (!local) return NULL;
  jclass g = (jclass)(*env)->NewGlobalRef(env, local);
  (*env)->DeleteLocalRef(env, local);
  return g;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
  (void)reserved;
  JNIEnv *env;
  if ((*vm)->GetEnv(vm, (void **)&env, JNIVER) != JNI_OK) return JNI_ERR;
  g_vm = vm;
  if (pthread_key_create(&g_attach_key, detach_at_exit) != 0) return JNI_ERR;
  if (!(c_task = global_class(env, "io/gr/Task"))) return JNI_ERR;
  if (!(m_task_invoke = (*env)->GetStaticMethodID(env, c_task, "invoke", "(Lio/gr/Task;)Ljava/lang/String;")))
    return JNI_ERR;
  if (!(m_task_invoke_slot = (*env)->GetStaticMethodID(env, c_task, "invokeSlot", "(I)Ljava/lang/String;")))
    return JNI_ERR;
  if (!(c_long_op = global_class(env, "java/util/function/LongUnaryOperator"))) return JNI_ERR;
  if (!(m_long_op_apply = (*env)->GetMethodID(env, c_long_op, "applyAsLong", "(J)J"))) return JNI_ERR;
  if (!(c_bool_supplier = global_class(env, "java/util/function/BooleanSupplier"))) return JNI_ERR;
  if (!(m_bool_get = (*env)->GetMethodID(env, c_bool_supplier, "getAsBoolean", "()Z"))) return JNI_ERR;
  if (!(c_object = global_class(env, "java/lang/Object"))) return JNI_ERR;
  if (!(m_to_string = (*env)->GetMethodID(env, c_object, "toString", "()Ljava/lang/String;")))
    return JNI_ERR;
  if (!(c_thread = global_class(env, "java/lang/Thread"))) return JNI_ERR;
  if (!(m_thread_current = (*env)->GetStaticMethodID(env, c_thread, "currentThread", "()Ljava/lang/Thread;")))
    return JNI_ERR;
  if (!(m_thread_get_id = (*env)->GetMethodID(env, c_thread, "getId", "()J"))) return JNI_ERR;
  return JNIVER;
}

JNIEXPORT void JNICALL JNI_OnUnload(JavaVM *vm, void *reserved) {
  (void)vm;
  (void)reserved;
  atomic_store(&g_exiting, 1);
}
