/* Worker-pool probe for the hot-channel scheduling rule (core/src/chan/README.md, "Scheduling
 * hint"): 8 worker goroutines take NJOBS jobs from one channel (capacity $CAP, default 0), each
 * job WORK iterations of an LCG, and send a result the main goroutine polls.
 *   cc -O2 -Iinclude bench/extra/pool.c -Lbuild/lib -lgr -Wl,-rpath,$PWD/build/lib -o pool
 *   CAP=0 ./pool 100000 2 300      # njobs workers work
 * Prints the wall time and the steals during the run. Not part of `make bench`. */
#include <gr.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
static gr_chan *jobs, *res; static long njobs, work;
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void worker(void*a){(void)a; int64_t j; while(gr_chan_recv(jobs,&j,GR_FOREVER)==GR_OK){ volatile uint64_t x=j; for(long i=0;i<work;i++) x=x*6364136223846793005ULL+1; int64_t r=x; gr_chan_send(res,&r,GR_FOREVER);} }
static void mainf(void*a){ (void)a; gr_chan_new(8,atoi(getenv("CAP")?getenv("CAP"):"0"),&jobs); gr_chan_new(8,1024,&res);
 double t=now(); for(int k=0;k<8;k++) gr_spawn(worker,0,0);
 gr_stats s0={.size=sizeof s0}; gr_stats_get(&s0);
 for(int64_t j=0;j<njobs;j++){ gr_chan_send(jobs,&j,GR_FOREVER); int64_t r; while(gr_chan_recv(res,&r,0)==GR_OK); }
 gr_chan_close(jobs); 
 gr_stats s1={.size=sizeof s1}; gr_stats_get(&s1);
 printf("%.3f s steals=%lu\n", now()-t, (unsigned long)(s1.steals_total-s0.steals_total)); }
int main(int c,char**v){ njobs=atol(v[1]); work=atol(v[3]); gr_config cfg; gr_config_init(&cfg); cfg.workers=atoi(v[2]); gr_init(&cfg); gr_handle*h; gr_spawn(mainf,0,&h); gr_wait(h,GR_FOREVER); gr_shutdown(5000000000LL); return 0;}
