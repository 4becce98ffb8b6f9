/* exec-cgroup on file trees made in a temp dir (the v2 and v1 layouts, since a machine has
 * only one of them mounted), the spec's cgroup keys, the status's oom keys, and the agent's
 * limits from cpus/mem. The real hierarchy is exercised by tests/integration/test_isolation.py. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "executor/exec-cgroup.h"
#include "executor/exec-spec.h"
#include "executor/exec-status.h"

static char tmp[64];

static void touch(const char *rel, const char *content)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void mk(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static char *slurp(const char *rel)
{
	static char buf[256];
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int setup(void **state)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test-exec-cgroup-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_detect_and_names(void **state)
{
	assert_int_equal(exec_cg_detect(tmp), -ENOENT);
	mk("memory");
	assert_int_equal(exec_cg_detect(tmp), EXEC_CG_V1);
	touch("cgroup.controllers", "cpu memory pids\n");
	assert_int_equal(exec_cg_detect(tmp), EXEC_CG_V2);
	assert_true(exec_cg_name_valid("berth/t1"));
	assert_false(exec_cg_name_valid("/berth"));
	assert_false(exec_cg_name_valid("berth/../x"));
	assert_false(exec_cg_name_valid("berth//x"));
	assert_false(exec_cg_name_valid("berth/"));
	assert_false(exec_cg_name_valid("./x"));
	assert_false(exec_cg_name_valid(""));
	assert_int_equal(exec_cg_shares_to_weight(2), 1);
	assert_int_equal(exec_cg_shares_to_weight(1024), 39);
	assert_int_equal(exec_cg_shares_to_weight(262144), 10000);
}

/* v2: the parents get the controllers enabled, the task's files its limits; memory.events
 * tells the OOM kills. (The kernel makes a cgroup's files; here the test does.) */
static void test_v2_tree(void **state)
{
	touch("cgroup.controllers", "cpu io memory pids\n");
	touch("cgroup.subtree_control", "");
	mk("berth");
	touch("berth/cgroup.subtree_control", "");
	mk("berth/t1");
	const char *files[] = { "cpu.weight", "cpu.max", "memory.max", "memory.swap.max",
				"pids.max", "cgroup.procs" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "berth/t1/%s", files[i]);
		touch(rel, "");
	}
	struct exec_cg cg;
	struct exec_cg_limits l = { .cpu_shares = 512, .cfs_quota_us = 50000,
				    .mem_bytes = 64 << 20, .pids_max = 100 };
	char err[256] = "";
	assert_int_equal(exec_cg_create(&cg, tmp, "berth/t1", &l, err, sizeof(err)), 0);
	assert_int_equal(cg.version, EXEC_CG_V2);
	{
		struct exec_cg_limits nl = { .cpu_shares = 2048, .mem_bytes = 96 << 20 };
		char e2[256];
		assert_int_equal(exec_cg_update(tmp, "berth/t1", &nl, e2, sizeof(e2)), 0);
		assert_string_equal(slurp("berth/t1/memory.max"), "100663296");
		assert_string_equal(slurp("berth/t1/cpu.weight"), "79");
		assert_int_equal(exec_cg_update(tmp, "berth/nope", &nl, e2, sizeof(e2)), -ENOENT);
		assert_int_equal(exec_cg_create(&cg, tmp, "berth/t1", &l, err, sizeof(err)), 0);
	}
	/* The last controller written wins in a plain file; the kernel keeps them all. */
	assert_string_equal(slurp("cgroup.subtree_control"), "+io");
	assert_string_equal(slurp("berth/cgroup.subtree_control"), "+io");
	assert_string_equal(slurp("berth/t1/cpu.weight"), "20");
	assert_string_equal(slurp("berth/t1/cpu.max"), "50000 100000");
	assert_string_equal(slurp("berth/t1/memory.max"), "67108864");
	assert_string_equal(slurp("berth/t1/memory.swap.max"), "0");
	assert_string_equal(slurp("berth/t1/pids.max"), "100");
	assert_int_equal(exec_cg_attach(&cg, 4242), 0);
	assert_string_equal(slurp("berth/t1/cgroup.procs"), "4242");

	uint64_t lim, max;
	touch("berth/t1/memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\n");
	assert_int_equal(exec_cg_oom_kills(&cg, &lim, &max), 0);
	assert_int_equal(lim, 64 << 20);
	touch("berth/t1/memory.events", "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\n");
	touch("berth/t1/memory.peak", "67100000\n");
	assert_int_equal(exec_cg_oom_kills(&cg, &lim, &max), 2);
	assert_int_equal(max, 67100000);

	/* Statistics, as /monitor/statistics reads them. */
	touch("berth/t1/cpu.stat", "usage_usec 3500000\nuser_usec 2500000\nsystem_usec 1000000\n");
	touch("berth/t1/memory.stat", "anon 1048576\nfile 4096\n");
	touch("berth/t1/memory.current", "2097152\n");
	touch("berth/t1/pids.current", "3\n");
	struct exec_cg_stats cs;
	assert_int_equal(exec_cg_stats(&cg, &cs), 0);
	assert_true(cs.cpus_user_time_secs > 2.49 && cs.cpus_user_time_secs < 2.51);
	assert_true(cs.cpus_system_time_secs > 0.99 && cs.cpus_system_time_secs < 1.01);
	/* weight 20 back to shares is lossy (500, not 512) */
	assert_true(cs.cpus_limit > 0.47 && cs.cpus_limit < 0.51);
	assert_int_equal(cs.mem_rss_bytes, 1048576);
	assert_int_equal(cs.mem_total_bytes, 2097152);
	assert_int_equal(cs.mem_limit_bytes, 64 << 20);
	assert_int_equal(cs.processes, 3);
	assert_int_equal(exec_cg_stats_name(tmp, "berth/none", &cs), -ENOENT);

	/* A limit whose file the kernel lacks (controller not enabled): a clear error. */
	mk("berth/t2");
	err[0] = '\0';
	assert_int_equal(exec_cg_create(&cg, tmp, "berth/t2", &l, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cpu.weight"));
}

/* v1: one directory per controller; swap off through memsw where it exists. */
static void test_v1_tree(void **state)
{
	const char *ctrls[] = { "memory", "cpu", "pids", "cpuacct" };
	for (size_t i = 0; i < 4; i++) {
		char rel[64];
		mk(ctrls[i]);
		snprintf(rel, sizeof(rel), "%s/berth", ctrls[i]);
		mk(rel);
		snprintf(rel, sizeof(rel), "%s/berth/t1", ctrls[i]);
		mk(rel);
		snprintf(rel, sizeof(rel), "%s/berth/t1/cgroup.procs", ctrls[i]);
		touch(rel, "");
	}
	touch("memory/berth/t1/memory.limit_in_bytes", "");
	touch("memory/berth/t1/memory.memsw.limit_in_bytes", "");
	touch("memory/berth/t1/memory.swappiness", "");
	touch("cpu/berth/t1/cpu.shares", "");
	touch("cpu/berth/t1/cpu.cfs_quota_us", "");
	touch("cpu/berth/t1/cpu.cfs_period_us", "");
	touch("pids/berth/t1/pids.max", "");
	struct exec_cg cg;
	struct exec_cg_limits l = { .cpu_shares = 256, .cfs_quota_us = 25000,
				    .mem_bytes = 32 << 20, .pids_max = 50 };
	char err[256] = "";
	assert_int_equal(exec_cg_create(&cg, tmp, "berth/t1", &l, err, sizeof(err)), 0);
	assert_int_equal(cg.version, EXEC_CG_V1);
	assert_string_equal(slurp("memory/berth/t1/memory.limit_in_bytes"), "33554432");
	assert_string_equal(slurp("memory/berth/t1/memory.memsw.limit_in_bytes"), "33554432");
	assert_string_equal(slurp("memory/berth/t1/memory.swappiness"), "0");
	assert_string_equal(slurp("cpu/berth/t1/cpu.shares"), "256");
	assert_string_equal(slurp("cpu/berth/t1/cpu.cfs_quota_us"), "25000");
	assert_string_equal(slurp("cpu/berth/t1/cpu.cfs_period_us"), "100000");
	assert_string_equal(slurp("pids/berth/t1/pids.max"), "50");
	assert_int_equal(exec_cg_attach(&cg, 77), 0);
	for (size_t i = 0; i < 4; i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "%s/berth/t1/cgroup.procs", ctrls[i]);
		assert_string_equal(slurp(rel), "77");
	}
	uint64_t lim, max;
	touch("memory/berth/t1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
	touch("memory/berth/t1/memory.max_usage_in_bytes", "33554432\n");
	assert_int_equal(exec_cg_oom_kills(&cg, &lim, &max), 1);
	assert_int_equal(max, 33554432);
	/* The in-place resize: cpu and memory change, pids stay. */
	struct exec_cg_limits nl = { .cpu_shares = 1024, .mem_bytes = 128 << 20 };
	assert_int_equal(exec_cg_update(tmp, "berth/t1", &nl, err, sizeof(err)), 0);
	assert_string_equal(slurp("memory/berth/t1/memory.limit_in_bytes"), "134217728");
	assert_string_equal(slurp("memory/berth/t1/memory.memsw.limit_in_bytes"), "134217728");
	assert_string_equal(slurp("cpu/berth/t1/cpu.shares"), "1024");
	assert_string_equal(slurp("cpu/berth/t1/cpu.cfs_quota_us"), "25000");
	assert_string_equal(slurp("pids/berth/t1/pids.max"), "50");
	assert_int_equal(exec_cg_update(tmp, "berth/none", &nl, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "berth/none"));
	/* A limit asked for, its controller not mounted: named in the error. */
	char p[512];
	snprintf(p, sizeof(p), "rm -rf '%s/pids'", tmp);
	assert_int_equal(system(p), 0);
	assert_int_equal(exec_cg_create(&cg, tmp, "berth/t1", &l, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "'pids' is not mounted"));
	/* Nothing there: destroy is no error. */
	assert_int_equal(exec_cg_destroy_name(tmp, "berth/none"), 0);
}

static void test_spec_and_status_keys(void **state)
{
	const char *args[] = { "sleep", "1", NULL };
	struct exec_spec s = { .task_id = "t1", .sandbox = "/tmp/sb", .args = args, .nargs = 2,
			       .cg_root = "/sys/fs/cgroup", .cg_name = "berth/t1",
			       .cg_cpu_shares = 256, .cg_cfs_quota_us = 25000,
			       .cg_cfs_period_us = 100000, .cg_mem_bytes = 1ull << 33,
			       .cg_pids_max = 4096, .isolate = 1, .user = "nobody" };
	char *buf;
	size_t len;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), 0);
	struct exec_spec p;
	assert_int_equal(exec_spec_parse(buf, len, &p), 0);
	assert_string_equal(p.cg_root, "/sys/fs/cgroup");
	assert_string_equal(p.cg_name, "berth/t1");
	assert_int_equal(p.cg_cpu_shares, 256);
	assert_int_equal(p.cg_cfs_quota_us, 25000);
	assert_int_equal(p.cg_mem_bytes, 1ull << 33);
	assert_int_equal(p.cg_pids_max, 4096);
	assert_int_equal(p.isolate, 1);
	assert_string_equal(p.user, "nobody");
	exec_spec_release(&p);
	/* per-instance runs and the fetcher cache */
	struct exec_fetch f = { .uri = "http://x/a.tgz", .extract = 1, .cache = 1 };
	s.attach = "/w/meta/inst";
	s.fetch = &f;
	s.nfetch = 1;
	s.fetch_cache = "/w/fetch-cache";
	s.fetch_cache_max = 5000;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), 0);
	assert_int_equal(exec_spec_parse(buf, len, &p), 0);
	assert_string_equal(p.attach, "/w/meta/inst");
	assert_int_equal(p.nfetch, 1);
	assert_int_equal(p.fetch[0].cache, 1);
	assert_string_equal(p.fetch_cache, "/w/fetch-cache");
	assert_int_equal(p.fetch_cache_max, 5000);
	exec_spec_release(&p);
	s.attach = "relative";
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), 0);
	assert_int_equal(exec_spec_parse(buf, len, &p), -EINVAL);
	s.attach = NULL;
	s.fetch_cache = "relative";
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL);
	s.fetch_cache = NULL;
	s.nfetch = 0;
	s.cg_root = "relative";
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL);

	struct exec_status st = { .state = EXEC_SIGNALED, .signal = 9, .oom = 1,
				  .mem_limit = 32 << 20, .mem_max = 1ull << 35 };
	char text[512];
	assert_true(exec_status_format(&st, text, sizeof(text)) > 0);
	struct exec_status back;
	assert_int_equal(exec_status_parse(text, &back), 0);
	assert_int_equal(back.oom, 1);
	assert_int_equal(back.mem_limit, 32 << 20);
	assert_int_equal(back.mem_max, 1ull << 35);
	assert_int_equal(exec_status_parse("state=exited\nmem_max=x\n", &back), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_detect_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_tree, setup, teardown),
		cmocka_unit_test(test_spec_and_status_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
