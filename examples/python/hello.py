"""The classic: `go say("world")` while main says hello (A Tour of Go, "Goroutines")."""
import goroutines as gr


def say(s, done=None):
    for _ in range(3):
        gr.sleep(0.01)
        print(s)
    if done is not None:
        done.close()


done = gr.Chan()
gr.go(say, "world", done)
say("hello")
for _ in done:  # wait until the goroutine closes it
    pass
print("stats:", gr.stats())
