#!/bin/bash
# Is the cpu speed-up the runtime's or the machine's? Each round runs gr (C), Go and plain
# threads (cpu_ceiling.c) on 1 worker pinned to CPU 0 and then on 2, back to back, and prints
# the three speed-ups; at the end, their medians. Needs `make lib bench-build`.
#   bash bench/extra/cpu_rounds.sh 8
set -e
cd "$(dirname "$0")/../.."
rounds=${1:-8}
cc -O2 -pthread bench/extra/cpu_ceiling.c -o build/bench/cpu_ceiling
ns() { awk -F'ns=' '/ops=1000 /{print $2}' | tail -1; }
for r in $(seq "$rounds"); do
  g1=$(taskset -c 0 build/bench/gr_bench cpu 1000 1 | ns); g2=$(build/bench/gr_bench cpu 1000 2 | ns)
  o1=$(taskset -c 0 build/bench/gobench cpu 1000 1 | ns); o2=$(build/bench/gobench cpu 1000 2 | ns)
  t1=$(build/bench/cpu_ceiling 1000 1 | ns); t2=$(build/bench/cpu_ceiling 1000 2 | ns)
  echo "$g1 $g2 $o1 $o2 $t1 $t2"
done | awk '
  function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  { n++; g[n] = $1 / $2; o[n] = $3 / $4; t[n] = $5 / $6
    printf "round %d: speed-up gr %.2f  Go %.2f  plain threads %.2f\n", n, g[n], o[n], t[n] }
  END { printf "median over %d rounds: gr %.2f  Go %.2f  plain threads %.2f\n", n, med(g, n), med(o, n), med(t, n) }'
