"""select with a timeout, a default case, and a quit channel."""
import goroutines as gr

data, quit = gr.Chan(), gr.Chan()


def slow_producer():
    for i in range(3):
        gr.sleep(0.02)
        data.send(i)
    gr.sleep(0.2)
    quit.close()


gr.go(slow_producer)
print("nothing ready yet:", gr.select(data, default=True))
while True:
    try:
        i, v = gr.select(data, quit, timeout=0.1)
    except TimeoutError:
        print("timeout: no value within 100 ms")
        continue
    if i == 1:
        print("quit")
        break
    print("got", v)
