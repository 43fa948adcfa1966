// SPDX-License-Identifier: GPL-2.0
/*
 * Totals (filter.c adds them up) in each format: per state, present pages
 * per NUMA node, THP and hugetlb, exclusive and shared. query, verify, maps
 * and diff print them with --totals, or when --state or --flags choose pages.
 */
#include "output.h"

/* "8 pages (32 KiB): 4 none, 4 present" */
void mt_out_totals_human(const char *label, const struct mt_totals *t, unsigned int ps)
{
	char buf[32];
	bool first = true;

	printf("%s: %llu page%s (%s)", label, (unsigned long long)t->pages, mt_plural(t->pages),
	       mt_human_size(t->pages * ps, buf, sizeof(buf)));
	for (int s = 0; s < MEMTRACE_NSTATES_ALL; s++) {
		if (!t->state[s])
			continue;
		printf("%s %llu %s", first ? ":" : ",", (unsigned long long)t->state[s],
		       mt_state_names[s]);
		first = false;
	}
	putchar('\n');
	if (!t->state[MEMTRACE_PRESENT])
		return;
	printf("  present by node:");
	for (int n = 0; n < MT_TOTALS_NODES; n++)
		if (t->node[n])
			printf(" %d: %llu", n, (unsigned long long)t->node[n]);
	if (t->node_other)
		printf(" -: %llu", (unsigned long long)t->node_other);
	printf("; THP %llu, hugetlb %llu; exclusive %llu, shared %llu\n",
	       (unsigned long long)t->thp, (unsigned long long)t->hugetlb,
	       (unsigned long long)t->excl, (unsigned long long)t->shared);
}

/* "# totals pages=8 unmapped=0 ... thp=0 hugetlb=0 excl=4 shared=0 node0=4" */
void mt_out_totals_tsv(const char *label, const struct mt_totals *t)
{
	printf("# %s pages=%llu", label, (unsigned long long)t->pages);
	for (int s = 0; s < MEMTRACE_NSTATES; s++)
		printf(" %s=%llu", mt_state_names[s], (unsigned long long)t->state[s]);
	if (t->state[MEMTRACE_CACHED])	/* only an answer that asked for it has any */
		printf(" %s=%llu", mt_state_names[MEMTRACE_CACHED],
		       (unsigned long long)t->state[MEMTRACE_CACHED]);
	printf(" thp=%llu hugetlb=%llu excl=%llu shared=%llu", (unsigned long long)t->thp,
	       (unsigned long long)t->hugetlb, (unsigned long long)t->excl,
	       (unsigned long long)t->shared);
	for (int n = 0; n < MT_TOTALS_NODES; n++)
		if (t->node[n])
			printf(" node%d=%llu", n, (unsigned long long)t->node[n]);
	if (t->node_other)
		printf(" node-=%llu", (unsigned long long)t->node_other);
	putchar('\n');
}

/* ,"KEY":{...}: a member of the object being written */
void mt_out_totals_json(const char *key, const struct mt_totals *t, unsigned int ps)
{
	bool first = true;

	printf(",\"%s\":{\"pages\":%llu,\"kbytes\":%llu", key, (unsigned long long)t->pages,
	       (unsigned long long)(t->pages * ps / 1024));
	for (int s = 0; s < MEMTRACE_NSTATES; s++)
		printf(",\"%s\":%llu", mt_state_names[s], (unsigned long long)t->state[s]);
	if (t->state[MEMTRACE_CACHED])
		printf(",\"%s\":%llu", mt_state_names[MEMTRACE_CACHED],
		       (unsigned long long)t->state[MEMTRACE_CACHED]);
	printf(",\"thp\":%llu,\"hugetlb\":%llu,\"exclusive\":%llu,\"shared\":%llu,\"nodes\":{",
	       (unsigned long long)t->thp, (unsigned long long)t->hugetlb,
	       (unsigned long long)t->excl, (unsigned long long)t->shared);
	for (int n = 0; n < MT_TOTALS_NODES; n++) {
		if (!t->node[n])
			continue;
		printf("%s\"%d\":%llu", first ? "" : ",", n, (unsigned long long)t->node[n]);
		first = false;
	}
	printf("},\"node_unknown\":%llu}", (unsigned long long)t->node_other);
}
