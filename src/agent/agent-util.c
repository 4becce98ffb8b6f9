/* Pure helpers of the agent; see agent-util.h. */
#include "agent/agent-util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/mem.h"

bool agent_task_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 255 || !strcmp(id, ".") || !strcmp(id, ".."))
		return false;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

int agent_meminfo_total_mib(const char *text, uint64_t *out)
{
	const char *p = strstr(text, "MemTotal:");
	unsigned long long kib;
	if (!p || (p != text && p[-1] != '\n'))
		return -EINVAL;
	if (sscanf(p + 9, " %llu kB", &kib) != 1)
		return -EINVAL;
	*out = kib / 1024;
	return 0;
}

char *agent_resources_default(unsigned ncpus, uint64_t mem_mib, uint64_t disk_mib)
{
	uint64_t reserve = mem_mib / 2 < 1024 ? mem_mib / 2 : 1024;
	return xasprintf("cpus(*):%u; mem(*):%" PRIu64 "; disk(*):%" PRIu64
			 "; ports(*):[31000-32000]",
			 ncpus ? ncpus : 1, mem_mib - reserve, disk_mib);
}

char *agent_resources_measure(const char *work_dir)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t mem = 0, disk = 0;
	FILE *f = fopen("/proc/meminfo", "re");
	if (f) {
		char buf[4096];
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		if (agent_meminfo_total_mib(buf, &mem) < 0)
			mem = 0;
	}
	struct statvfs vfs;
	if (statvfs(work_dir, &vfs) == 0)
		disk = (uint64_t)vfs.f_bavail * vfs.f_frsize / (1024 * 1024);
	return agent_resources_default(cpus > 0 ? (unsigned)cpus : 1, mem, disk);
}

const char *agent_signal_name(int sig, char *buf, size_t size)
{
	const char *abbr = sigabbrev_np(sig);
	if (abbr)
		snprintf(buf, size, "SIG%s", abbr);
	else
		snprintf(buf, size, "signal %d", sig);
	return buf;
}
