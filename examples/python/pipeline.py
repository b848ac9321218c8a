"""A pipeline: generate -> square -> sum, each stage a goroutine joined by channels."""
import goroutines as gr


def gen(n, out):
    for i in range(n):
        out.send(i)
    out.close()


def square(inp, out):
    for v in inp:
        out.send(v * v)
    out.close()


def total(inp):
    return sum(inp)


a, b = gr.Chan(), gr.Chan(16)
gr.go(gen, 1000, a)
gr.go(square, a, b)
s = gr.go(total, b).wait()
print("sum of squares below 1000 =", s)
assert s == sum(i * i for i in range(1000))
