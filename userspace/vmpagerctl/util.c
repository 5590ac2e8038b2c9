// SPDX-License-Identifier: GPL-2.0
/*
 * vmpagerctl: messages and number parsing shared by every command.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmpagerctl.h"

/* "prog: message\n" in one write, so concurrent output cannot split it. */
void vc_err(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	fflush(stdout);
	n = snprintf(buf, sizeof(buf), "%s: ", vc_prog);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	fputs(buf, stderr);
}

/* Print "prog CMD: message" and a hint; returns VC_USAGE. */
int vc_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s %s: ", vc_prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see '%s help' or docs/vmpagerctl.md)\n", vc_prog);
	return VC_USAGE;
}

bool vc_is_uint(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/*
 * The whole of s as an unsigned number in base (0: C rules, 0x for hex).
 * No sign, no blanks. 0 or -EINVAL / -ERANGE.
 */
int vc_parse_u64(const char *s, int base, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	*v = x;
	return 0;
}

/* A positive interval in seconds, fractions allowed, at most one day. */
int vc_parse_secs(const char *s, double *secs)
{
	char *end;
	double d;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	d = strtod(s, &end);
	if (errno || *end || !(d > 0) || d > 86400)
		return -EINVAL;
	*secs = d;
	return 0;
}

double vc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
