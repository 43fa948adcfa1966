// SPDX-License-Identifier: GPL-2.0
/* Host unit tests of the memtrace client's parsers and renderers (TAP). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mt.h"
#include "tap.h"
#include "transport.h"

/* ---- RANGE ---- */

static void test_range(void)
{
	struct mt_range r;
	char err[MT_ERR_MAX];
	static const char *const bad[] = {
		"", "0x1000-0x1000", "0x2000-0x1000", "1-0", "12", "0x", "0x-0x10", "0x10-",
		"0x10+", "0x10+0", "0xg-0x10", "10-1x", "1-2-3", "0x10 - 0x20", "-5", "+5",
		"0x10000000000000000-0x1", "18446744073709551616-18446744073709551617",
		"0xffffffffffffffff+1", "0x1+0xffffffffffffffff", "1+99999999999999999999G",
		"1+16E", "010-08", "0x10+-1", "1 2", "0xffffffffffffffff-0x10000000000000000",
	};

	tap_expect(!mt_range_parse("0x1000-0x3000", &r, err, sizeof(err)) && r.kind == MT_RANGE_SPAN &&
	   r.start == 0x1000 && r.end == 0x3000, "range hex START-END");
	tap_expect(!mt_range_parse("4096-8192", &r, err, sizeof(err)) && r.start == 4096 &&
	   r.end == 8192, "range decimal START-END");
	tap_expect(!mt_range_parse("0X1000+0x2000", &r, err, sizeof(err)) && r.start == 0x1000 &&
	   r.end == 0x3000, "range START+LEN hex, capital X");
	tap_expect(!mt_range_parse("4096+16K", &r, err, sizeof(err)) && r.end == 4096 + 16384,
	   "range LEN with K suffix");
	tap_expect(!mt_range_parse("0+2M", &r, err, sizeof(err)) && r.end == 2 << 20, "range LEN M");
	tap_expect(!mt_range_parse("0+1g", &r, err, sizeof(err)) && r.end == 1ULL << 30, "range LEN g");
	tap_expect(mt_range_parse("0xfffffffffffff000+0x1000", &r, err, sizeof(err)) == -EINVAL,
	   "range START+LEN ending at 2^64 rejected (%s)", err);
	tap_expect(!mt_range_parse("0-0xffffffffffffffff", &r, err, sizeof(err)) &&
	   r.end == UINT64_MAX, "range up to 2^64-1");
	tap_expect(!mt_range_parse("all", &r, err, sizeof(err)) && r.kind == MT_RANGE_ALL, "range all");
	tap_expect(!mt_range_parse("[heap]", &r, err, sizeof(err)) && r.kind == MT_RANGE_NAME &&
	   !strcmp(r.name, "[heap]"), "range [heap] is a name");
	tap_expect(!mt_range_parse("/usr/lib/x86_64-linux-gnu/libc.so.6", &r, err, sizeof(err)) &&
	   r.kind == MT_RANGE_NAME, "range path with '-' is a name");
	tap_expect(!mt_range_parse("libc.so.6", &r, err, sizeof(err)) && r.kind == MT_RANGE_NAME,
	   "range base name");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		tap_expect(mt_range_parse(bad[i], &r, err, sizeof(err)) == -EINVAL && err[0],
		   "range '%s' rejected (%s)", bad[i], err);
	}
	tap_expect(mt_range_parse(NULL, &r, err, sizeof(err)) == -EINVAL, "range NULL rejected");
	/* issue 18: START-END as /proc/PID/maps prints it, bare hex */
	tap_expect(!mt_range_parse("7f612eb7d000-7f612eb85000", &r, err, sizeof(err)) &&
	   r.kind == MT_RANGE_SPAN && r.start == 0x7f612eb7d000 && r.end == 0x7f612eb85000,
	   "range maps-style START-END is hex (%s)", err);
	tap_expect(!mt_range_parse("ffffffffff600000-ffffffffff601000", &r, err, sizeof(err)) &&
	   r.kind == MT_RANGE_SPAN && r.start == 0xffffffffff600000ULL,
	   "range maps-style starting with a letter is a range, not a name (%s)", err);
	tap_expect(!mt_range_parse("00400000-00452000", &r, err, sizeof(err)) &&
	   r.start == 0x400000 && r.end == 0x452000, "range maps-style 8 digits (%s)", err);
	tap_expect(mt_range_parse("7f612eb85000-7f612eb7d000", &r, err, sizeof(err)) == -EINVAL &&
	   strstr(err, "end must be above start"), "range maps-style END < START rejected (%s)", err);
	tap_expect(!mt_range_parse("deadbeef", &r, err, sizeof(err)) && r.kind == MT_RANGE_NAME,
	   "range a hex word alone is still a name");
}

/* ---- issue 18: how to load the module, from what is on the system ---- */

static void put_file(const char *dir, const char *rel)
{
	char path[4096], cmd[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd) == 0 && (f = fopen(path, "w")))
		fclose(f);
}

static void test_module_hint(void)
{
	char dir[] = "/tmp/memtrace-unit.XXXXXX", cmd[256];

	if (!mkdtemp(dir)) {
		tap_skip("module hint", "mkdtemp failed");
		return;
	}
	tap_expect(strstr(mt_module_hint(dir, "6.1.0"), "cannot load modules"),
	   "no /proc/modules: says the kernel cannot load modules");
	put_file(dir, "proc/modules");
	tap_expect(strstr(mt_module_hint(dir, "6.1.0"), "sudo make load") &&
	   !strstr(mt_module_hint(dir, "6.1.0"), "modprobe"),
	   "not installed: load it from the source tree");
	put_file(dir, "lib/modules/6.1.0/updates/dkms/memtrace.ko.xz");
	tap_expect(strstr(mt_module_hint(dir, "6.1.0"), "sudo modprobe memtrace") != NULL,
	   "a DKMS module: modprobe");
	tap_expect(strstr(mt_module_hint(dir, "6.12.0"), "sudo make load") != NULL,
	   "installed for another kernel only: from the source tree");
	put_file(dir, "lib/modules/6.12.0/extra/memtrace.ko");
	tap_expect(strstr(mt_module_hint(dir, "6.12.0"), "sudo modprobe memtrace") != NULL,
	   "make install's module (extra/): modprobe");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		tap_diag("could not remove %s", dir);
}

/* ---- numbers and maps lines ---- */

static void test_numbers_maps(void)
{
	uint64_t v;
	struct mt_map m;
	struct mt_maps maps;
	size_t a, b;
	char l1[] = "7f0000000000-7f0000010000 rw-p 00000000 00:00 0 ";
	char l2[] = "55d0c0a00000-55d0c0a21000 r-xp 00002000 fe:01 1234567                    "
		    "/tmp/we\"ird\\name (deleted)";
	char l3[] = "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  "
		    "[vsyscall]";
	char bad1[] = "7f00-7e00 rw-p 00000000 00:00 0";
	char bad2[] = "zz-7e00 rw-p 00000000 00:00 0";
	char *buf;

	tap_expect(!mt_parse_u64("18446744073709551615", 20, &v) && v == UINT64_MAX, "u64 max decimal");
	tap_expect(mt_parse_u64("18446744073709551616", 20, &v) == -ERANGE, "u64 overflow decimal");
	tap_expect(mt_parse_u64("0x1ffffffffffffffff", 19, &v) == -ERANGE, "u64 overflow hex");
	tap_expect(mt_parse_u64("", 0, &v) == -EINVAL && mt_parse_u64("0x", 2, &v) == -EINVAL,
	   "u64 empty");
	tap_expect(mt_parse_u64("12a", 3, &v) == -EINVAL, "u64 junk");
	tap_expect(!mt_maps_parse_line(l1, &m) && m.start == 0x7f0000000000 && m.end == 0x7f0000010000 &&
	   !strcmp(m.perms, "rw-p") && !strcmp(m.name, ""), "maps anonymous line");
	tap_expect(!mt_maps_parse_line(l2, &m) && m.offset == 0x2000 && m.inode == 1234567 &&
	   !strcmp(m.dev, "fe:01") && !strcmp(m.name, "/tmp/we\"ird\\name (deleted)"),
	   "maps path with quotes, backslash, (deleted)");
	tap_expect(mt_map_matches(&m, "/tmp/we\"ird\\name") && mt_map_matches(&m, "we\"ird\\name") &&
	   !mt_map_matches(&m, "/tmp/we") && !mt_map_matches(&m, "name"),
	   "maps name matching: exact, (deleted), base name");
	tap_expect(!mt_maps_parse_line(l3, &m) && m.start == 0xffffffffff600000ULL &&
	   !strcmp(m.name, "[vsyscall]"), "maps vsyscall line");
	tap_expect(mt_maps_parse_line(bad1, &m) && mt_maps_parse_line(bad2, &m), "maps bad lines");
	buf = strdup("1000-3000 r--p 00000000 00:00 0 /bin/x\n3000-5000 r-xp 0 00:00 0 /bin/x\n"
		     "8000-9000 rw-p 00000000 00:00 0 [heap]\n");
	tap_expect(!mt_maps_parse(buf, &maps) && maps.n == 3, "maps parse 3 lines");
	tap_expect(!mt_maps_find(&maps, "/bin/x", &a, &b) && a == 0 && b == 1 &&
	   !mt_maps_find(&maps, "x", &a, &b) && mt_maps_find(&maps, "nope", &a, &b) == -ENOENT,
	   "maps find by path and base name");
	tap_expect(mt_maps_lookup(&maps, 0x8fff) == 2 && mt_maps_lookup(&maps, 0x5000) == -1 &&
	   mt_maps_lookup(&maps, 0x1000) == 0, "maps lookup");
	tap_expect(mt_maps_overlap(&maps, 0x4000, 0x6000) && !mt_maps_overlap(&maps, 0x5000, 0x8000),
	   "maps overlap");
	mt_maps_free(&maps);
	buf = strdup("3000-5000 r-xp 0 00:00 0 /bin/x\n1000-3000 r--p 0 00:00 0 /bin/x\n");
	tap_expect(mt_maps_parse(buf, &maps) == -EINVAL, "maps out of order rejected");
	mt_maps_free(&maps);
}

/* ---- the module's text answer ---- */

struct collect {
	struct mt_record r[16];
	int n;
};

static int collect_cb(const struct mt_header *h, const struct mt_record *r, void *arg)
{
	struct collect *c = arg;

	(void)h;
	if (c->n < 16)
		c->r[c->n++] = *r;
	return 0;
}

static int feed_all(const char *text, struct collect *c, struct mt_answer *a, size_t chunk)
{
	size_t len = strlen(text);
	int ret = 0;

	mt_answer_init(a, collect_cb, c);
	for (size_t i = 0; i < len && !ret; i += chunk)
		ret = mt_answer_feed(a, text + i, len - i < chunk ? len - i : chunk);
	return ret ? ret : mt_answer_finish(a);
}

#define HDR "# memtrace pid=42 start=0x10000 end=0x20000 page_size=4096 mode=runs\n" \
	    "# addr\tpages\tstate\tsize\tflags\tpfn\tnode\n"
#define SUM(un, no, ze, pr) "# summary pages=16 unmapped=" #un " none=" #no " zero=" #ze \
	" present=" #pr " swap=0 migration=0 other=0\n"

static void test_answer(void)
{
	static struct mt_answer a;
	struct collect c;
	struct mt_record r;
	uint32_t f;
	char fl[MT_FLAGS_BUF], err[MT_ERR_MAX];
	const char *good = HDR
		"0x10000\t4\tpresent\t4K\ta-wdyx\t0x1234\t0\n"
		"0x14000\t4\tzero\t4K\ta-----\t0x10\t-1\n"
		"0x18000\t6\tnone\t4K\t------\t0x0\t-1\n"
		"0x1e000\t2\tunmapped\t4K\t------\t0x0\t-1\n" SUM(2, 6, 4, 4);
	static const struct { const char *name, *text; } bad[] = {
		{ "empty", "" },
		{ "no header", "0x10000\t16\tnone\t4K\t------\t0x0\t-1\n" SUM(0, 16, 0, 0) },
		{ "no summary", HDR "0x10000\t16\tnone\t4K\t------\t0x0\t-1\n" },
		{ "gap between records", HDR "0x10000\t8\tnone\t4K\t------\t0x0\t-1\n"
		  "0x19000\t8\tnone\t4K\t------\t0x0\t-1\n" SUM(0, 16, 0, 0) },
		{ "past end", HDR "0x10000\t17\tnone\t4K\t------\t0x0\t-1\n" SUM(0, 16, 0, 0) },
		{ "short of end", HDR "0x10000\t15\tnone\t4K\t------\t0x0\t-1\n" SUM(0, 16, 0, 0) },
		{ "summary mismatch", HDR "0x10000\t16\tnone\t4K\t------\t0x0\t-1\n" SUM(0, 0, 0, 16) },
		{ "unknown state", HDR "0x10000\t16\tgone\t4K\t------\t0x0\t-1\n" SUM(0, 16, 0, 0) },
		{ "bad size", HDR "0x10000\t16\tnone\t8K\t------\t0x0\t-1\n" SUM(0, 16, 0, 0) },
		{ "bad flags", HDR "0x10000\t16\tnone\t4K\tq-----\t0x0\t-1\n" SUM(0, 16, 0, 0) },
		{ "flags out of order", HDR "0x10000\t16\tpresent\t4K\taxw---\t0x0\t0\n" SUM(0, 0, 0, 16) },
		{ "six fields", HDR "0x10000\t16\tnone\t4K\t------\t0x0\n" SUM(0, 16, 0, 0) },
		{ "eight fields", HDR "0x10000\t16\tnone\t4K\t------\t0x0\t-1\tx\n" SUM(0, 16, 0, 0) },
		{ "zero pages", HDR "0x10000\t0\tnone\t4K\t------\t0x0\t-1\n" SUM(0, 16, 0, 0) },
		{ "decimal addr", HDR "65536\t16\tnone\t4K\t------\t0x0\t-1\n" SUM(0, 16, 0, 0) },
		{ "bad node", HDR "0x10000\t16\tnone\t4K\t------\t0x0\t-2\n" SUM(0, 16, 0, 0) },
		{ "huge pfn", HDR "0x10000\t16\tpresent\t4K\ta-----\t0xffffffffffffffff\t0\n" SUM(0, 0, 0, 16) },
		{ "text after summary", HDR "0x10000\t16\tnone\t4K\t------\t0x0\t-1\n" SUM(0, 16, 0, 0) "x\n" },
		{ "no final newline", HDR "0x10000\t16\tnone\t4K\t------\t0x0\t-1\n"
		  "# summary pages=16 unmapped=0 none=16 zero=0 present=0 swap=0 migration=0 other=0" },
		{ "NUL byte", HDR "0x10000\t16\tno\0ne" },
		{ "bad header pid", "# memtrace pid=x start=0x10000 end=0x20000 page_size=4096 mode=runs\n" },
		{ "header end<=start", "# memtrace pid=1 start=0x20000 end=0x20000 page_size=4096 mode=runs\n" },
		{ "header unaligned", "# memtrace pid=1 start=0x10001 end=0x20000 page_size=4096 mode=runs\n" },
		{ "header bad mode", "# memtrace pid=1 start=0x10000 end=0x20000 page_size=4096 mode=x\n" },
		{ "pages mode run", "# memtrace pid=42 start=0x10000 end=0x20000 page_size=4096 mode=pages\n"
		  "# addr\tpages\tstate\tsize\tflags\tpfn\tnode\n"
		  "0x10000\t16\tnone\t4K\t------\t0x0\t-1\n" SUM(0, 16, 0, 0) },
		{ "summary missing a state", HDR "0x10000\t16\tnone\t4K\t------\t0x0\t-1\n"
		  "# summary pages=16 unmapped=0 none=16 zero=0 present=0 swap=0 migration=0\n" },
	};

	memset(&c, 0, sizeof(c));
	tap_expect(!feed_all(good, &c, &a, 1 << 20) && c.n == 4, "answer: good, one chunk");
	tap_expect(c.r[0].addr == 0x10000 && c.r[0].pages == 4 && c.r[0].state == MEMTRACE_PRESENT &&
	   c.r[0].flags == (MEMTRACE_F_ANON | MEMTRACE_F_WRITE | MEMTRACE_F_DIRTY |
			    MEMTRACE_F_YOUNG | MEMTRACE_F_EXCL) && c.r[0].pfn == 0x1234 &&
	   c.r[0].node == 0, "answer: record fields");
	tap_expect(c.r[1].state == MEMTRACE_ZERO && c.r[1].node == -1 && c.r[3].state == MEMTRACE_UNMAPPED,
	   "answer: zero and unmapped records");
	tap_expect(a.hdr.pid == 42 && a.hdr.start == 0x10000 && a.hdr.end == 0x20000 &&
	   a.hdr.page_size == 4096 && a.hdr.mode == MEMTRACE_MODE_RUNS, "answer: header");
	tap_expect(a.sum.pages == 16 && a.sum.count[MEMTRACE_NONE] == 6, "answer: summary");
	memset(&c, 0, sizeof(c));
	tap_expect(!feed_all(good, &c, &a, 1) && c.n == 4, "answer: good, fed a byte at a time");
	memset(&c, 0, sizeof(c));
	tap_expect(!feed_all(good, &c, &a, 7) && c.n == 4, "answer: good, 7-byte chunks");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i].text);
		int ret;

		if (!strcmp(bad[i].name, "NUL byte"))
			len = sizeof(HDR "0x10000\t16\tno\0ne") - 1;
		memset(&c, 0, sizeof(c));
		mt_answer_init(&a, collect_cb, &c);
		ret = mt_answer_feed(&a, bad[i].text, len);
		if (!ret)
			ret = mt_answer_finish(&a);
		tap_expect(ret == -EPROTO && a.err[0], "answer malformed: %s (%s)", bad[i].name, a.err);
	}
	tap_expect(!mt_parse_record("0x7f0000000000\t16\tpresent\t2M\ta-wdy-x\t0x1234\t0", &r, err,
			    sizeof(err)) && (r.flags & MEMTRACE_F_SIZE_2M),
	   "record: the header's 7-letter example word parses, 2M size");
	{
		char fb[16];
		uint64_t b = 0;

		tap_expect(!mt_parse_record("0x7f0000000000\t1\tpresent\t4K\ta-wdy-x\t0x1234\t0\t64K",
					    &r, err, sizeof(err)) && r.folio == 65536 &&
			   !strcmp(mt_folio_text(&r, fb), "64K"),
			   "record: an 8th column, the folio size, 64K");
		tap_expect(!mt_parse_record("0x7f0000000000\t1\tnone\t4K\t------\t0x0\t-1\t-",
					    &r, err, sizeof(err)) && r.folio == 1 &&
			   !strcmp(mt_folio_text(&r, fb), "-"),
			   "record: folio '-' for a page with none");
		tap_expect(mt_parse_record("0x7f0000000000\t1\tpresent\t4K\ta-----\t0x1\t0\t3K",
					   &r, err, sizeof(err)) &&
			   mt_parse_folio("64", 2, &b) && mt_parse_folio("0K", 2, &b) &&
			   mt_parse_folio("1024K", 5, &b) && !mt_parse_folio("2M", 2, &b) &&
			   b == 2 << 20 && !strcmp(mt_folio_name(b, fb), "2M") &&
			   !strcmp(mt_folio_name(64ULL << 30, fb), "64G"),
			   "folio sizes: powers of two below 1024 of a unit; 2M and 64G both ways");
	}
	tap_expect(!mt_parse_flags("s-w---", 6, &f) && f == (MEMTRACE_F_SHMEM | MEMTRACE_F_WRITE),
	   "flags: shmem write");
	tap_expect(!mt_parse_flags("fh----", 6, &f) && f == (MEMTRACE_F_FILE | MEMTRACE_F_HUGETLB),
	   "flags: file hugetlb");
	tap_expect(mt_parse_flags("a-ww--", 6, &f) && mt_parse_flags("", 0, &f) &&
	   mt_parse_flags("A-----", 6, &f), "flags: repeated, empty, capital rejected");
	mt_format_flags(MEMTRACE_F_ANON | MEMTRACE_F_WRITE | MEMTRACE_F_YOUNG, fl);
	tap_expect(!strcmp(fl, "a-w-y-") && strlen(fl) == MEMTRACE_FLAGS_WIDTH, "flags format: %s", fl);
	mt_format_flags(MEMTRACE_F_FILE | MEMTRACE_F_HUGETLB | MEMTRACE_F_DIRTY | MEMTRACE_F_EXCL, fl);
	tap_expect(!strcmp(fl, "fh-d-x"), "flags format: %s", fl);
	tap_expect(!mt_parse_flags(fl, strlen(fl), &f) &&
	   f == (MEMTRACE_F_FILE | MEMTRACE_F_HUGETLB | MEMTRACE_F_DIRTY | MEMTRACE_F_EXCL),
	   "flags round trip");
	tap_expect(!strcmp(mt_size_name(MEMTRACE_F_SIZE_1G, 4096), "1G") &&
	   !strcmp(mt_size_name(MEMTRACE_F_SIZE_2M, 4096), "2M") && !strcmp(mt_size_name(0, 4096), "4K"),
	   "size names, 4K pages");
	/* arm64-16k: a PMD maps 32M, a PUD 64G (issue 21) */
	tap_expect(!strcmp(mt_size_name(0, 16384), "16K") &&
	   !strcmp(mt_size_name(MEMTRACE_F_SIZE_PMD, 16384), "32M") &&
	   !strcmp(mt_size_name(MEMTRACE_F_SIZE_PUD, 16384), "64G") &&
	   !strcmp(mt_size_name(MEMTRACE_F_SIZE_PMD, 4096), "2M"),
	   "size names, 16K pages: 16K, 32M, 64G (and back to 4K pages)");
	tap_expect(!mt_parse_record("0x7f0000000000\t2048\tpresent\t32M\ta-wdy-x\t0x1234\t0", &r, err,
			    sizeof(err)) && (r.flags & MEMTRACE_F_SIZE_MASK) == MEMTRACE_F_SIZE_PMD &&
	   !mt_parse_record("0x7f0000000000\t1\tpresent\t16K\ta-wdy-x\t0x1234\t0", &r, err,
			    sizeof(err)) && !(r.flags & MEMTRACE_F_SIZE_MASK) &&
	   !mt_parse_record("0x7f0000000000\t1\tpresent\t64G\ta-wdy-x\t0x1234\t0", &r, err,
			    sizeof(err)) && (r.flags & MEMTRACE_F_SIZE_MASK) == MEMTRACE_F_SIZE_PUD &&
	   mt_parse_record("0x7f0000000000\t1\tpresent\t8K\ta-wdy-x\t0x1234\t0", &r, err,
			   sizeof(err)) &&
	   mt_parse_record("0x7f0000000000\t1\tpresent\t04K\ta-wdy-x\t0x1234\t0", &r, err,
			   sizeof(err)),
	   "record sizes of 16K pages: 16K, 32M (PMD), 64G (PUD); 8K and 04K rejected");
	mt_format_flags(MEMTRACE_F_FILE | MEMTRACE_F_DIRTY | MEMTRACE_F_WRITEBACK, fl);
	tap_expect(!strcmp(fl, "f--d--b") && !mt_parse_flags(fl, strlen(fl), &f) &&
	   f == (MEMTRACE_F_FILE | MEMTRACE_F_DIRTY | MEMTRACE_F_WRITEBACK),
	   "flags: a cached page under writeback, 7 letters, round trip: %s", fl);
	tap_expect(mt_state_from_name("cached", 6) == MEMTRACE_CACHED &&
	   !strcmp(mt_state_names[MEMTRACE_CACHED], "cached"), "state: cached");
	tap_expect(mt_state_from_name("migration", 9) == MEMTRACE_MIGRATION &&
	   mt_state_from_name("presentx", 8) == -1, "state names from the contract");
}

/* ---- pagemap decoding and the check ---- */

struct dis_log {
	int n;
	const char *why;
};

static void dis_cb(const struct mt_disagreement *d, void *arg)
{
	struct dis_log *l = arg;

	l->n++;
	l->why = d->why;
}

static void test_pagemap(void)
{
	struct mt_pagemap pm = { .fd = -1, .page_size = 4096, .base = 0x10000, .n = 4 };
	struct dis_log log = { 0 };
	struct mt_check c = { .pm = &pm, .cmp_pfn = true, .page_size = 4096,
			      .on_disagree = dis_cb, .arg = &log };
	struct mt_record r = { .addr = 0x10000, .pages = 1, .state = MEMTRACE_PRESENT,
			       .flags = MEMTRACE_F_ANON, .pfn = 0x1234 };
	uint64_t e;
	char buf[96];
	char *p;

	pm.cache[0] = MT_PM_PRESENT | 0x1234;
	pm.cache[1] = MT_PM_SWAP | (0x55ULL << 5) | 3;
	pm.cache[2] = 0;
	pm.cache[3] = MT_PM_PRESENT | MT_PM_FILE;	/* pfn hidden */
	tap_expect(mt_pm_present(pm.cache[0]) && mt_pm_pfn(pm.cache[0]) == 0x1234 &&
	   !mt_pm_swap(pm.cache[0]), "pagemap: present bit 63, pfn bits 0-54");
	tap_expect(mt_pm_swap(pm.cache[1]) && !mt_pm_present(pm.cache[1]), "pagemap: swap bit 62");
	tap_expect(mt_pm_pfn(~0ULL) == (1ULL << 55) - 1, "pagemap: pfn mask 55 bits");
	p = (char *)mt_pm_describe(pm.cache[1], buf, sizeof(buf));
	tap_expect(strstr(p, "type=3") && strstr(p, "offset=0x55"), "pagemap describe swap: %s", p);
	tap_expect(!mt_pagemap_get(&pm, 0x12000, &e) && e == 0, "pagemap cache hit");

	tap_expect(!mt_check_record(&c, &r) && c.agree == 1 && !log.n, "check: present = present");
	r.pfn = 0x999;
	tap_expect(!mt_check_record(&c, &r) && log.n == 1 && strstr(log.why, "pfn"), "check: pfn differs");
	r.addr = 0x12000;
	tap_expect(!mt_check_record(&c, &r) && log.n == 2, "check: present vs not present");
	r.state = MEMTRACE_NONE;
	tap_expect(!mt_check_record(&c, &r) && log.n == 2, "check: none = not present");
	r.addr = 0x11000;
	tap_expect(!mt_check_record(&c, &r) && log.n == 3 && strstr(log.why, "swapped"),
	   "check: none vs swapped");
	r.state = MEMTRACE_SWAP;
	r.pfn = (0x55ULL << 5) | 3;
	tap_expect(!mt_check_record(&c, &r) && log.n == 3, "check: swap entry matches");
	r.state = MEMTRACE_PRESENT;
	r.addr = 0x13000;
	r.pfn = 0;
	c.cmp_pfn = true;
	tap_expect(!mt_check_record(&c, &r) && log.n == 4 && strstr(log.why, "file"),
	   "check: anon here, file in pagemap");
	r.flags = MEMTRACE_F_FILE;
	tap_expect(!mt_check_record(&c, &r) && log.n == 4, "check: file, pfn hidden on both sides");
	r.state = MEMTRACE_UNMAPPED;
	r.addr = 0x12000;
	tap_expect(!mt_check_record(&c, &r) && log.n == 4, "check: unmapped = not present");
	r.addr = 0x10000;
	r.pages = 2;
	tap_expect(!mt_check_record(&c, &r) && log.n == 6, "check: unmapped run vs present and swapped");
}

/* ---- JSON ---- */

static char *json_of(const char *s, size_t len)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	mt_json_strn(f, s, len);
	fclose(f);
	return out;
}

static void test_json(void)
{
	static const struct { const char *in, *out; } t[] = {
		{ "plain", "\"plain\"" },
		{ "/tmp/a\"b", "\"/tmp/a\\\"b\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "tab\there", "\"tab\\there\"" },
		{ "nl\nx", "\"nl\\nx\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		{ "/f (deleted)", "\"/f (deleted)\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
		{ "bad\xff\xc3", "\"bad\\ufffd\\ufffd\"" },
		{ "\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xe2\x82\xac\xf0\x9f\x98\x80\"" },
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },	/* surrogate */
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },			/* overlong */
		{ "", "\"\"" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *s = json_of(t[i].in, strlen(t[i].in));

		tap_expect(!strcmp(s, t[i].out), "json escape #%zu: %s", i, s);
		free(s);
	}
	{
		char *s = json_of("a\0b", 3);

		tap_expect(!strcmp(s, "\"a\\u0000b\""), "json escape NUL: %s", s);
		free(s);
	}
}

/* ---- sizes for people (issue 18.6): binary units, one decimal where useful ---- */

static void test_sizes(void)
{
	static const struct { uint64_t bytes; const char *out; } t[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1 KiB" }, { 1536, "1.5 KiB" },
		{ 4096, "4 KiB" }, { 2 << 20, "2 MiB" }, { (1 << 20) - 1, "1.0 MiB" },
		{ 3379ULL << 10, "3.3 MiB" }, { 0x7ffffffff000ULL, "128.0 TiB" },
		{ 1ULL << 40, "1 TiB" }, { UINT64_MAX, "16.0 EiB" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mt_human_size(t[i].bytes, buf, sizeof(buf));
		tap_expect(!strcmp(buf, t[i].out), "size %llu: %s (want %s)",
			   (unsigned long long)t[i].bytes, buf, t[i].out);
	}
	tap_expect(!strcmp(mt_human_kb_delta(-1536, buf, sizeof(buf)), "-1.5 MiB"),
		   "size delta -1536 KiB: %s", buf);
	tap_expect(!strcmp(mt_human_kb_delta(32, buf, sizeof(buf)), "+32 KiB"),
		   "size delta 32 KiB: %s", buf);
	tap_expect(!*mt_plural(1) && !strcmp(mt_plural(0), "s") && !strcmp(mt_plural(2), "s"),
		   "1 page, 0 pages, 2 pages");
}

/* ---- picture ---- */

static void test_picture(void)
{
	struct mt_record recs[] = {
		{ .addr = 0x10000, .pages = 3, .state = MEMTRACE_PRESENT },
		{ .addr = 0x13000, .pages = 1, .state = MEMTRACE_PRESENT, .flags = MEMTRACE_F_SIZE_2M },
		{ .addr = 0x14000, .pages = 2, .state = MEMTRACE_ZERO },
		{ .addr = 0x16000, .pages = 1, .state = MEMTRACE_NONE },
		{ .addr = 0x17000, .pages = 1, .state = MEMTRACE_SWAP },
		{ .addr = 0x18000, .pages = 1, .state = MEMTRACE_MIGRATION },
		{ .addr = 0x19000, .pages = 1, .state = MEMTRACE_OTHER },
		{ .addr = 0x1a000, .pages = 2, .state = MEMTRACE_UNMAPPED },
		{ .addr = 0x1c000, .pages = 100, .state = MEMTRACE_UNMAPPED },
		{ .addr = 0x80000, .pages = 10, .state = MEMTRACE_NONE },
	};
	struct mt_picture p;
	char fill[12], *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	mt_picture_init(&p, f, 4096, 8, false, true);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		mt_picture_add(&p, &recs[i]);
	mt_picture_end(&p);
	fclose(f);
	tap_expect(!strcmp(out, "  0x000000010000  ###H00.S\n"
			"  0x000000018000  M?  \n"
			"  0x00000001c000  (100 pages unmapped, 400 KiB)\n"
			"  0x000000080000  ........\n"
			"  0x000000088000  ..\n"), "picture rows");
	free(out);
	memset(fill, 'x', sizeof(fill));
	for (size_t i = 0; i < 7; i++)
		mt_picture_fill(fill, 0x12000, 12, 4096, &recs[i]);
	tap_expect(!memcmp(fill, "#H00.SM?xxxx", 12), "picture fill clips to the window: %.12s", fill);
	tap_expect(mt_picture_char(MEMTRACE_UNMAPPED, 0) == ' ' && mt_picture_char(MEMTRACE_ZERO, 0) == '0',
	   "picture chars");
	out = NULL;
	f = open_memstream(&out, &n);
	mt_picture_legend(f, false, 80, false);
	fclose(f);
	tap_expect(strstr(out, "'#' present") && strstr(out, "' ' unmapped") && !strchr(out, '\033'),
	   "legend without color");
	free(out);

	/* issue 18.5: 26 columns leave 8 cells a row; 1024 pages at 64 rows: 2 pages a cell */
	{
		struct mt_record big[] = {
			{ .addr = 0, .pages = 5, .state = MEMTRACE_PRESENT },
			{ .addr = 0x5000, .pages = 1019, .state = MEMTRACE_NONE },
		};

		out = NULL;
		f = open_memstream(&out, &n);
		mt_picture_init(&p, f, 4096, 0, false, true);
		mt_picture_fit(&p, 26, 1024);
		tap_expect(p.width == 8 && p.scale == 2, "picture fit: %u cells of %llu pages",
			   p.width, (unsigned long long)p.scale);
		for (size_t i = 0; i < 2; i++)
			mt_picture_add(&p, &big[i]);
		mt_picture_end(&p);
		mt_picture_scale_note(&p);
		fclose(f);
		tap_expect(!strncmp(out, "  0x000000000000  ##+.....\n  0x000000010000  ........\n", 52) &&
			   p.rows == 64 && strstr(out, "scale: a cell is 2 pages (8 KiB)"),
			   "scaled picture: 64 rows, a mixed cell as '+', the scale said");
		free(out);
		out = NULL;
		f = open_memstream(&out, &n);
		mt_picture_legend(f, false, 40, false);
		fclose(f);
		tap_expect(strlen(out) > 40 && !strstr(out, "\n\n"), "legend wrapped");
		tap_expect(!strstr(out, "cached"), "legend: no cached without --cached");
		for (char *l = out; *l; l += strcspn(l, "\n") + 1)
			if (strcspn(l, "\n") > 40)
				tap_expect(false, "legend line over 40 columns: %.60s", l);
		free(out);
		out = NULL;
		f = open_memstream(&out, &n);
		mt_picture_legend(f, false, 80, true);
		fclose(f);
		tap_expect(strstr(out, "'c' cached") != NULL, "legend: 'c' cached with --cached");
		free(out);
	}
}

/* ---- issue 19: filters, totals, the JSON reader, snapshots, diff ---- */

static void test_filter(void)
{
	struct mt_filter f = { 0 };
	struct mt_totals t = { 0 };
	struct mt_record thp = { .pages = 512, .state = MEMTRACE_PRESENT, .node = 1,
				 .flags = MEMTRACE_F_ANON | MEMTRACE_F_WRITE | MEMTRACE_F_EXCL |
					  MEMTRACE_F_SIZE_2M };
	struct mt_record ht = { .pages = 512, .state = MEMTRACE_PRESENT, .node = 0,
				.flags = MEMTRACE_F_ANON | MEMTRACE_F_HUGETLB |
					 MEMTRACE_F_SIZE_2M };
	struct mt_record none = { .pages = 3, .state = MEMTRACE_NONE, .node = -1 };
	static const char *const bad_flags[] = { "", "q", "2M,", "-4K", "w,-w", "ww", "--w" };
	char err[MT_ERR_MAX] = "";

	tap_expect(mt_filter_match(&f, MEMTRACE_NONE, 0) && mt_filter_match(NULL, 0, 0),
		   "filter: none given matches every page");
	tap_expect(!mt_filter_states(&f, "present,zero", err, sizeof(err)) &&
		   mt_filter_match(&f, MEMTRACE_ZERO, 0) && !mt_filter_match(&f, MEMTRACE_NONE, 0),
		   "filter: --state present,zero");
	tap_expect(mt_filter_states(&f, "present,", err, sizeof(err)) == -EINVAL &&
		   strstr(err, "unknown state ''"), "filter: --state 'present,' refused (%s)", err);
	memset(&f, 0, sizeof(f));
	tap_expect(!mt_filter_flags(&f, "2M,x,-w", err, sizeof(err)) &&
		   mt_filter_match(&f, MEMTRACE_PRESENT, MEMTRACE_F_SIZE_2M | MEMTRACE_F_EXCL) &&
		   !mt_filter_match(&f, MEMTRACE_PRESENT, thp.flags) &&
		   !mt_filter_match(&f, MEMTRACE_PRESENT, MEMTRACE_F_EXCL),
		   "filter: --flags 2M,x,-w (%s)", err);
	memset(&f, 0, sizeof(f));
	tap_expect(!mt_filter_flags(&f, "anon,~hugetlb,4K", err, sizeof(err)) &&
		   mt_filter_match(&f, MEMTRACE_PRESENT, MEMTRACE_F_ANON) &&
		   !mt_filter_match(&f, MEMTRACE_PRESENT, thp.flags) &&
		   !mt_filter_match(&f, MEMTRACE_PRESENT, MEMTRACE_F_FILE),
		   "filter: --flags anon,~hugetlb,4K: names, ~ and 4K (%s)", err);
	for (size_t i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
		memset(&f, 0, sizeof(f));
		err[0] = '\0';
		tap_expect(mt_filter_flags(&f, bad_flags[i], err, sizeof(err)) == -EINVAL && *err,
			   "filter: --flags '%s' refused (%s)", bad_flags[i], err);
	}
	mt_totals_add(&t, &thp, 512);
	mt_totals_add(&t, &ht, 100);
	mt_totals_add(&t, &none, 3);
	tap_expect(t.pages == 615 && t.state[MEMTRACE_PRESENT] == 612 &&
		   t.state[MEMTRACE_NONE] == 3 &&
		   t.thp == 512 && t.hugetlb == 100 && t.excl == 512 && t.shared == 100 &&
		   t.node[1] == 512 && t.node[0] == 100 && !t.node_other,
		   "totals: per state, node, THP, hugetlb, exclusive and shared");
}

static void test_json_reader(void)
{
	static const char *const bad[] = {
		"", " ", "{", "[", "]", "{\"a\"}", "{\"a\":}", "{a:1}", "[1,]", "[1 2]", "01",
		"1.5", "1e3", "-", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00x\"",
		"\"\\u0000\"", "\"a\tb\"", "tru", "nul", "{} {}", "[]]", "\"\\ud800\\u0041\"",
	};
	struct mt_jval v;
	char err[MT_ERR_MAX] = "", deep[200];
	const char *ok = "{\"a\":[1,-2,\"x\\u00e9\\ud83d\\ude00\\n\",true,false,null,{}],\"b\":{}}";

	tap_expect(!mt_json_parse(ok, strlen(ok), &v, err, sizeof(err)) && v.type == MT_J_OBJ &&
		   v.n == 2 && mt_json_get(&v, "a")->n == 7 &&
		   !strcmp(mt_json_get(&v, "a")->v[1].s, "-2") &&
		   !strcmp(mt_json_get(&v, "a")->v[2].s, "x\xc3\xa9\xf0\x9f\x98\x80\n") &&
		   mt_json_get(&v, "a")->v[3].b && !mt_json_get(&v, "a")->v[4].b &&
		   !mt_json_get(&v, "c"), "json reader: a document (%s)", err);
	mt_json_free(&v);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		tap_expect(mt_json_parse(bad[i], strlen(bad[i]), &v, err, sizeof(err)) == -EINVAL &&
			   !strncmp(err, "line ", 5) && v.type == MT_J_NULL && !v.v,
			   "json reader: '%s' refused (%s)", bad[i], err);
	}
	memset(deep, '[', sizeof(deep));
	tap_expect(mt_json_parse(deep, sizeof(deep), &v, err, sizeof(err)) == -EINVAL &&
		   strstr(err, "nested more than"),
		   "json reader: 200 nested arrays refused (%s)", err);
}

/* Two snapshots of [0x10000, 0x20000): a, and b with pages 4-7 written. */
static void make_snaps(struct mt_snap *a, struct mt_snap *b, unsigned int ps)
{
	struct mt_header h = { .pid = 42, .start = 0x10000, .end = 0x10000 + 16 * ps,
			       .page_size = ps };
	struct mt_record w = { .state = MEMTRACE_PRESENT, .node = 0,
			       .flags = MEMTRACE_F_ANON | MEMTRACE_F_WRITE };
	struct mt_record n = { .state = MEMTRACE_NONE, .node = -1 };

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	w.addr = h.start;
	w.pages = 4;
	mt_snap_add(&h, &w, a);
	mt_snap_add(&h, &w, b);
	n.addr = h.start + 4 * ps;
	n.pages = 12;
	mt_snap_add(&h, &n, a);
	w.addr = n.addr;
	w.pages = 2;
	mt_snap_add(&h, &w, b);
	w.addr += 2 * ps;
	w.pages = 4;
	w.flags |= MEMTRACE_F_DIRTY;
	mt_snap_add(&h, &w, b);	/* another run: its flags differ */
	n.addr += 6 * ps;
	n.pages = 6;
	mt_snap_add(&h, &n, b);
	a->sum = (struct mt_summary){ .pages = 16, .count = { [MEMTRACE_NONE] = 12,
							       [MEMTRACE_PRESENT] = 4 } };
	b->sum = (struct mt_summary){ .pages = 16, .count = { [MEMTRACE_NONE] = 6,
							       [MEMTRACE_PRESENT] = 10 } };
	a->rss_kb = 100;
	b->rss_kb = -1;
	strcpy(a->time, "2026-12-01T00:00:00Z");
	strcpy(b->time, a->time);
	a->range = mt_xstrdup("[heap]");
	b->range = mt_xstrdup("0x10000+64K");
}

static char *snap_text(const struct mt_snap *s, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	mt_snap_write(f, s);
	fclose(f);
	return buf;
}

struct diff_log {
	struct mt_change c[8];
	size_t n, maps;
};

static void log_nothing(const struct mt_diff *d, void *arg)
{
	(void)d;
	(void)arg;
}

static void log_map(const struct mt_diff *d, const struct mt_map *m, bool added, void *arg)
{
	(void)d;
	(void)m;
	(void)added;
	((struct diff_log *)arg)->maps++;
}

static void log_change(const struct mt_diff *d, const struct mt_change *c, void *arg)
{
	struct diff_log *l = arg;

	(void)d;
	if (l->n < 8)
		l->c[l->n] = *c;
	l->n++;
}

static const struct mt_diff_ops log_ops = {
	log_nothing, log_map, log_nothing, log_change, log_nothing
};

static bool rec_eq(const struct mt_record *x, const struct mt_record *y)
{
	return x->addr == y->addr && x->pages == y->pages && x->state == y->state &&
	       x->flags == y->flags && x->pfn == y->pfn && x->node == y->node;
}

static void test_snapshot(void)
{
	unsigned int ps = (unsigned int)sysconf(_SC_PAGESIZE);
	struct mt_snap a, b, r;
	struct mt_diff d;
	struct diff_log log = { 0 };
	char err[MT_ERR_MAX] = "";
	size_t len, refused = 0;
	char *text;

	make_snaps(&a, &b, ps);
	text = snap_text(&b, &len);
	tap_expect(!mt_snap_parse(text, len, &r, err, sizeof(err)) && r.nrecs == 4 &&
		   r.rss_kb == -1, "snapshot: b read back (%s)", err);
	mt_snap_free(&r);
	free(text);
	text = snap_text(&a, &len);
	tap_expect(!mt_snap_parse(text, len, &r, err, sizeof(err)) && r.nrecs == 2 &&
		   r.hdr.pid == 42 && r.hdr.page_size == ps && r.rss_kb == 100 &&
		   !strcmp(r.range, "[heap]") && rec_eq(&r.recs[0], &a.recs[0]) &&
		   rec_eq(&r.recs[1], &a.recs[1]) &&
		   !memcmp(&r.sum, &a.sum, sizeof(r.sum)),
		   "snapshot: written and read back the same (%s)", err);
	mt_snap_free(&r);
	/* cut anywhere (but in the final newline), it is refused, never crashes */
	for (size_t cut = 0; cut + 1 < len; cut++)
		refused += mt_snap_parse(text, cut, &r, err, sizeof(err)) == -EINVAL;
	tap_expect(refused == len - 1, "snapshot: every one of %zu cut copies refused", len - 1);
	free(text);
	tap_expect(!mt_diff_init(&d, &a, &b, err, sizeof(err)), "diff: init (%s)", err);
	mt_diff_run(&d, &log_ops, &log);
	tap_expect(log.n == 2 && d.changed == 6 && d.nchanges == 2 &&
		   log.c[0].addr == 0x10000 + 4 * ps && log.c[0].pages == 2 &&
		   log.c[0].from.state == MEMTRACE_NONE && log.c[0].to.state == MEMTRACE_PRESENT &&
		   log.c[1].pages == 4 && (log.c[1].to.flags & MEMTRACE_F_DIRTY) &&
		   d.moves[MEMTRACE_NONE][MEMTRACE_PRESENT] == 6 && d.ta.pages == 16 &&
		   d.tb.state[MEMTRACE_PRESENT] == 10,
		   "diff: two runs (the flags differ), 6 pages none -> present (%zu runs, %llu pages)",
		   log.n, (unsigned long long)d.changed);
	mt_diff_init(&d, &a, &b, err, sizeof(err));
	d.filter = &(struct mt_filter){ .active = true, .states = 1U << MEMTRACE_ZERO };
	log.n = 0;
	mt_diff_run(&d, &log_ops, &log);
	tap_expect(!log.n && !d.changed, "diff: --state zero keeps no change");
	{
		struct mt_snap a2, b2;

		make_snaps(&a2, &b2, ps);
		b2.recs[0].flags |= MEMTRACE_F_DIRTY;
		mt_diff_init(&d, &b, &b2, err, sizeof(err));
		log.n = 0;
		mt_diff_run(&d, &log_ops, &log);
		tap_expect(log.n == 1 && log.c[0].pages == 4 && d.changed == 4 &&
			   log.c[0].from.state == MEMTRACE_PRESENT &&
			   log.c[0].to.state == MEMTRACE_PRESENT &&
			   log.c[0].to.flags == (log.c[0].from.flags | MEMTRACE_F_DIRTY),
			   "diff: a change of flags alone is a change");
		mt_snap_free(&a2);
		mt_snap_free(&b2);
	}
	b.hdr.page_size = ps * 2;
	tap_expect(mt_diff_init(&d, &a, &b, err, sizeof(err)) == -EINVAL &&
		   strstr(err, "page sizes"), "diff: other page sizes refused (%s)", err);
	mt_snap_free(&a);
	mt_snap_free(&b);
}

int main(void)
{
	test_range();
	test_module_hint();
	test_numbers_maps();
	test_answer();
	test_pagemap();
	test_json();
	test_sizes();
	test_picture();
	test_filter();
	test_json_reader();
	test_snapshot();
	return tap_done();
}
