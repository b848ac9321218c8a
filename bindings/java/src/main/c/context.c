/* context.c: io.gr.Context (cancel tokens as Go's contexts) and io.gr.Group (task groups)
 * (see glue.h). Java goroutines are spawned into a group by goroutine.c (groupSpawnTask). */
#include "glue.h"

/* A new token from make(parent, arg, &out): the token as a jlong, or the gr_status. */
#define NEW_TOKEN(call)       \
  gr_cancel *c = NULL;        \
  int rc = call;              \
  return rc != GR_OK ? rc : J(c)

FORWARD(jlong, cancelChild, (jlong parent), NEW_TOKEN(gr_cancel_new_child(P(parent), &c)))
FORWARD(jlong, cancelTimeout, (jlong parent, jlong ns), NEW_TOKEN(gr_cancel_new_timeout(P(parent), ns, &c)))
FORWARD(jlong, cancelDeadline, (jlong parent, jlong d), NEW_TOKEN(gr_cancel_new_deadline(P(parent), d, &c)))
FORWARD(jint, cancelErr, (jlong c), return gr_cancel_err(P(c)))
/* The done channel with a reference of its own (GR_EINVAL for a bad handle). */
FORWARD(jlong, cancelDone, (jlong c), gr_chan *d = gr_cancel_done(P(c)); return d ? J(gr_chan_retain(d)) : GR_EINVAL)

/* 1 and out[0] = the deadline, 0 without one, or a gr_status. */
JNIEXPORT jint JNICALL Java_io_gr_Native_cancelDeadlineOf(JNIEnv *env, jclass cls, jlong c, jlongArray out) {
  (void)cls;
  int64_t d = 0;
  int rc = gr_cancel_deadline(P(c), &d);
  if (rc == 1) {
    jlong v = d;
    (*env)->SetLongArrayRegion(env, out, 0, 1, &v);
  }
  return rc;
}

FORWARD(jlong, groupNew, (jlong parent, jlong limit),
        gr_group *g = NULL; int rc = gr_group_new(P(parent), (size_t)limit, &g); return rc != GR_OK ? rc : J(g))
/* A token of its own, derived from the group's context (which the group frees). */
FORWARD(jlong, groupContext, (jlong g), gr_cancel *ctx = gr_group_context(P(g));
        if (!ctx) return GR_EINVAL; NEW_TOKEN(gr_cancel_new_child(ctx, &c)))
FORWARD(jint, groupWait, (jlong g, jlong t, jlong c), return gr_group_wait_ex(P(g), t, P(c)))
FORWARD(jint, groupCancel, (jlong g), return gr_group_cancel(P(g)))
FORWARD(void, groupFree, (jlong g), gr_group_free(P(g)))
