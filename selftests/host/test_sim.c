// SPDX-License-Identifier: GPL-2.0
/* Proves vmpsim replays traces correctly: exact OPT on a hand case in every input format, OPT <= all, LRU fails a loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"

#define MAX_ROWS 256

struct row {
	char trace[32];
	unsigned int size;
	char policy[16];
	unsigned long long refs, misses;
};

static const char *sim;
static char tmpdir[64];

/* Run "vmpsim ARGS --csv FILE" quietly; return exit status, rows in @rows. */
static int run_sim(const char *args, struct row *rows, int *nrows)
{
	char cmd[4096], csv[128], line[256];
	FILE *f;
	int st;

	snprintf(csv, sizeof(csv), "%s/out.csv", tmpdir);
	unlink(csv);
	snprintf(cmd, sizeof(cmd), "'%s' --csv '%s' %s >/dev/null 2>%s/err",
		 sim, csv, args, tmpdir);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	st = WEXITSTATUS(st);
	*nrows = 0;
	f = fopen(csv, "r");
	if (!f)
		return st;
	while (fgets(line, sizeof(line), f) && *nrows < MAX_ROWS) {
		struct row *r = &rows[*nrows];

		if (sscanf(line, "%31[^,],%u,%15[^,],%llu,%llu,", r->trace, &r->size,
			   r->policy, &r->refs, &r->misses) == 5)
			(*nrows)++;
	}
	fclose(f);
	return st;
}

static const struct row *find(const struct row *rows, int n, const char *trace,
			      unsigned int size, const char *pol)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(rows[i].trace, trace) && rows[i].size == size &&
		    !strcmp(rows[i].policy, pol))
			return &rows[i];
	return NULL;
}

static bool stderr_says(const char *what)
{
	char path[128], buf[512] = "";
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/err", tmpdir);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return strstr(buf, what) != NULL;
}

/* The hand trace's references, without the '*' marker. */
static const unsigned int hand[] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };

static bool write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	if (fwrite(buf, 1, len, f) != len) {
		fclose(f);
		return false;
	}
	return !fclose(f);
}

/* vmpsim -p fifo -c 3,4 ARGS gives the hand trace's misses (as @name). */
static bool hand_misses(const char *args, const char *name)
{
	static struct row rows[MAX_ROWS];
	const struct row *o3, *o4, *f3, *f4;
	char a[512];
	int n = 0, st;

	snprintf(a, sizeof(a), "-p fifo -c 3,4 %s", args);
	st = run_sim(a, rows, &n);
	o3 = find(rows, n, name, 3, "opt");
	o4 = find(rows, n, name, 4, "opt");
	f3 = find(rows, n, name, 3, "fifo");
	f4 = find(rows, n, name, 4, "fifo");
	return st == 0 && n == 4 && o3 && o4 && f3 && f4 && o3->refs == 12 &&
	       o3->misses == 7 && o4->misses == 6 && f3->misses == 9 &&
	       f4->misses == 10;
}

static void test_hand_trace(void)
{
	static const char text[] = "1\n2\n3\n4\n*\n1\n2\n5\n1\n2\n3\n4\n5\n";
	char path[128], args[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/anomaly.txt", tmpdir);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		ksft_test_result_fail("hand trace: cannot write %s\n", path);
		return;
	}
	snprintf(args, sizeof(args), "'%s'", path);
	ksft_test_result(hand_misses(args, "anomaly"),
			 "vmpsim: plain trace with '*' marker: OPT 7/6, FIFO 9/10 misses at 3/4 frames\n");
}

static void test_errors(void)
{
	static struct row rows[MAX_ROWS];
	char args[256];
	int n, st;

	st = run_sim("/nonexistent/x.trace.gz", rows, &n);
	ksft_test_result(st != 0 && stderr_says("No such file"),
			 "vmpsim: missing trace file fails with a message\n");
	snprintf(args, sizeof(args), "-p lru,nosuch -c 10 %s/anomaly.txt", tmpdir);
	st = run_sim(args, rows, &n);
	ksft_test_result(st != 0 && stderr_says("unknown policy 'nosuch'"),
			 "vmpsim: unknown policy fails with a message\n");
	snprintf(args, sizeof(args), "-c 10,x %s/anomaly.txt", tmpdir);
	st = run_sim(args, rows, &n);
	ksft_test_result(st != 0 && stderr_says("bad cache size 'x'"),
			 "vmpsim: bad cache size fails with a message\n");
	snprintf(args, sizeof(args), "-c 0 %s/anomaly.txt", tmpdir);
	st = run_sim(args, rows, &n);
	ksft_test_result(st != 0 && stderr_says("bad cache size '0'"),
			 "vmpsim: cache size 0 fails with a message\n");
}

/* The same trace in libCacheSim's formats and as a tracepoint dump. */
static void test_formats(void)
{
	static struct row rows[MAX_ROWS];
	unsigned char rec[24 * 12];
	char path[128], args[256], buf[2048];
	size_t len, i;
	int n, st, b;

	/* csv with a header naming obj_id (the third column) */
	len = (size_t)snprintf(buf, sizeof(buf), "time,size,obj_id\n");
	for (i = 0; i < 12; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%zu,4096,%u\n",
					i, hand[i]);
	snprintf(path, sizeof(path), "%s/hand.csv", tmpdir);
	snprintf(args, sizeof(args), "'%s'", path);
	ksft_test_result(write_file(path, buf, len) && hand_misses(args, "hand"),
			 "vmpsim: libCacheSim csv, id column named in the header\n");

	/* csv:2 without a header, string ids (hashed) */
	for (len = 0, i = 0; i < 12; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%zu,page-%c\n",
					i, 'a' + hand[i]);
	snprintf(path, sizeof(path), "%s/hand.txt", tmpdir);
	snprintf(args, sizeof(args), "-f csv:2 '%s'", path);
	ksft_test_result(write_file(path, buf, len) && hand_misses(args, "hand"),
			 "vmpsim: csv:2, string object ids\n");

	/* oracleGeneral: 24-byte little-endian records, obj_id at byte 4 */
	memset(rec, 0, sizeof(rec));
	for (i = 0; i < 12; i++) {
		rec[24 * i] = (unsigned char)i;
		for (b = 0; b < 8; b++)
			rec[24 * i + 4 + b] = (unsigned char)((hand[i] + 0x100000000ULL) >> (8 * b));
		rec[24 * i + 13] = 0x10;		/* size 4096 */
		memset(&rec[24 * i + 16], 0xff, 8);	/* next access -1 */
	}
	snprintf(path, sizeof(path), "%s/hand.oracleGeneral.bin", tmpdir);
	snprintf(args, sizeof(args), "'%s'", path);
	ksft_test_result(write_file(path, rec, sizeof(rec)) && hand_misses(args, "hand"),
			 "vmpsim: oracleGeneral binary trace\n");

	/* a tracefs dump: other events and a failed fault are no references */
	len = (size_t)snprintf(buf, sizeof(buf),
			       "# tracer: nop\n#\n"
			       "  vmpwork-9 [000] ..... 1.000000: vmpager_evict: obj=7 index=1 frame=0 reason=zero slot=-1\n"
			       "  vmpwork-9 [000] ..... 1.000001: vmpager_fault: obj=7 index=99 kind=sigbus err=-34 ns=10\n");
	for (i = 0; i < 12; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"  vmpwork-9 [001] ..... 2.%06zu: vmpager_fault: obj=7 index=%u kind=%s err=0 ns=100\n",
					i, hand[i], i < 5 ? "zero" : "minor");
	snprintf(path, sizeof(path), "%s/hand.dump", tmpdir);
	snprintf(args, sizeof(args), "-f tracepoint '%s'", path);
	ksft_test_result(write_file(path, buf, len) && hand_misses(args, "hand"),
			 "vmpsim: vmpager_fault tracepoint dump\n");

	/* the dump read above is what the module's tracepoint prints */
	{
		FILE *h = fopen(VMP_TRACE_H, "r");
		bool same = false;

		while (h && fgets(buf, sizeof(buf), h))
			same |= strstr(buf, "TP_printk(\"obj=%llu index=%lu kind=%s err=%d") != NULL;
		if (h)
			fclose(h);
		if (!same)
			ksft_print_msg("%s: no TP_printk(\"obj=%%llu index=%%lu kind=%%s err=%%d...\n",
				       VMP_TRACE_H);
		ksft_test_result(same, "vmpsim: vmpager_fault's TP_printk is the format the reader parses\n");
	}

	/* errors: a torn record, a missing column, an unknown format */
	snprintf(path, sizeof(path), "%s/torn.oracleGeneral", tmpdir);
	snprintf(args, sizeof(args), "-c 3 '%s'", path);
	st = write_file(path, rec, 24 * 2 + 5) ? run_sim(args, rows, &n) : -1;
	ksft_test_result(st > 0 && stderr_says("not a whole 24-byte oracleGeneral record"),
			 "vmpsim: a torn oracleGeneral record fails with a message\n");
	snprintf(args, sizeof(args), "-f csv:5 -c 3 '%s/hand.csv'", tmpdir);
	st = run_sim(args, rows, &n);
	ksft_test_result(st > 0 && stderr_says("no column 5"),
			 "vmpsim: a csv column that is not there fails with a message\n");
	snprintf(args, sizeof(args), "-f parquet -c 3 '%s/hand.csv'", tmpdir);
	st = run_sim(args, rows, &n);
	ksft_test_result(st > 0 && stderr_says("unknown trace format 'parquet'"),
			 "vmpsim: an unknown format fails with a message\n");
}

static const char *const traces[] = {
	"multi1", "multi2", "gli", "ps", "cpp", "cs", "loop", "zigzag", "2_pools",
};
static const char *const policies[] = {
	"fifo", "clock", "lru", "lru2", "arc", "lirs", "sieve", "s3fifo",
	"adaptive", "clockpro",
};

static void test_traces(const char *dir)
{
	static struct row rows[MAX_ROWS];
	char args[2048], path[512];
	const struct row *o, *r, *lru;
	bool have = true, opt_ok, wins = true;
	int n = 0, st, len = 0;
	struct stat sb;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(traces); i++) {
		snprintf(path, sizeof(path), "%s/%s.trace.gz", dir, traces[i]);
		if (stat(path, &sb))
			have = false;
		len += snprintf(args + len, sizeof(args) - len, " '%s'", path);
	}
	if (!have) {
		/* the repository carries them: userspace/sim/traces */
		ksft_test_result_fail("vmpsim: traces not found in %s (the repository's userspace/sim/traces, or VMP_TRACES)\n",
				      dir);
		ksft_test_result_fail("vmpsim: LRU misses every reference of loop@900\n");
		ksft_test_result_fail("vmpsim: the default policy beats LRU except on zigzag\n");
		return;
	}
	st = run_sim(args, rows, &n);
	opt_ok = st == 0 && n == 9 * (1 + (int)ARRAY_SIZE(policies));
	for (i = 0; opt_ok && i < ARRAY_SIZE(traces); i++) {
		o = NULL;
		for (int k = 0; k < n; k++)
			if (!strcmp(rows[k].trace, traces[i]) && !strcmp(rows[k].policy, "opt"))
				o = &rows[k];
		if (!o) {
			opt_ok = false;
			break;
		}
		lru = find(rows, n, traces[i], o->size, "lru");
		for (j = 0; j < ARRAY_SIZE(policies); j++) {
			r = find(rows, n, traces[i], o->size, policies[j]);
			if (!r || r->misses < o->misses || r->misses > r->refs) {
				opt_ok = false;
				ksft_print_msg("%s@%u %s: %llu misses, OPT %llu\n",
					       traces[i], o->size, policies[j],
					       r ? r->misses : 0, o->misses);
			}
		}
		r = find(rows, n, traces[i], o->size, "lirs");
		/* 2_pools: every policy is within 0.2% of LRU; allow 1% */
		if (strcmp(traces[i], "zigzag") &&
		    (!r || !lru || r->misses * 100 > lru->misses * 101))
			wins = false;
	}
	ksft_test_result(opt_ok, "vmpsim: on all 9 traces OPT <= every policy <= references (%d rows)\n", n);
	r = find(rows, n, "loop", 900, "lru");
	ksft_test_result(r && r->refs == 505500 && r->misses == r->refs,
			 "vmpsim: LRU misses every reference of loop@900 (%llu of %llu)\n",
			 r ? r->misses : 0, r ? r->refs : 0);
	ksft_test_result(opt_ok && wins,
			 "vmpsim: lirs is no worse than LRU + 1%% except on zigzag\n");
}

/*
 * Issue 17's goal for the adaptive policy: at each trace's usual size and
 * at 10%, 25% and 50% of its distinct blocks, no more than 1.05x the misses
 * of the best of the classic policies (LRU, CLOCK, ARC, LIRS, SIEVE,
 * S3-FIFO, CLOCK-Pro).
 */
static const struct {
	const char *name;
	unsigned int usual, distinct;
} sized[] = {
	{ "multi1", 1000, 2606 }, { "multi2", 2000, 5684 },
	{ "gli", 1000, 2530 }, { "ps", 1000, 3083 }, { "cpp", 200, 1223 },
	{ "cs", 500, 1409 }, { "loop", 900, 1011 }, { "zigzag", 1000, 2001 },
	{ "2_pools", 1000, 9939 },
};
static const char *const classics[] = {
	"lru", "clock", "arc", "lirs", "sieve", "s3fifo", "clockpro",
};

static void test_adaptive(const char *dir)
{
	static struct row rows[MAX_ROWS];
	unsigned int i, j, c, sizes[4], cells = 0;
	char args[1024];
	double worst = 0;
	bool ok = true;
	int n, st;

	for (i = 0; i < ARRAY_SIZE(sized); i++) {
		sizes[0] = sized[i].usual;
		sizes[1] = sized[i].distinct / 10;
		sizes[2] = sized[i].distinct / 4;
		sizes[3] = sized[i].distinct / 2;
		snprintf(args, sizeof(args),
			 "-p lru,clock,arc,lirs,sieve,s3fifo,clockpro,adaptive -c %u,%u,%u,%u '%s/%s.trace.gz'",
			 sizes[0], sizes[1], sizes[2], sizes[3], dir,
			 sized[i].name);
		st = run_sim(args, rows, &n);
		if (st) {
			ksft_print_msg("vmpsim %s: exit %d\n", args, st);
			ok = false;
			continue;
		}
		for (j = 0; j < 4; j++) {
			const struct row *a = find(rows, n, sized[i].name,
						   sizes[j], "adaptive");
			const struct row *b = NULL, *r;

			for (c = 0; c < ARRAY_SIZE(classics); c++) {
				r = find(rows, n, sized[i].name, sizes[j],
					 classics[c]);
				if (r && (!b || r->misses < b->misses))
					b = r;
			}
			if (!a || !b || !b->misses) {
				ok = false;
				continue;
			}
			cells++;
			if ((double)a->misses / b->misses > worst)
				worst = (double)a->misses / b->misses;
			if (a->misses * 100 > b->misses * 105) {
				ok = false;
				ksft_print_msg("%s@%u: adaptive %llu misses, %s %llu\n",
					       sized[i].name, sizes[j], a->misses,
					       b->policy, b->misses);
			}
		}
	}
	ksft_test_result(ok && cells == 4 * ARRAY_SIZE(sized),
			 "vmpsim: adaptive within 1.05x of the best classic policy on %u trace sizes (worst %.3fx)\n",
			 cells, worst);
}

/* userspace/sim/mrc.sh: one row per trace, size and policy; bad input. */
static void test_mrc(const char *dir)
{
	char cmd[1024], path[256], line[256];
	unsigned int rows = 0;
	int st, st_bad;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' -p lru,lirs -o '%s/mrc' '%s/cpp.trace.gz' >/dev/null 2>&1",
		 VMP_MRC_PATH, tmpdir, dir);
	st = system(cmd);
	snprintf(path, sizeof(path), "%s/mrc/policy_sweep.csv", tmpdir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned int sz;

		if (sscanf(line, "cpp,%u,", &sz) == 1)
			rows++;
	}
	if (f)
		fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' -o '%s/mrc' '%s/none.trace.gz' >/dev/null 2>&1",
		 VMP_MRC_PATH, tmpdir, tmpdir);
	st_bad = system(cmd);
	/* 12 sizes (2%..100% of cpp's 1223 blocks), opt + 2 policies each */
	ksft_test_result(st == 0 && rows == 12 * 3 && st_bad != -1 &&
			 WIFEXITED(st_bad) && WEXITSTATUS(st_bad) == 2,
			 "mrc.sh: %u rows for cpp (12 sizes x opt, lru, lirs), a missing trace exits 2\n",
			 rows);
}

int main(void)
{
	const char *dir = getenv("VMP_TRACES");
	struct stat sb;

	sim = getenv("VMPSIM");
	if (!sim)
		sim = VMPSIM_PATH;
	if (!dir)
		dir = VMP_TRACES_DEFAULT;

	ksft_print_header();
	if (stat(sim, &sb))
		ksft_exit_skip("%s not built (make -C userspace/sim, or set VMPSIM)\n", sim);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vmpsim-test.XXXXXX");
	if (!mkdtemp(tmpdir))
		ksft_exit_fail_msg("mkdtemp: %s\n", strerror(errno));
	ksft_set_plan(1 + 4 + 8 + 3 + 1 + 1);
	test_hand_trace();
	test_errors();
	test_formats();
	test_traces(dir);
	test_adaptive(dir);
	test_mrc(dir);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			ksft_print_msg("could not remove %s\n", tmpdir);
	}
	ksft_finished();
}
