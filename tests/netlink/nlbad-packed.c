// SPDX-License-Identifier: GPL-2.0
/*
 * nlbad: the packed encodings (RUNS, PAGEVEC, PAGEIDX, PFNVEC as PACKED,
 * INDEXED and NO_PFN ask), each checked as memtrace.h says.
 */
#include "nlbad.h"
#include "pg.h"

/* What a packed answer held (packed_cb). */
struct packed_seen {
	unsigned int records, runs, pagevecs, pageidxs, pfnvecs, other;
	unsigned int pages;	/* in PAGEVECs and PAGEIDXs */
	unsigned int bad_idx;	/* PAGEIDXs not as memtrace.h says */
	uint32_t words[4];	/* the words of the first 4 pages */
	uint64_t pfn_or;	/* every pfn of the PFNVECs or-ed */
};

/* A PAGEIDX: lengths, padding and indexes as memtrace.h says; its pages. */
static void packed_pageidx(struct packed_seen *ps, const unsigned char *d, size_t len)
{
	struct memtrace_pageidx v;
	size_t off;

	if (len < sizeof(v)) {
		ps->bad_idx++;
		return;
	}
	memcpy(&v, d, sizeof(v));
	off = MEMTRACE_PAGEIDX_WORDS_OFF((size_t)v.count);
	if (!v.count || !v.nwords || v.nwords > MEMTRACE_PAGEIDX_WORDS_MAX || v.reserved ||
	    len != off + v.nwords * 4u) {
		ps->bad_idx++;
		return;
	}
	for (size_t i = sizeof(v) + v.count; i < off; i++)
		ps->bad_idx += d[i] != 0;
	for (uint32_t i = 0; i < v.count; i++) {
		unsigned int ix = d[sizeof(v) + i];

		if (ix >= v.nwords) {
			ps->bad_idx++;
			return;
		}
		if (ps->pages < 4)
			memcpy(&ps->words[ps->pages], d + off + ix * 4, 4);
		ps->pages++;
	}
}

static int packed_cb(const struct nlmsghdr *h, void *arg)
{
	struct packed_seen *ps = arg;
	const unsigned char *p = (const unsigned char *)NLMSG_DATA(h) + GENL_HDRLEN;
	int rem = (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	const struct nlattr *a;

	for (a = (const struct nlattr *)p; nlr_attr_ok(a, rem); a = nlr_attr_next((struct nlattr *)a, &rem)) {
		switch (nlr_type(a)) {
		case MEMTRACE_A_RECORD: ps->records++; break;
		case MEMTRACE_A_RUNS: ps->runs++; break;
		case MEMTRACE_A_PAGEVEC: {
			struct memtrace_pagevec v;

			ps->pagevecs++;
			if (nlr_len(a) < (int)sizeof(v))
				break;
			memcpy(&v, nlr_data(a), sizeof(v));
			for (uint32_t i = 0; i < v.count && ps->pages < 4; i++)
				memcpy(&ps->words[ps->pages++],
				       (const char *)nlr_data(a) + sizeof(v) + 4 * i, 4);
			break;
		}
		case MEMTRACE_A_PAGEIDX:
			ps->pageidxs++;
			packed_pageidx(ps, nlr_data(a), (size_t)nlr_len(a));
			break;
		case MEMTRACE_A_PFNVEC:
			ps->pfnvecs++;
			for (int i = 0; i + 8 <= nlr_len(a); i += 8) {
				uint64_t v;

				memcpy(&v, (const char *)nlr_data(a) + i, 8);
				ps->pfn_or |= v;
			}
			break;
		case MEMTRACE_A_PID: case MEMTRACE_A_START: case MEMTRACE_A_END:
		case MEMTRACE_A_MODE: case MEMTRACE_A_SUMMARY: case MEMTRACE_A_PAD:
			break;
		default: ps->other++; break;
		}
	}
	return 0;
}

/* QUERY of [p, p + 4 pages) of this process in mode, with the flags given. */

static void packed_query(const char *what, const void *p, int mode, int how,
			 struct packed_seen *ps)
{
	struct nlr_result r;
	int ret;

	memset(ps, 0, sizeof(*ps));
	nlbad_query(getpid());
	nlb_u64(&nlbad_req, MEMTRACE_A_START, (uintptr_t)p);
	nlb_u64(&nlbad_req, MEMTRACE_A_END, (uintptr_t)p + 4 * MT_PG);
	nlb_u8(&nlbad_req, MEMTRACE_A_MODE, (uint8_t)mode);
	if (how & Q_PACKED)
		nlb_attr(&nlbad_req, MEMTRACE_A_PACKED, NULL, 0);
	if (how & Q_NO_PFN)
		nlb_attr(&nlbad_req, MEMTRACE_A_NO_PFN, NULL, 0);
	if (how & Q_INDEXED)
		nlb_attr(&nlbad_req, MEMTRACE_A_INDEXED, NULL, 0);
	ret = nlr_send(&nlbad_sk, &nlbad_req);
	if (!ret)
		ret = nlr_wait(&nlbad_sk, nlbad_req.seq, &r, packed_cb, ps);
	if (ret || !r.answered || r.error) {
		tap_ok(0, "%s: answered (%s, error %d)", what, strerror(ret < 0 ? -ret : 0), r.error);
		ps->other = ~0U;
	}
}

/* The module's testing knob: words a PAGEIDX holds. */
#define PAGEIDX_KNOB "/sys/module/memtrace/parameters/pageidx_words"

/* Write val to the sysfs file path, its old value first into old (if set). */
static bool set_knob(const char *path, const char *val, char *old, size_t oldsz)
{
	FILE *f;
	bool ok;

	if (old) {
		f = fopen(path, "r");
		if (!f || !fgets(old, (int)oldsz, f)) {
			if (f)
				fclose(f);
			return false;
		}
		fclose(f);
		old[strcspn(old, "\n")] = '\0';
	}
	f = fopen(path, "w");
	if (!f)
		return false;
	ok = fputs(val, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* Pages 0 and 2 written, 1 and 3 not, as page words say. */
static bool packed_words_ok(const struct packed_seen *ps)
{
	for (int i = 0; i < 4; i++)
		if (MEMTRACE_PW_STATE(ps->words[i]) != (i % 2 ? MEMTRACE_NONE : MEMTRACE_PRESENT))
			return false;
	return ps->pages == 4;
}

/* PACKED, INDEXED and NO_PFN do what memtrace.h says (run as root: pfns shown). */
void nlbad_packed_checks(void)
{
	char *p = mmap(NULL, 4 * MT_PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct packed_seen ps;
	char old[16];

	if (p == MAP_FAILED) {
		tap_ok(0, "packed checks: mmap");
		return;
	}
	p[0] = 1;
	p[2 * MT_PG] = 1;
	packed_query("pages, packed", p, MEMTRACE_MODE_PAGES, Q_PACKED, &ps);
	tap_ok(ps.pagevecs >= 1 && ps.pfnvecs == ps.pagevecs && !ps.records && !ps.other &&
	       !ps.pageidxs && ps.pfn_or != 0 && geteuid() == 0 && packed_words_ok(&ps),
	       "pages, packed, as root: page vectors (%u) each with its pfns (%u), pfns shown, "
	       "words right, no nests (%u)", ps.pagevecs, ps.pfnvecs, ps.records);
	packed_query("pages, packed, NO_PFN", p, MEMTRACE_MODE_PAGES, Q_PACKED | Q_NO_PFN, &ps);
	tap_ok(ps.pagevecs >= 1 && !ps.pfnvecs && !ps.records && !ps.other,
	       "pages, packed, NO_PFN: page vectors (%u), no pfn vector (%u)", ps.pagevecs,
	       ps.pfnvecs);
	packed_query("pages, packed, INDEXED", p, MEMTRACE_MODE_PAGES, Q_PACKED | Q_INDEXED, &ps);
	tap_ok(ps.pageidxs >= 1 && !ps.bad_idx && ps.pfnvecs == ps.pageidxs && !ps.pagevecs &&
	       !ps.records && !ps.other && ps.pfn_or != 0 && packed_words_ok(&ps),
	       "pages, packed, INDEXED: index vectors (%u) as memtrace.h says (%u not), each "
	       "with its pfns (%u), words right, no word vectors (%u)", ps.pageidxs, ps.bad_idx,
	       ps.pfnvecs, ps.pagevecs);
	packed_query("pages, packed, INDEXED, NO_PFN", p, MEMTRACE_MODE_PAGES,
		     Q_PACKED | Q_INDEXED | Q_NO_PFN, &ps);
	tap_ok(ps.pageidxs >= 1 && !ps.bad_idx && !ps.pfnvecs && !ps.pagevecs && !ps.other &&
	       packed_words_ok(&ps),
	       "pages, packed, INDEXED, NO_PFN: index vectors (%u), no pfn vector (%u)",
	       ps.pageidxs, ps.pfnvecs);
	if (set_knob(PAGEIDX_KNOB, "1", old, sizeof(old))) {
		packed_query("pages, INDEXED, 1 word a vector", p, MEMTRACE_MODE_PAGES,
			     Q_PACKED | Q_INDEXED, &ps);
		set_knob(PAGEIDX_KNOB, old, NULL, 0);
		tap_ok(ps.pageidxs == 4 && ps.pfnvecs == 4 && !ps.bad_idx && packed_words_ok(&ps),
		       "pages, INDEXED, pageidx_words=1: a vector a page (%u of 4), each with its "
		       "pfns (%u), words right (old value %s)", ps.pageidxs, ps.pfnvecs, old);
	} else {
		tap_ok(0, "the module's %s can be set", PAGEIDX_KNOB);
	}
	packed_query("runs, packed, INDEXED", p, MEMTRACE_MODE_RUNS, Q_PACKED | Q_INDEXED, &ps);
	tap_ok(ps.runs >= 1 && !ps.pagevecs && !ps.pageidxs && !ps.pfnvecs && !ps.records &&
	       !ps.other, "runs, packed, INDEXED: runs arrays (%u), nothing else", ps.runs);
	packed_query("runs, packed", p, MEMTRACE_MODE_RUNS, Q_PACKED, &ps);
	tap_ok(ps.runs >= 1 && !ps.pagevecs && !ps.pfnvecs && !ps.records && !ps.other,
	       "runs, packed: runs arrays (%u), nothing else", ps.runs);
	packed_query("pages, nested", p, MEMTRACE_MODE_PAGES, 0, &ps);
	tap_ok(ps.records == 4 && !ps.runs && !ps.pagevecs && !ps.other,
	       "pages, not packed: 4 record nests (%u), no arrays", ps.records);
	munmap(p, 4 * MT_PG);
}
