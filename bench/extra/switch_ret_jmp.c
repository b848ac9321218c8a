/* What a stack switch costs when it leaves with `ret` and when it leaves with `pop` + `jmp`
 * (core/src/sched/README.md section 14, "The switch's own jump"; core/src/stack/switch.rs).
 * Two "goroutines" on stacks of their own run in turn, each switching to a "scheduler" (the
 * main stack), which resumes the other: two switches a run, as gr's M loop does them. Each
 * switch saves the callee-saved registers and its stack pointer, loads the other's and
 * leaves either with `ret` (the return stack buffer then predicts the address of the last
 * `call` on the stack it came from: wrong, every time) or with `pop` + indirect `jmp`
 * (predicted from the branch target buffer, which learns where each switch lands).
 *   cc -O2 bench/extra/switch_ret_jmp.c -o switch_ret_jmp && chrt -f 10 ./switch_ret_jmp 20000000
 * Prints ns per run (two switches) for each kind. Not part of `make bench`. x86-64 only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

/* switch_X(save, to): pushes rbp, rbx, r12-r15, stores rsp at *save, loads `to`, pops them
 * and leaves through the return address the other side's call pushed. */
void switch_ret(void **save, void *to);
void switch_jmp(void **save, void *to);
__asm__(".text\n"
        ".globl switch_ret\n.type switch_ret,@function\nswitch_ret:\n"
        "push %rbp\npush %rbx\npush %r12\npush %r13\npush %r14\npush %r15\n"
        "mov %rsp,(%rdi)\nmov %rsi,%rsp\n"
        "pop %r15\npop %r14\npop %r13\npop %r12\npop %rbx\npop %rbp\n"
        "ret\n"
        ".globl switch_jmp\n.type switch_jmp,@function\nswitch_jmp:\n"
        "push %rbp\npush %rbx\npush %r12\npush %r13\npush %r14\npush %r15\n"
        "mov %rsp,(%rdi)\nmov %rsi,%rsp\n"
        "pop %r15\npop %r14\npop %r13\npop %r12\npop %rbx\npop %rbp\n"
        "pop %rcx\njmp *%rcx\n");

typedef void (*switch_fn)(void **, void *);
static switch_fn sw;
static void *sched_sp, *sp_a, *sp_b;
static volatile long work_done;

__attribute__((noinline)) static void work(void) { work_done++; }
static void body_a(void) { for (;;) { work(); sw(&sp_a, sched_sp); } }
static void body_b(void) { for (;;) { work(); sw(&sp_b, sched_sp); } }

/* A stack whose first switch "returns" into `f` with the six registers zero. */
static void *new_stack(void (*f)(void)) {
  size_t size = 64 << 10;
  char *s = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) { perror("mmap"); exit(1); }
  uint64_t *top = (uint64_t *)(s + size) - 1; /* f starts with rsp 8 past a 16-byte boundary */
  *--top = (uint64_t)(uintptr_t)f;
  for (int i = 0; i < 6; i++) *--top = 0;
  return top;
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static double runs(switch_fn f, long n) {
  sw = f;
  sp_a = new_stack(body_a);
  sp_b = new_stack(body_b);
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) {
    sw(&sched_sp, sp_a);
    sw(&sched_sp, sp_b);
  }
  return (double)(now_ns() - t0) / (2.0 * (double)n);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000000;
  for (int round = 0; round < 3; round++) {
    printf("ret: %.2f ns a run (two switches)   jmp: %.2f ns a run\n", runs(switch_ret, n), runs(switch_jmp, n));
  }
  return 0;
}
