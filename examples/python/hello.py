"""The classic: `go say("world")` while main says hello (A Tour of Go, "Goroutines")."""
import goroutines as gr


def say(s, done=None):
    for _ in range(3):
        gr.sleep(0.01)
        print(s)
    if done is not None:
        done.close()


def main():
    done = gr.Chan()
    gr.go(say, "world", done)
    say("hello")
    for _ in done:  # wait until the goroutine closes it
        pass


gr.run(main)  # main runs as a goroutine, as Go's main does (and as asyncio.run runs a coroutine)
print("stats:", gr.stats())
