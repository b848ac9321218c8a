"""A worker pool: N goroutines take jobs from one channel and report on another."""
import goroutines as gr

jobs, results = gr.Chan(100), gr.Chan(100)


def worker(wid):
    for j in jobs:  # until jobs is closed and drained
        gr.sleep(0.001)  # pretend to work; parks, the worker thread runs others
        results.send((wid, j, j * j))


wg = gr.WaitGroup()
for w in range(8):
    wg.add(1)
    gr.go(lambda w=w: (worker(w), wg.done()))
for j in range(50):
    jobs.send(j)
jobs.close()
wg.wait()
results.close()
total = sum(sq for _, _, sq in results)
print("sum of squares 0..49 =", total)
assert total == sum(j * j for j in range(50))
