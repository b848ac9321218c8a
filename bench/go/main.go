// Go 1.23's timer semantics (synchronous timer channels, unreferenced timers collected), which
// go.mod's `go 1.21` would otherwise switch off: the timerchurn row compares against them.

//go:debug asynctimerchan=0

// Anchor: the bench workloads in Go, standard library only.
//
//	gobench <workload> <size> [gomaxprocs]
//
// Each workload first runs at a tenth of its size (warm-up), then measured; the driver keeps
// the last RESULT line. parked is measured in a fresh process without warm-up.
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func report(wl string, ops int64, d time.Duration, kib float64) {
	if kib >= 0 {
		fmt.Printf("RESULT workload=%s ops=%d ns=%d kib=%.4f\n", wl, ops, d.Nanoseconds(), kib)
	} else {
		fmt.Printf("RESULT workload=%s ops=%d ns=%d\n", wl, ops, d.Nanoseconds())
	}
}

func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "VmHWM:") {
			fs := strings.Fields(s.Text())
			v, _ := strconv.ParseInt(fs[1], 10, 64)
			return v
		}
	}
	return -1
}

func die(msg string) {
	fmt.Fprintln(os.Stderr, "gobench:", msg)
	os.Exit(3)
}

func spawn(n int64) {
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
	}
	wg.Wait()
	report("spawn", n, time.Since(t0), -1)
}

func pingpong(n int64) {
	ping, pong := make(chan int64), make(chan int64)
	done := make(chan struct{})
	go func() {
		for v := range ping {
			pong <- v
		}
		close(done)
	}()
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		ping <- i
		if <-pong != i {
			die("pingpong mismatch")
		}
	}
	d := time.Since(t0)
	close(ping)
	<-done
	report("pingpong", n, d, -1)
}

const ringN = 503

func ring(n int64) {
	var chs [ringN]chan int64
	for i := range chs {
		chs[i] = make(chan int64)
	}
	done := make(chan int)
	var wg sync.WaitGroup
	for i := 0; i < ringN; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for tok := range chs[i] {
				if tok == 0 {
					done <- i
					return
				}
				chs[(i+1)%ringN] <- tok - 1
			}
		}(i)
	}
	t0 := time.Now()
	chs[0] <- n
	who := <-done
	d := time.Since(t0)
	if int64(who) != n%ringN {
		die("ring ended at the wrong place")
	}
	for i := range chs {
		close(chs[i])
	}
	wg.Wait()
	report("ring", n, d, -1)
}

func fanin(n int64) {
	per := n / 4
	ch := make(chan int64, 1024)
	var prod, cons sync.WaitGroup
	sums := make([]int64, 4)
	t0 := time.Now()
	for k := 0; k < 4; k++ {
		cons.Add(1)
		go func(k int) {
			defer cons.Done()
			var s int64
			for v := range ch {
				s += v
			}
			sums[k] = s
		}(k)
	}
	for k := 0; k < 4; k++ {
		prod.Add(1)
		go func() {
			defer prod.Done()
			for i := int64(1); i <= per; i++ {
				ch <- i
			}
		}()
	}
	prod.Wait()
	close(ch)
	cons.Wait()
	d := time.Since(t0)
	var s int64
	for _, v := range sums {
		s += v
	}
	if s != 4*per*(per+1)/2 {
		die("fanin: bad sum")
	}
	report("fanin", 4*per, d, -1)
}

func parked(n int64) {
	ch := make(chan int64)
	var started, finished sync.WaitGroup
	started.Add(int(n))
	finished.Add(int(n))
	h0 := vmHWM()
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		go func() {
			started.Done()
			<-ch
			finished.Done()
		}()
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond)
	h1 := vmHWM()
	d := time.Since(t0)
	close(ch)
	finished.Wait()
	report("parked", n, d, float64(h1-h0)/float64(n))
}

func yield(n int64) {
	g := 2 * runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := int64(0); j < n; j++ {
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	report("yield", int64(g)*n, time.Since(t0), -1)
}

func selectw(n int64) {
	per := n / 4
	var chs [4]chan int64
	for k := range chs {
		chs[k] = make(chan int64)
	}
	for k := 0; k < 4; k++ {
		go func(c chan int64) {
			for i := int64(1); i <= per; i++ {
				c <- i
			}
		}(chs[k])
	}
	var sum int64
	total := 4 * per
	t0 := time.Now()
	for i := int64(0); i < total; i++ {
		select {
		case v := <-chs[0]:
			sum += v
		case v := <-chs[1]:
			sum += v
		case v := <-chs[2]:
			sum += v
		case v := <-chs[3]:
			sum += v
		}
	}
	d := time.Since(t0)
	if sum != 4*per*(per+1)/2 {
		die("select: bad sum")
	}
	report("select", total, d, -1)
}

func nthPrime(n int64) int64 {
	var c int64
	for x := int64(2); ; x++ {
		p := true
		for d := int64(2); d*d <= x; d++ {
			if x%d == 0 {
				p = false
				break
			}
		}
		if p {
			c++
			if c == n {
				return x
			}
		}
	}
}

// Go's concurrent prime sieve; all channels are closed at the end so every goroutine exits.
func sieve(n int64) {
	chs := []chan int64{make(chan int64)}
	send := func(c chan int64, v int64) (ok bool) {
		defer func() {
			if recover() != nil {
				ok = false
			}
		}()
		c <- v
		return true
	}
	t0 := time.Now()
	go func(c chan int64) {
		for i := int64(2); ; i++ {
			if !send(c, i) {
				return
			}
		}
	}(chs[0])
	var prime int64
	for i := int64(0); i < n; i++ {
		prime = <-chs[i]
		out := make(chan int64)
		chs = append(chs, out)
		go func(in, out chan int64, p int64) {
			for v := range in {
				if v%p != 0 && !send(out, v) {
					return
				}
			}
		}(chs[i], out, prime)
	}
	d := time.Since(t0)
	if prime != nthPrime(n) {
		die("sieve: wrong prime")
	}
	for _, c := range chs {
		close(c)
	}
	report("sieve", n, d, -1)
}

func mutex(k int64) {
	const g = 1000
	var mu sync.Mutex
	var wg sync.WaitGroup
	var counter int64
	t0 := time.Now()
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := int64(0); j < k; j++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	if counter != g*k {
		die("mutex: bad counter")
	}
	report("mutex", g*k, d, -1)
}

// rwmutex: g goroutines x k operations, every 100th a write (99% reads).
func rwmutex(k int64) {
	const g = 1000
	var mu sync.RWMutex
	var wg sync.WaitGroup
	var value int64
	sink := make([]int64, g)
	t0 := time.Now()
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			var sum int64
			for j := int64(0); j < k; j++ {
				if j%100 == 99 {
					mu.Lock()
					value++
					mu.Unlock()
				} else {
					mu.RLock()
					sum += value
					mu.RUnlock()
				}
			}
			sink[id] = sum
		}(i)
	}
	wg.Wait()
	d := time.Since(t0)
	if value != g*(k/100) {
		die("rwmutex: bad count")
	}
	report("rwmutex", g*k, d, -1)
}

// timerchurn: n selects against a ready (closed) channel and a fresh time.After(1 h).
func timerchurn(n int64) {
	ready := make(chan int64)
	close(ready)
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		select {
		case <-ready:
		case <-time.After(time.Hour):
			die("timerchurn: the timer fired")
		}
	}
	report("timerchurn", n, time.Since(t0), -1)
}

// ctxfanout: n children of one root context, a goroutine waiting on each one's Done;
// the time from cancelling the root until the last waiter has woken.
func ctxfanout(n int64) {
	root, cancel := context.WithCancel(context.Background())
	var started, woke sync.WaitGroup
	cancels := make([]context.CancelFunc, n)
	started.Add(int(n))
	woke.Add(int(n))
	for i := int64(0); i < n; i++ {
		c, cc := context.WithCancel(root)
		cancels[i] = cc
		go func() {
			started.Done()
			<-c.Done()
			woke.Done()
		}()
	}
	started.Wait()
	time.Sleep(20 * time.Millisecond) // let the last ones park
	t0 := time.Now()
	cancel()
	woke.Wait()
	d := time.Since(t0)
	for _, cc := range cancels {
		cc()
	}
	report("ctxfanout", n, d, -1)
}

func fib(n int) int64 {
	if n < 2 {
		return int64(n)
	}
	return fib(n-1) + fib(n-2)
}

func cpu(n int64) {
	out := make([]int64, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		wg.Add(1)
		go func(i int64) {
			defer wg.Done()
			out[i] = fib(27)
		}(i)
	}
	wg.Wait()
	d := time.Since(t0)
	for _, v := range out {
		if v != 196418 {
			die("cpu: bad fib")
		}
	}
	report("cpu", n, d, -1)
}

// ------------------------------------------------------------ echo (issue 12)
// Loopback TCP with the net package: Listen / Accept / go handle(conn), client goroutines in
// the same process.

const echoMsg = 512

func echoHandle(c net.Conn) {
	buf := make([]byte, echoMsg)
	for {
		n, err := c.Read(buf)
		if err != nil || n == 0 {
			break
		}
		if _, err := c.Write(buf[:n]); err != nil {
			break
		}
	}
	c.Close()
}

// echoSetup starts a server accepting conns connections and dials them; the accepted group
// is done once every server goroutine was started.
func echoSetup(conns int) (net.Listener, []net.Conn, *sync.WaitGroup) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		die("listen: " + err.Error())
	}
	var accepted sync.WaitGroup
	accepted.Add(1)
	go func() {
		for i := 0; i < conns; i++ {
			c, err := ln.Accept()
			if err != nil {
				die("accept: " + err.Error())
			}
			go echoHandle(c)
		}
		accepted.Done()
	}()
	cs := make([]net.Conn, conns)
	for i := range cs {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			die("dial: " + err.Error())
		}
		cs[i] = c
	}
	return ln, cs, &accepted
}

func echoTeardown(ln net.Listener, cs []net.Conn) {
	for _, c := range cs {
		c.Close()
	}
	ln.Close()
	time.Sleep(20 * time.Millisecond)
}

// echo ping-pong: 1,000 connections, each client sends 512 bytes and waits for the echo; n
// requests in total.
func echoPingpong(n int64) {
	conns := int64(1000)
	if n < conns {
		conns = n
	}
	per := n / conns
	ln, cs, accepted := echoSetup(int(conns))
	accepted.Wait()
	var wg sync.WaitGroup
	wg.Add(int(conns))
	t0 := time.Now()
	for i, c := range cs {
		go func(c net.Conn, id int) {
			out := bytes.Repeat([]byte{byte(id)}, echoMsg)
			in := make([]byte, echoMsg)
			for r := int64(0); r < per; r++ {
				out[0] = byte(r)
				if _, err := c.Write(out); err != nil {
					die("write: " + err.Error())
				}
				if _, err := io.ReadFull(c, in); err != nil {
					die("read: " + err.Error())
				}
				if !bytes.Equal(in, out) {
					die("echo: bad echo")
				}
			}
			wg.Done()
		}(c, i)
	}
	wg.Wait()
	d := time.Since(t0)
	echoTeardown(ln, cs)
	report("echo_pingpong", conns*per, d, -1)
}

// echo streaming: 4 connections, 512-byte messages, pipelined: a writer and a reader
// goroutine per client connection; n messages in total.
func echoStream(n int64) {
	const conns = 4
	per := n / conns
	ln, cs, accepted := echoSetup(conns)
	accepted.Wait()
	var wg sync.WaitGroup
	wg.Add(2 * conns)
	t0 := time.Now()
	for _, c := range cs {
		go func(c net.Conn) {
			out := bytes.Repeat([]byte{'w'}, echoMsg)
			for i := int64(0); i < per; i++ {
				if _, err := c.Write(out); err != nil {
					die("write: " + err.Error())
				}
			}
			wg.Done()
		}(c)
		go func(c net.Conn) {
			in := make([]byte, echoMsg)
			for i := int64(0); i < per; i++ {
				if _, err := io.ReadFull(c, in); err != nil {
					die("read: " + err.Error())
				}
				if in[0] != 'w' || in[echoMsg-1] != 'w' {
					die("echo: bad stream")
				}
			}
			wg.Done()
		}(c)
	}
	wg.Wait()
	d := time.Since(t0)
	echoTeardown(ln, cs)
	report("echo_stream", per*conns, d, -1)
}

func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "VmRSS:") {
			fs := strings.Fields(s.Text())
			v, _ := strconv.ParseInt(fs[1], 10, 64)
			return v
		}
	}
	return -1
}

// idle connections: n connected, idle, each with a server goroutine parked in Read; RSS
// growth per connection (both ends in this process), capped by RLIMIT_NOFILE as in gr.
func idleConns(n int64) {
	var r syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	r.Cur = r.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	if limit := (int64(r.Cur) - 64) / 2; n > limit {
		fmt.Printf("NOTE RLIMIT_NOFILE %d allows %d connections\n", r.Cur, limit)
		n = limit
	}
	time.Sleep(50 * time.Millisecond)
	rss0 := vmRSS()
	t0 := time.Now()
	ln, cs, accepted := echoSetup(int(n))
	accepted.Wait()
	time.Sleep(200 * time.Millisecond)
	rss1 := vmRSS()
	d := time.Since(t0)
	echoTeardown(ln, cs)
	report("idle_conns", n, d, float64(rss1-rss0)/float64(n))
}

// ------------------------------------------------------- from a plain thread (issue 18)
// Go's equivalent of a plain thread (a C program's main, a Java or Python thread) is a
// goroutine locked to its OS thread with runtime.LockOSThread: these run on the main
// goroutine, locked for the workload.

// spawnThread: n goroutines, each an atomic add and wg.Done, then wg.Wait; also reports the
// peak RSS (VmHWM) of the whole process, in KiB.
func spawnThread(n int64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var wg sync.WaitGroup
	var count atomic.Int64
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		wg.Add(1)
		go func() {
			count.Add(1)
			wg.Done()
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	if count.Load() != n {
		die("spawn_thread: bad count")
	}
	report("spawn_thread", n, d, float64(vmHWM()))
}

// pingpongThread: the locked goroutine sends on ping, a goroutine echoes on pong.
func pingpongThread(n int64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ping, pong := make(chan int64), make(chan int64)
	done := make(chan struct{})
	go func() {
		for v := range ping {
			pong <- v
		}
		close(done)
	}()
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		ping <- i
		if <-pong != i {
			die("pingpong_thread mismatch")
		}
	}
	d := time.Since(t0)
	close(ping)
	<-done
	report("pingpong_thread", n, d, -1)
}

// spawnWaitThread: spawn one goroutine that returns at once, wait for it to finish (it
// closes its done channel as it exits, as gr_wait joins), repeat.
func spawnWaitThread(n int64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		done := make(chan struct{})
		go func() { close(done) }()
		<-done
	}
	report("spawn_wait_thread", n, time.Since(t0), -1)
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: gobench <workload> <size> [gomaxprocs]")
		os.Exit(64)
	}
	table := map[string]struct {
		fn   func(int64)
		warm int64
	}{
		"spawn": {spawn, 1000}, "pingpong": {pingpong, 1000}, "ring": {ring, 1000},
		"fanin": {fanin, 1000}, "parked": {parked, 0}, "yield": {yield, 1000},
		"select": {selectw, 1000}, "sieve": {sieve, 100}, "mutex": {mutex, 10}, "cpu": {cpu, 10},
		"echo_pingpong": {echoPingpong, 1000}, "echo_stream": {echoStream, 1000}, "idle_conns": {idleConns, 0},
		"rwmutex": {rwmutex, 100}, "timerchurn": {timerchurn, 1000}, "ctxfanout": {ctxfanout, 1000},
		"spawn_thread": {spawnThread, 1000}, "pingpong_thread": {pingpongThread, 1000},
		"spawn_wait_thread": {spawnWaitThread, 1000},
	}
	w, ok := table[os.Args[1]]
	if !ok {
		fmt.Fprintln(os.Stderr, "unknown workload", os.Args[1])
		os.Exit(64)
	}
	size, _ := strconv.ParseInt(os.Args[2], 10, 64)
	if len(os.Args) > 3 {
		p, _ := strconv.Atoi(os.Args[3])
		runtime.GOMAXPROCS(p)
	}
	if w.warm > 0 {
		s := size / 10
		if s < w.warm {
			s = w.warm
		}
		if s > size {
			s = size
		}
		w.fn(s)
	}
	w.fn(size)
}
