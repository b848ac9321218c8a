/* grjni.h: what C code sees of the Java binding (libgrjni.so).
 *
 * C goroutines reach Java code through an upcall object made in Java with
 * io.gr.Upcall.of(LongUnaryOperator); Upcall.address() hands C a pointer to this struct.
 * Call it as  u->call(u, arg, &result).
 *
 * Return values (gr_status):
 *   GR_OK      the Java function returned; *result holds its value.
 *   GR_ESTATE  refused: the caller is a goroutine on a coroutine stack (gr_context() ==
 *              GR_CTX_COROUTINE). HotSpot cannot run Java frames there. Run the Java code in
 *              a thread-bound goroutine (gr_spawn_ex + GR_SPAWN_BOUND), on a plain thread, or
 *              hand the work to Java over a channel. Also returned once the JVM is exiting.
 *   GR_EPANIC  the Java function threw. If the caller is a goroutine, it is marked failed
 *              (gr_goroutine_fail with the throwable's toString()), so gr_wait on it returns
 *              GR_EPANIC and gr_handle_error names the exception.
 *   GR_EINVAL  u is NULL or was closed on the Java side.
 *
 * The struct stays valid until the Java side closes the Upcall; do not call it after that. */
#ifndef GRJNI_H
#define GRJNI_H
#include <stdint.h>

typedef struct grjni_upcall grjni_upcall;
struct grjni_upcall {
  int (*call)(grjni_upcall *u, int64_t arg, int64_t *result);
  void *reserved; /* owned by the glue */
};

#endif
