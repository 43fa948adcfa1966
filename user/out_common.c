// SPDX-License-Identifier: GPL-2.0
/*
 * What more than one printer writes: names, lists, sizes for people, and
 * the printers' no-ops.
 */
#include "output.h"

const char *const mt_mode_names[] = { "runs", "pages" };

const char *const mt_flag_names[] = {
	"anon", "file", "shmem", "pfnmap", "hugetlb", "write", "dirty", "young",
	"excl", "2M", "1G", "writeback",
};

const unsigned int mt_nflag_names = sizeof(mt_flag_names) / sizeof(mt_flag_names[0]);

/* One name of a list, or PREFIXi for one this client does not know. */
static void out_name(const char *name, const char *prefix, unsigned int i, bool json)
{
	if (!name)
		printf(json ? "\"%s%u\"" : "%s%u", prefix, i);
	else if (json)
		mt_json_str(stdout, name);
	else
		fputs(name, stdout);
}

/* The module's n state names; a later module's unknown ones as stateN. */
void mt_out_states(unsigned int n, const char *sep, bool json)
{
	for (unsigned int i = 0; i < n; i++) {
		fputs(i ? sep : "", stdout);
		out_name(i < MEMTRACE_NSTATES ? mt_state_names[i] : NULL, "state", i, json);
	}
}

/* The names of the flags in mask; unknown ones as bitN. */
void mt_out_flag_list(uint32_t mask, const char *sep, bool json)
{
	bool first = true;

	for (unsigned int i = 0; i < 32; i++) {
		if (!(mask & (1U << i)))
			continue;
		fputs(first ? "" : sep, stdout);
		first = false;
		out_name(i < mt_nflag_names ? mt_flag_names[i] : NULL, "bit", i, json);
	}
}

/*
 * A mapping name for a terminal or a tab-separated line: control bytes as
 * /proc/PID/maps writes a newline, a backslash and three octal digits
 * ("\012"); the other bytes as they are.
 */
void mt_out_name(const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			printf("\\%03o", *p);
		else
			putchar(*p);
}

/*
 * A size for people, one convention everywhere (as free -h and ps): binary
 * units B, KiB, MiB, GiB, TiB, PiB, EiB; a whole number as it is ("4 KiB",
 * "2 MiB"), otherwise one decimal ("1.5 MiB", "128.0 TiB").
 */
const char *mt_human_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned int u = 0;
	double v = (double)bytes;

	while (u < 6 && v >= 1024) {
		v /= 1024;
		u++;
	}
	if (u < 6 && v >= 1023.95) {	/* would print as 1024.0 */
		v /= 1024;
		u++;
	}
	if (!u || !(bytes & ((1ULL << (10 * u)) - 1)))
		snprintf(buf, len, "%.0f %s", v, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

/* A size in KiB, as /proc prints them, signed: "+1.5 MiB", "-4 KiB", "+0 B". */
const char *mt_human_kb_delta(long kb, char *buf, size_t len)
{
	uint64_t mag = kb < 0 ? -(uint64_t)kb : (uint64_t)kb;

	buf[0] = kb < 0 ? '-' : '+';
	mt_human_size(mag * 1024, buf + 1, len - 1);
	return buf;
}

/* "1 page", "2 pages": the plural's ending for n */
const char *mt_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* Does the record's pfn field carry a value: a frame, or a swap entry? */
bool mt_out_has_frame(const struct mt_record *r)
{
	return r->state == MEMTRACE_PRESENT || r->state == MEMTRACE_ZERO ||
	       r->state == MEMTRACE_SWAP;
}

/*
 * The module shows frames (and swap entries) to CAP_SYS_ADMIN only, 0 to
 * others, like pagemap. No user page is frame 0, and swap offset 0 is the
 * swap header: a 0 there is a hidden value.
 */
bool mt_out_pfn_hidden(const struct mt_record *r)
{
	return mt_out_has_frame(r) && !r->pfn;
}

void mt_out_nothing(void)
{
}

void mt_out_nothing_b(bool b)
{
	(void)b;
}

void mt_out_no_label(const struct mt_map *m, size_t i, size_t n)
{
	(void)m;
	(void)i;
	(void)n;
}
