// SPDX-License-Identifier: GPL-2.0
/* What more than one printer writes: names, lists, and the printers' no-ops. */
#include "output.h"

const char *const mt_mode_names[] = { "runs", "pages" };

const char *const mt_flag_names[] = {
	"anon", "file", "shmem", "pfnmap", "hugetlb", "write", "dirty", "young",
	"excl", "2M", "1G",
};

const unsigned int mt_nflag_names = sizeof(mt_flag_names) / sizeof(mt_flag_names[0]);

/* The module's n state names; a later module's unknown ones as stateN. */
void mt_out_states(unsigned int n, const char *sep, bool json)
{
	for (unsigned int i = 0; i < n; i++) {
		fputs(i ? sep : "", stdout);
		if (i >= MEMTRACE_NSTATES)
			printf(json ? "\"state%u\"" : "state%u", i);
		else if (json)
			mt_json_str(stdout, mt_state_names[i]);
		else
			fputs(mt_state_names[i], stdout);
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
		if (i >= mt_nflag_names)
			printf(json ? "\"bit%u\"" : "bit%u", i);
		else if (json)
			mt_json_str(stdout, mt_flag_names[i]);
		else
			fputs(mt_flag_names[i], stdout);
	}
}

void mt_out_nothing(void)
{
}

void mt_out_nothing_b(bool b)
{
	(void)b;
}
