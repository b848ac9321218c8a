/* glue.h: what the files of the JNI glue (libgrjni.so) share. Not installed; C users see
 * grjni.h. The glue's rules are listed in grjni.c; its files, one per area of io.gr.Native:
 *   grjni.c      attachment of threads to the JVM, JNI_OnLoad (cached classes and methods)
 *   runtime.c    version, init, shutdown, stats, context, blocking sections, dlsym
 *   goroutine.c  Java goroutines (Task), native goroutines, joins, sleep, cancel tokens
 *   chan.c       channels (objects, longs, raw structs) and deferred global-ref deletes
 *   select.c     select over object and long channels
 *   sync.c       WaitGroup, Mutex, RWMutex, Semaphore, Cond
 *   once.c       Once (a Java function run through gr_once)
 *   time.c       timer channels: after, Timer, Ticker
 *   context.c    contexts (derived cancel tokens) and task groups
 *   upcall.c     C code calling a Java LongUnaryOperator (grjni.h)
 *   dump.c       Goroutines.dump() (gr_dump_to, Java frames per Java goroutine) */
#ifndef GRJNI_GLUE_H
#define GRJNI_GLUE_H
#define _GNU_SOURCE
#include <jni.h>
#include <stdatomic.h>
#include <stdint.h>

#include "gr.h"
#include "grjni.h"

#include "gr.h"
#include "grjni.h"

#define JNIVER JNI_VERSION_1_8
#define P(x) ((void *)(intptr_t)(x))
#define J(x) ((jlong)(intptr_t)(x))

/* io.gr.Native methods that only hand their arguments to gr, using neither the env nor the
 * class: FORWARD(return type, method, (Java parameters), statement). */
#define FORWARD(ret, name, params, stmt)                                                   \
  JNIEXPORT ret JNICALL Java_io_gr_Native_##name(JNIEnv *env, jclass cls, ARGS params) { \
    (void)env;                                                                             \
    (void)cls;                                                                             \
    stmt;                                                                                  \
  }
#define ARGS(...) __VA_ARGS__

/* Constructors without arguments: the new object as a jlong, or the gr_status (rule 5). */
#define NEW(name, type, make)                                                 \
  JNIEXPORT jlong JNICALL Java_io_gr_Native_##name(JNIEnv *env, jclass cls) { \
    (void)env;                                                                \
    (void)cls;                                                                \
    type *p = NULL;                                                           \
    int rc = make(&p);                                                        \
    return rc != GR_OK ? rc : J(p);                                           \
  }

/* grjni.c */
extern JavaVM *g_vm;
extern atomic_int g_exiting;
extern jclass c_task;             /* io.gr.Task */
extern jmethodID m_task_invoke;   /* static String invoke(Task) */
extern jmethodID m_task_invoke_slot; /* static String invokeSlot(int) */
extern jmethodID m_long_op_apply; /* LongUnaryOperator.applyAsLong(long) */
extern jmethodID m_bool_get;      /* BooleanSupplier.getAsBoolean() */
extern jclass c_thread;             /* java.lang.Thread */
extern jmethodID m_thread_current;  /* static Thread currentThread() */
extern jmethodID m_thread_get_id;   /* long getId() */

/* goroutine.c: the body of a Java goroutine whose arg is a global ref to an io.gr.Task. */
void java_task_entry(void *arg);

/* The env of the calling thread, attaching it as a daemon if needed; NULL if impossible. */
JNIEnv *grjni_env(void);
/* toString() of a throwable as a malloc'd C string (never NULL). Clears any new exception. */
char *grjni_describe(JNIEnv *env, jthrowable t);

/* dump.c: Java's id of the calling thread, the label of the Java goroutines it runs. */
jlong grjni_thread_id(JNIEnv *env);

/* chan.c: deletes the global refs that channel drop functions had to defer. */
void grjni_drain_deferred(JNIEnv *env);

#endif
