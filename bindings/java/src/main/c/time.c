/* time.c: timer channels: Goroutines.after, Timer and Ticker (see glue.h). Their channels
 * deliver int64 due times on gr_now()'s clock (CLOCK_MONOTONIC, System.nanoTime's on
 * Linux); Java reads them through a LongChannel holding a reference of its own. */
#include "glue.h"

/* The constructors: the new object as a jlong, or the gr_status (rule 5 of grjni.c). */
#define NEW_NS(name, type, make)                                                        \
  JNIEXPORT jlong JNICALL Java_io_gr_Native_##name(JNIEnv *env, jclass cls, jlong ns) { \
    (void)env;                                                                          \
    (void)cls;                                                                          \
    type *p = NULL;                                                                     \
    int rc = make(ns, &p);                                                              \
    return rc != GR_OK ? rc : J(p);                                                     \
  }

/* A reference of its own to a borrowed channel (GR_EINVAL for a bad handle). */
static jlong own(gr_chan *c) {
  return c ? J(gr_chan_retain(c)) : GR_EINVAL;
}

NEW_NS(after, gr_chan, gr_after)

NEW_NS(timerNew, gr_timer, gr_timer_new)
FORWARD(jlong, timerChan, (jlong t), return own(gr_timer_chan(P(t))))
FORWARD(jint, timerStop, (jlong t), return gr_timer_stop(P(t)))
FORWARD(jint, timerReset, (jlong t, jlong ns), return gr_timer_reset(P(t), ns))
FORWARD(void, timerFree, (jlong t), gr_timer_free(P(t)))

NEW_NS(tickerNew, gr_ticker, gr_ticker_new)
FORWARD(jlong, tickerChan, (jlong t), return own(gr_ticker_chan(P(t))))
FORWARD(jint, tickerStop, (jlong t), return gr_ticker_stop(P(t)))
FORWARD(jint, tickerReset, (jlong t, jlong ns), return gr_ticker_reset(P(t), ns))
FORWARD(void, tickerFree, (jlong t), gr_ticker_free(P(t)))
