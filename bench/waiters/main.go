// Anchor for issue 11's waiter-scaling table: the shapes of tests/c/rt_waiter_scaling.c that
// Go can express, standard library only.
//
//	waiters <shape> <n>
//
// worker: n goroutines each select on a shared quit channel and their own channel; main
// sends one job to each, waits for the jobs to be done, then closes quit. select: n receives
// with a timeout (a select on the channel and a timer) on one channel, all timing out.
// cancel: the worker idiom with a shared context's Done channel in place of quit, then
// cancel(). Jobs go out in the C program's pseudo-random permutation and deadlines are its
// common base plus 0-100 ms. Prints "RESULT shape=... n=... wall_s=... cpu_s=...
// late_max_s=0" as the C program does.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func cpu() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// timeoutOf is tests/c/rt_waiter_scaling.c's timeout_of: until base plus a pseudo-random
// 0-100 ms, at least 1 ms.
func timeoutOf(base time.Time, i int) time.Duration {
	t := time.Until(base.Add(time.Duration(uint32(i) * 2654435761 % 100000000)))
	if t < time.Millisecond {
		t = time.Millisecond
	}
	return t
}

// perm is tests/c/rt_waiter_scaling.c's make_perm.
func perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	x := uint64(0x9E3779B97F4A7C15)
	for i := n - 1; i > 0; i-- {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		j := int(x % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// awaitParked waits until n goroutines have started, then 20 ms for them to park (the C
// program's await_parked).
func awaitParked(started *atomic.Int64, n int) {
	for started.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
}

func worker(n int) {
	quit := make(chan struct{})
	own := make([]chan int, n)
	for i := range own {
		own[i] = make(chan int)
	}
	var wg, jobsDone sync.WaitGroup
	wg.Add(n)
	jobsDone.Add(n)
	jobs := 0
	var mu sync.Mutex
	var started atomic.Int64
	for i := 0; i < n; i++ {
		go func(i int) {
			defer wg.Done()
			started.Add(1)
			for {
				select {
				case <-quit:
					return
				case v := <-own[i]:
					if v != i {
						panic("wrong job")
					}
					mu.Lock()
					jobs++
					mu.Unlock()
					jobsDone.Done()
				}
			}
		}(i)
	}
	awaitParked(&started, n)
	for _, i := range perm(n) {
		own[i] <- i
	}
	jobsDone.Wait()
	close(quit)
	wg.Wait()
	if jobs != n {
		panic("lost jobs")
	}
}

func selectTimeout(n int) {
	ch := make(chan int)
	base := time.Now().Add(300*time.Millisecond + time.Duration(n)*2*time.Microsecond)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer wg.Done()
			t := time.NewTimer(timeoutOf(base, i))
			select {
			case <-ch:
				panic("nobody sends")
			case <-t.C:
			}
		}(i)
	}
	wg.Wait()
}

func cancelShape(n int) {
	ctx, cancel := context.WithCancel(context.Background())
	own := make([]chan int, n)
	for i := range own {
		own[i] = make(chan int)
	}
	var wg sync.WaitGroup
	wg.Add(2 * n)
	var started atomic.Int64
	for i := 0; i < n; i++ {
		go func(i int) {
			started.Add(1)
			select {
			case <-ctx.Done():
				panic("cancelled early")
			case <-own[i]:
			}
			wg.Done()
			select {
			case <-ctx.Done():
			case <-own[i]:
				panic("nobody sends twice")
			}
			wg.Done()
		}(i)
	}
	awaitParked(&started, n)
	for _, i := range perm(n) {
		own[i] <- i
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	wg.Wait()
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: waiters worker|select|cancel N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		panic(err)
	}
	shapes := map[string]func(int){"worker": worker, "select": selectTimeout, "cancel": cancelShape}
	f, ok := shapes[os.Args[1]]
	if !ok {
		fmt.Fprintln(os.Stderr, "unknown shape", os.Args[1])
		os.Exit(2)
	}
	f(2000) // warm-up, as the C program's first run
	w0, c0 := time.Now(), cpu()
	f(n)
	fmt.Printf("RESULT shape=%s n=%d wall_s=%.4f cpu_s=%.4f late_max_s=0\n", os.Args[1], n, time.Since(w0).Seconds(), cpu()-c0)
}
