// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace watch's loop: a frame every interval, on the deadline of the
 * first (a slow frame delays the next, never the cadence); on a terminal
 * the alternate screen, redrawn in place, with keys (q quits, space takes a
 * frame now), the window's size followed (SIGWINCH), Ctrl-Z and fg
 * (SIGTSTP, SIGCONT). Whatever ends the watch, q, a signal (SIGINT,
 * SIGTERM, SIGHUP: the terminal is restored, then the signal ends the
 * process as it would have), an error or exit(), leaves the terminal as it
 * was. The signals are blocked but while the loop waits (ppoll), so a frame
 * is never cut; the process's exit is seen at once through a pidfd.
 */
#define _GNU_SOURCE	/* ppoll */
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "watch.h"

static volatile sig_atomic_t got_signal, got_winch, got_tstp;
static struct termios saved_tio;
static bool tio_saved, on_screen, stdin_done;
static char frame_buf[1 << 16];

#define BY_SIGNAL MT_TERM_BY_SIGNAL

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		got_winch = 1;
	else if (sig == SIGTSTP)
		got_tstp = 1;
	else
		got_signal = sig;
}

static void handle(int sig, sigset_t *block)
{
	struct sigaction sa = { .sa_handler = on_signal }, old;

	/* one ignored when we started (a background job's SIGINT) stays ignored */
	if (sigaction(sig, NULL, &old) || old.sa_handler == SIG_IGN)
		return;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	sigaddset(block, sig);
}

/* The handlers; the signals blocked but in ppoll (*wait: the mask there). */
void mt_term_signals(bool screen, sigset_t *wait)
{
	sigset_t block;

	sigemptyset(&block);
	handle(SIGINT, &block);
	handle(SIGTERM, &block);
	handle(SIGHUP, &block);
	if (screen) {
		handle(SIGWINCH, &block);
		handle(SIGTSTP, &block);
	}
	sigprocmask(SIG_BLOCK, &block, wait);
}

void mt_term_leave(void)
{
	if (on_screen) {
		fputs("\033[?25h\033[?1049l", stdout);	/* the cursor; the main screen */
		fflush(stdout);
		on_screen = false;
	}
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
		tio_saved = false;
	}
}

/* The alternate screen, the cursor hidden, keys read one by one, unechoed. */
void mt_term_enter(void)
{
	static bool registered;
	struct termios t;

	if (!registered)
		registered = !atexit(mt_term_leave);
	if (!stdin_done && isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved_tio)) {
		t = saved_tio;
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		tio_saved = !tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
	fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
	fflush(stdout);
	on_screen = true;
}

/* The window's size: columns (unless NULL) and rows, left as they are if unknown */
void mt_term_size(unsigned int *columns, unsigned int *rows)
{
	struct winsize ws;

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col && ws.ws_row) {
		if (columns)
			*columns = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* The window's size (--width keeps the columns), and the cells that fit it. */
static void window_size(struct mt_watch *w)
{
	mt_term_size(w->fixed_width ? NULL : &w->columns, &w->rows);
	if (w->pages)
		mt_watch_fit(w);
}

/* Ctrl-Z: the terminal as it was while stopped, the screen again on fg */
static void suspend(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t s;

	mt_term_leave();
	signal(SIGTSTP, SIG_DFL);
	sigemptyset(&s);
	sigaddset(&s, SIGTSTP);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	raise(SIGTSTP);		/* stopped here until SIGCONT */
	sigprocmask(SIG_BLOCK, &s, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTSTP, &sa, NULL);
	mt_term_enter();
}

/* A line of the screen, cut to cols columns (escapes take none), cleared to its end */
static void put_cut(const char *s, size_t n, unsigned int cols)
{
	unsigned int vis = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\033') {	/* CSI ... final byte: kept, after the cut too */
			size_t j = i + 1;

			if (j < n && s[j] == '[')
				while (++j < n && (s[j] < 0x40 || s[j] > 0x7e))
					;
			fwrite(s + i, 1, (j < n ? j + 1 : n) - i, stdout);
			i = j;
		} else if (vis < cols) {
			putchar(s[i]);
			vis++;
		}
	}
	if (vis < cols)
		fputs("\033[K", stdout);
}

/* The lines of buf over the last screen, from the top: no blank screen in between */
void mt_term_draw(const char *buf, size_t len, unsigned int rows, unsigned int columns)
{
	const char *p, *end;
	unsigned int row = 0;

	fputs("\033[H", stdout);
	for (p = buf, end = buf + len; p < end && row < rows; row++) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		fputs(row ? "\r\n" : "", stdout);	/* none after the last: no scroll */
		put_cut(p, n, columns);
		p += n + (nl ? 1 : 0);
	}
	fputs("\033[J", stdout);
	fflush(stdout);
}

/* The frame over the last */
static void draw(const struct mt_watch *w)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	mt_watch_screen(w, f);
	fclose(f);
	mt_term_draw(buf, len, w->rows, w->columns);
	free(buf);
}

static int pidfd_of(long pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/* Has the process exited (a zombie, or reaped)? */
bool mt_watch_gone(const struct mt_watch *w)
{
	struct pollfd p = { .fd = w->pidfd, .events = POLLIN };
	char path[64];

	if (w->pidfd >= 0)
		return poll(&p, 1, 0) > 0;
	snprintf(path, sizeof(path), "/proc/%ld", w->pid);
	return access(path, F_OK) || mt_pid_no_mm(w->pid);
}

static int read_key(void)
{
	char c;
	ssize_t n = read(STDIN_FILENO, &c, 1);

	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		stdin_done = true;	/* no more keys: signals still end the watch */
		return -1;
	}
	if (n == 1 && (c == 'q' || c == 'Q'))
		return MT_WAIT_QUIT;
	return n == 1 && c == ' ' ? MT_WAIT_NOW : -1;
}

/* ns from a to b */
static long long ns_until(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

/*
 * What ends the wait: the deadline (NULL: none), a key (screen), a signal,
 * pidfd readable (-1: none), or the window resized or the screen back from
 * Ctrl-Z (MT_WAIT_RESIZE).
 */
int mt_term_wait(const struct timespec *deadline, const sigset_t *mask, bool screen, int pidfd)
{
	for (;;) {
		struct pollfd pfd[2];
		struct timespec now, left;
		nfds_t n = 0, key = 2, pid = 2;
		long long ns = 0;
		int r;

		if (got_signal)
			return MT_WAIT_SIGNAL;
		if (got_tstp || got_winch) {
			if (got_tstp)
				suspend();
			got_tstp = 0;
			got_winch = 0;
			return MT_WAIT_RESIZE;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (deadline) {	/* past it: a look all the same, at signals, keys, the exit */
			ns = ns_until(&now, deadline);
			ns = ns > 0 ? ns : 0;
			left = (struct timespec){ ns / 1000000000LL, ns % 1000000000LL };
		}
		if (pidfd >= 0) {
			pid = n;
			pfd[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		}
		if (screen && !stdin_done && tio_saved) {
			key = n;
			pfd[n++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		}
		r = ppoll(pfd, n, deadline ? &left : NULL, mask);
		if (r == 0 && deadline)
			return MT_WAIT_TICK;
		if (r <= 0)
			continue;	/* a signal (or an error: seen again at the next turn) */
		if (key < n && pfd[key].revents) {
			r = read_key();
			if (r >= 0)
				return r;
		}
		if (pid < n && pfd[pid].revents)
			return MT_WAIT_EXIT;
	}
}

/* watch's wait: the window's size followed */
static int wait_for(struct mt_watch *w, const struct timespec *deadline,
		    const sigset_t *mask)
{
	int r = mt_term_wait(deadline, mask, w->screen, w->exited ? -1 : w->pidfd);

	if (r != MT_WAIT_RESIZE)
		return r;
	window_size(w);
	return MT_WAIT_NOW;
}

/* A signal that came while blocked (during a query it made fail), or 0 */
static int pending_signal(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	sigset_t set;

	if (sigpending(&set))
		return 0;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigismember(&set, sigs[i]))
			return sigs[i];
	return 0;
}

static void reraise(int sig)
{
	sigset_t s;

	fflush(stdout);
	signal(sig, SIG_DFL);
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	raise(sig);
}

/* The next deadline, step ns on; never in the past (a slow frame owes nothing) */
void mt_term_advance(struct timespec *next, long long step)
{
	struct timespec now;

	next->tv_sec += step / 1000000000LL;
	next->tv_nsec += step % 1000000000LL;
	if (next->tv_nsec >= 1000000000L) {
		next->tv_nsec -= 1000000000L;
		next->tv_sec++;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ns_until(&now, next) < 0)
		*next = now;
}

/* A frame taken and shown: 0, MT_WATCH_GONE, or MT_EXIT_FAIL. */
static int frame(const struct mt_ctx *ctx, struct mt_watch *w, const struct timespec *t0)
{
	struct timespec now;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &now);
	w->elapsed = (double)ns_until(t0, &now) / 1e9;
	w->when = time(NULL);
	ret = mt_watch_sample(ctx, w);
	if (ret)
		return ret;
	w->frame++;
	if (w->changed) {
		w->last_changed = w->changed;
		w->last_change_frame = w->frame;
		w->last_change_when = w->when;
	}
	if (w->screen)
		draw(w);
	else if (w->frame == 1 || !w->have_prev || w->changed)
		mt_watch_printer(ctx->out)->frame(w);
	mt_watch_keep(w);
	return 0;
}

/*
 * The process exited: said (a line, or the screen's banner). Off --until-exit
 * the screen stays until q or a signal, so that its last picture can be
 * read. MT_EXIT_OK with --until-exit, else MT_EXIT_FAIL.
 */
static int target_exited(const struct mt_ctx *ctx, struct mt_watch *w, const sigset_t *mask)
{
	int r = MT_WAIT_NOW;

	mt_watch_exited(ctx, w);
	if (w->screen && !w->until_exit) {
		while (r != MT_WAIT_QUIT && r != MT_WAIT_SIGNAL) {
			draw(w);
			r = wait_for(w, NULL, mask);
		}
		if (r == MT_WAIT_SIGNAL)
			return BY_SIGNAL;
	}
	mt_term_leave();
	if (w->until_exit)
		return MT_EXIT_OK;
	mt_err("process %ld exited", w->pid);
	return MT_EXIT_FAIL;
}

/* Frames until the count, q, a signal, an error or the exit; then the terminal back. */
static int frames(const struct mt_ctx *ctx, struct mt_watch *w, const sigset_t *mask)
{
	struct timespec t0, next;
	long long step = (long long)(w->interval * 1e9 + 0.5);
	int ret, r = MT_WAIT_TICK;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	next = t0;
	for (;;) {
		ret = frame(ctx, w, &t0);
		if (ret == MT_WATCH_GONE)
			return target_exited(ctx, w, mask);
		if (ret || (w->count && w->frame >= w->count))
			return ret;
		if (r == MT_WAIT_TICK)
			mt_term_advance(&next, step);
		r = wait_for(w, &next, mask);
		if (r == MT_WAIT_QUIT || r == MT_WAIT_SIGNAL)
			return r == MT_WAIT_QUIT ? MT_EXIT_OK : BY_SIGNAL;
		if (r == MT_WAIT_EXIT)
			return target_exited(ctx, w, mask);
	}
}

/* Frames drawn whole, a screen at a time */
void mt_term_buffer(void)
{
	setvbuf(stdout, frame_buf, _IOFBF, sizeof(frame_buf));
}

/*
 * The end of a loop that ended with ret: the terminal back; a signal that
 * ended it (BY_SIGNAL, or one pending that made the last frame fail) raised
 * again, as it would have ended the process (if it returns: BY_SIGNAL).
 */
int mt_term_end(int ret)
{
	mt_term_leave();
	if (ret == MT_EXIT_FAIL && !got_signal)
		got_signal = pending_signal();
	if (ret == MT_EXIT_FAIL && got_signal)
		ret = BY_SIGNAL;	/* the signal stopped the query, not an error */
	if (ret == BY_SIGNAL)
		reraise(got_signal);
	return ret;
}

int mt_watch_loop(const struct mt_ctx *ctx, struct mt_watch *w)
{
	sigset_t mask;
	int ret;

	w->pidfd = pidfd_of(w->pid);
	mt_term_signals(w->screen, &mask);
	if (w->screen) {
		mt_term_buffer();
		mt_term_enter();
		window_size(w);
	} else {
		setvbuf(stdout, NULL, _IOLBF, 0);	/* a line as it comes: logs, tail -f */
	}
	if (w->pages)
		mt_watch_fit(w);
	ret = frames(ctx, w, &mask);
	if (w->pidfd >= 0)
		close(w->pidfd);
	ret = mt_term_end(ret);
	if (ret == BY_SIGNAL)
		return MT_EXIT_FAIL;
	if (ret == MT_EXIT_FAIL && ctx->ses->err.msg[0])
		mt_transport_print_error(&ctx->ses->err);
	return ret;
}
