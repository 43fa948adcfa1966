// SPDX-License-Identifier: GPL-2.0
/*
 * rel-fuzz: /proc fuzzing: writes, reads, seeks and split queries on
 * /proc/memtrace, each outcome judged by the oracle.
 */
#include "fuzz.h"

struct pfd {
	int fd;
	bool active;		/* a query (own or replayed) is being answered */
	bool eof;
	bool broken;		/* the checker already failed it */
	struct rl_check c;
	struct rl_text t;
};

struct pstats fz_ps;
int fz_fails_shown;

void fz_fail_once(const char *fmt, ...)
{
	va_list ap;

	if (fz_fails_shown++ >= 12)
		return;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void pfd_reopen(struct pfd *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = open("/proc/memtrace", O_RDWR);
	if (f->fd < 0) {
		printf("not ok - open /proc/memtrace: %s\n", strerror(errno));
		exit(1);
	}
	f->active = false;
	f->eof = false;
	f->broken = false;
}

static void pfd_expect(struct pfd *f, const struct expect *x)
{
	rl_check_init(&f->c, x->pid, x->start, x->end, x->mode, fz_is_root);
	rl_text_init(&f->t, &f->c);
	f->active = true;
	f->eof = false;
	f->broken = false;
}

/* One read(2) of up to count bytes, checked against what the file must say. */
static void pfd_read(struct pfd *f, size_t count)
{
	static char buf[8192];
	bool replay = !f->active;
	ssize_t n;

	fz_doing = "read";
	if (count > sizeof(buf))
		count = sizeof(buf);
	n = read(f->fd, buf, count);
	fz_ps.reads++;
	fz_progress++;
	if (replay) {
		/*
		 * no query of its own: ENODATA, whatever this user or process
		 * wrote to other files (no "last query" is ever replayed)
		 */
		if (n < 0 && errno == ENODATA) {
			fz_ps.enodata++;
			return;
		}
		fz_ps.bad++;
		fz_fail_once("read without a query of its own: %s (%zd)",
			     n < 0 ? strerror(errno) : "answered", n);
		return;
	}
	if (n < 0) {
		fz_ps.bad++;
		fz_fail_once("read: %s", strerror(errno));
		f->active = false;
		return;
	}
	if (f->broken)
		return;
	if (f->eof) {
		if (n) {
			fz_ps.bad++;
			fz_fail_once("read after EOF gave %zd bytes", n);
		}
		return;
	}
	if (!n) {
		f->eof = true;
		if (!rl_text_end(&f->t)) {
			fz_ps.bad++;
			fz_fail_once("answer: %s", f->c.err);
		}
		return;
	}
	if (!rl_text_feed(&f->t, buf, n)) {
		fz_ps.bad++;
		fz_fail_once("answer: %s", f->c.err);
		f->broken = true;	/* stop checking this one */
	}
}

/* One write, judged by the oracle. */
static void pfd_write(struct pfd *f, const char *q, size_t len)
{
	struct expect xl, x = fz_oracle(q, len, &xl);
	ssize_t n;
	int err;

	fz_doing = "write";
	n = write(f->fd, q, len);
	err = n < 0 ? errno : 0;
	fz_ps.writes++;
	fz_progress++;
	if (n >= 0 && (size_t)n != len) {
		fz_ps.bad++;
		fz_fail_once("write of %zu bytes returned %zd: '%s'", len, n, rl_escape(q, len));
		return;
	}
	if (!fz_xbit(err)) {
		fz_ps.bad++;
		fz_fail_once("write: undocumented errno %s for '%s'", strerror(err), rl_escape(q, len));
		return;
	}
	if (err) {
		fz_ps.errs++;
		fz_ps.by_err[__builtin_ctz(fz_xbit(err))]++;
	} else {
		fz_ps.ok++;
	}
	if (!(fz_xbit(err) & x.allowed)) {
		if (fz_xbit(err) & xl.allowed) {
			if (!fz_ps.known_dev++)
				tap_diag("known deviation (signed or doubly prefixed numbers): '%s' "
					 "gave %s, the grammar allows %s", rl_escape(q, len),
					 err ? strerror(err) : "success", fz_xnames(x.allowed));
		} else {
			fz_ps.dev++;
			fz_fail_once("contract: '%s' gave %s, the grammar allows %s (the kstrtoull "
				     "reading %s)", rl_escape(q, len), err ? strerror(err) : "success",
				     fz_xnames(x.allowed), fz_xnames(xl.allowed));
		}
	}
	if (!err) {
		/* the answer is to the line as the module read it */
		pfd_expect(f, &xl);
	}
}

void fz_proc_fuzz(unsigned long count, bool child)
{
	struct pfd f = { .fd = -1 };
	char q[600];
	struct toks t;
	size_t len;

	pfd_reopen(&f);
	if (child) {
		/* a user that never wrote a query: a read must say ENODATA */
		pfd_read(&f, 100);
	}
	while (fz_ps.writes < count) {
		unsigned int what = rl_below(&fz_rng, 1000);

		if (rl_chance(&fz_rng, 2))
			pfd_reopen(&f);
		if (what < 600) {		/* grammar-aware */
			fz_valid_query(&t, rl_chance(&fz_rng, 70));
			if (rl_chance(&fz_rng, 50))
				fz_mutate_tokens(&t);
			len = fz_render(&t, q, 300);
			if (rl_chance(&fz_rng, 15))
				len = fz_mutate_bytes(q, len, 300);
			pfd_write(&f, q, len);
		} else if (what < 700) {	/* valid, untouched */
			fz_valid_query(&t, false);
			len = fz_render(&t, q, 300);
			pfd_write(&f, q, len);
		} else if (what < 760) {	/* raw bytes */
			len = rl_below(&fz_rng, 300);
			for (size_t i = 0; i < len; i++)
				q[i] = rl_chance(&fz_rng, 50) ? (char)rl_next(&fz_rng) :
				       " 0123456789x+\tabcdefglnrsu\n"[rl_below(&fz_rng, 27)];
			pfd_write(&f, q, len);
		} else if (what < 800) {	/* 1 byte */
			q[0] = rl_chance(&fz_rng, 50) ? (char)rl_next(&fz_rng) : "0 \n+x9a"[rl_below(&fz_rng, 7)];
			pfd_write(&f, q, 1);
		} else if (what < 840) {	/* long: 255..400 bytes */
			fz_valid_query(&t, false);
			len = fz_render(&t, q, 300);
			while (len < 255 + rl_below(&fz_rng, 146) && len < sizeof(q))
				q[len++] = rl_chance(&fz_rng, 80) ? ' ' : 'a' + rl_below(&fz_rng, 26);
			if (rl_chance(&fz_rng, 30))
				q[len - 1] = '\n';
			pfd_write(&f, q, len);
		} else if (what < 880) {	/* a valid query in two writes */
			size_t k;

			fz_valid_query(&t, false);
			len = fz_render(&t, q, 300);
			k = 1 + rl_below(&fz_rng, len > 1 ? len - 1 : 1);
			fz_ps.splits++;
			pfd_write(&f, q, k);
			if (k < len)
				pfd_write(&f, q + k, len - k);
		} else if (what < 900) {	/* pwrite / pread / lseek */
			off_t off = rl_below(&fz_rng, 3) == 0 ? 0 : (off_t)rl_below(&fz_rng, 1 << 20);
			ssize_t n;

			fz_valid_query(&t, false);
			len = fz_render(&t, q, 300);
			fz_doing = "pwrite";
			switch (rl_below(&fz_rng, 3)) {
			case 0:
				n = pwrite(f.fd, q, len, off);
				fz_ps.writes++;
				break;
			case 1:
				n = pread(f.fd, q, sizeof(q), off);
				break;
			default:
				n = lseek(f.fd, off, rl_below(&fz_rng, 3));
			}
			fz_progress++;
			if (n >= 0 || errno != ESPIPE) {
				fz_ps.bad++;
				fz_fail_once("pwrite/pread/lseek at %lld: %zd (%s), want ESPIPE",
					     (long long)off, n, n < 0 ? strerror(errno) : "no error");
			} else {
				fz_ps.espipe++;
			}
		} else {			/* a read, of any size */
			pfd_read(&f, rl_chance(&fz_rng, 20) ? 1 + rl_below(&fz_rng, 16) :
				 rl_chance(&fz_rng, 50) ? 4096 : 1 + rl_below(&fz_rng, 8192));
			continue;
		}
		if (rl_chance(&fz_rng, 8))
			pfd_read(&f, rl_chance(&fz_rng, 30) ? 1 + rl_below(&fz_rng, 200) : 4096);
	}
	close(f.fd);
}

/* ---- netlink fuzzing ---- */
