/*
 * membw.c: single-thread memory-read bandwidth of this machine, the
 * yardstick for vsim's exact-scan throughput (test/bench/exact_scan.py).
 * Sums a 1 GiB buffer of 64-bit words with independent accumulators, best
 * of five passes, and prints GB/s (10^9 bytes per second).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
main(void)
{
	size_t		n = ((size_t) 1 << 30) / sizeof(uint64_t);
	uint64_t   *buf = malloc(n * sizeof(uint64_t));
	double		best = 0;
	uint64_t	sink = 0;

	if (buf == NULL)
		return 1;
	memset(buf, 1, n * sizeof(uint64_t));
	for (int pass = 0; pass < 5; pass++)
	{
		struct timespec t0,
					t1;
		uint64_t	s0 = 0,
					s1 = 0,
					s2 = 0,
					s3 = 0;
		double		sec;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (size_t i = 0; i < n; i += 4)
		{
			s0 += buf[i];
			s1 += buf[i + 1];
			s2 += buf[i + 2];
			s3 += buf[i + 3];
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		sink += s0 + s1 + s2 + s3;
		sec = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (n * sizeof(uint64_t) / sec / 1e9 > best)
			best = n * sizeof(uint64_t) / sec / 1e9;
	}
	printf("%.2f\n", best);
	return sink == 42;			/* keep the sums alive */
}
