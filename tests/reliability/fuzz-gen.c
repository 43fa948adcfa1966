// SPDX-License-Identifier: GPL-2.0
/*
 * rel-fuzz: /proc query generation: valid queries by the grammar, mutated
 * as tokens or as bytes.
 */
#include "fuzz.h"
#include "pg.h"

static const char *const words[] = {
	"all", "runs", "pages", "ALL", "Runs", "PAGES", "run", "page", "pagess", "runsx",
	"al", "alll", "self", "0x", "+", "-", "++", "0x0x", "all+", "+all", "pages\n", "-1",
	"\xff", "\x01", "r\tuns", "na\xc3\xafve", "%d", "%s%n", "''", "\"\"", "NaN", "inf",
};

uint64_t fz_pick_pid(void)
{
	switch (rl_below(&fz_rng, 16)) {
	case 0: return 1;
	case 1: return 2;
	case 2: return fz_dead_pid;
	case 3: return 0;
	case 4: return RL_PID_MAX_LIMIT;
	case 5: return RL_PID_MAX_LIMIT + 1;
	case 6: return rl_next(&fz_rng) & 0xffffffff;
	case 7: return rl_next(&fz_rng);
	case 8: return fz_parent_pid;
	default: return fz_self;
	}
}

uint64_t fz_pick_addr(void)
{
	uint64_t r = (uintptr_t)fz_region;

	switch (rl_below(&fz_rng, 20)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return 4095;
	case 3: return MT_PG;
	case 4: return fz_ts - MT_PG;
	case 5: return fz_ts - 1;
	case 6: return fz_ts;
	case 7: return fz_ts + 1;
	case 8: return 1ULL << 47;
	case 9: return 1ULL << 56;
	case 10: return 1ULL << 57;
	case 11: return 1ULL << 63;
	case 12: return UINT64_MAX;
	case 13: return UINT64_MAX - 4095;
	case 14: return rl_next(&fz_rng);
	case 15: return rl_below(&fz_rng, fz_ts);
	case 16: return r + rl_below(&fz_rng, 64 * MT_PG);
	default: return r + rl_below(&fz_rng, NREG) * MT_PG;
	}
}

/* A number in one of the grammar's forms, or one of the forms it excludes. */
static int fmt_num(char *o, size_t sz, uint64_t v)
{
	switch (rl_below(&fz_rng, 40)) {
	case 0: return snprintf(o, sz, "0X%" PRIX64, v);
	case 1: return snprintf(o, sz, "0x%" PRIX64, v);
	case 2: return snprintf(o, sz, "000%" PRIu64, v);		/* octal-looking */
	case 3: return snprintf(o, sz, "0x000%" PRIx64, v);
	case 4: return snprintf(o, sz, "-%" PRIu64, v);
	case 5: return snprintf(o, sz, "-0x%" PRIx64, v);
	case 6: return snprintf(o, sz, "%" PRIu64 "%u", v, (unsigned int)rl_below(&fz_rng, 1000)); /* maybe overflow */
	case 7: return snprintf(o, sz, "184467440737095516%02u",
				(unsigned int)rl_below(&fz_rng, 100));
	case 8: return snprintf(o, sz, "0x1%016" PRIx64, v);	/* 2^64 and above */
	case 9: return snprintf(o, sz, "%" PRIu64 "%c", v, "xgkKmM.,_"[rl_below(&fz_rng, 9)]);
	case 10: return snprintf(o, sz, "0x%" PRIx64 "g", v);
	case 11: return snprintf(o, sz, "0%" PRIo64, v);
	case 12: return snprintf(o, sz, "%" PRIu64 ".0", v);
	case 13: return snprintf(o, sz, "%" PRIx64, v);		/* hex without prefix */
	case 14: return snprintf(o, sz, "+%" PRIu64, v);		/* signed: not in the grammar */
	case 15: return snprintf(o, sz, "0x0x%" PRIx64, v);	/* double prefix */
	case 16: return snprintf(o, sz, "0x+%" PRIx64, v);
	case 17: return snprintf(o, sz, "%" PRIu64, v & 0xff);
	default:
		return rl_chance(&fz_rng, 50) ? snprintf(o, sz, "%" PRIu64, v) :
					     snprintf(o, sz, "0x%" PRIx64, v);
	}
}

static void add_tok(struct toks *q, const char *s)
{
	if (q->n < 8)
		snprintf(q->t[q->n++], sizeof(q->t[0]), "%s", s);
}

/* A valid query (tokens), before mutation. */
void fz_valid_query(struct toks *q, bool mutate_numbers)
{
	char b[48];
	uint64_t s;

	q->n = 0;
	if (mutate_numbers)
		fmt_num(b, sizeof(b), fz_pick_pid());
	else
		snprintf(b, sizeof(b), "%d", fz_self);
	add_tok(q, b);
	if (rl_chance(&fz_rng, 12)) {
		add_tok(q, "all");
	} else {
		s = mutate_numbers ? fz_pick_addr() : (uintptr_t)fz_region + rl_below(&fz_rng, NREG) * MT_PG;
		if (mutate_numbers)
			fmt_num(b, sizeof(b), s);
		else
			snprintf(b, sizeof(b), "0x%" PRIx64, s);
		add_tok(q, b);
		if (rl_chance(&fz_rng, 35)) {
			uint64_t l = mutate_numbers && rl_chance(&fz_rng, 40) ? fz_pick_addr() :
				     (1 + rl_below(&fz_rng, 8)) * MT_PG + (rl_chance(&fz_rng, 20) ? rl_below(&fz_rng, MT_PG) : 0);

			b[0] = '+';
			if (mutate_numbers)
				fmt_num(b + 1, sizeof(b) - 1, l);
			else
				snprintf(b + 1, sizeof(b) - 1, "%" PRIu64, l);
		} else {
			uint64_t e = mutate_numbers && rl_chance(&fz_rng, 40) ? fz_pick_addr() :
				     s + (1 + rl_below(&fz_rng, 8)) * MT_PG;

			if (mutate_numbers)
				fmt_num(b, sizeof(b), e);
			else
				snprintf(b, sizeof(b), "%" PRIu64, e);
		}
		add_tok(q, b);
	}
	if (rl_chance(&fz_rng, 60))
		add_tok(q, rl_chance(&fz_rng, 50) ? "pages" : "runs");
}

void fz_mutate_tokens(struct toks *q)
{
	int k = 1 + rl_below(&fz_rng, 3);
	char tmp[48];

	while (k--) {
		int i = q->n ? rl_below(&fz_rng, q->n) : 0, j = q->n ? rl_below(&fz_rng, q->n) : 0;

		switch (rl_below(&fz_rng, 8)) {
		case 0:	/* swap */
			if (q->n < 2)
				break;
			memcpy(tmp, q->t[i], sizeof(tmp));
			memcpy(q->t[i], q->t[j], sizeof(tmp));
			memcpy(q->t[j], tmp, sizeof(tmp));
			break;
		case 1:	/* drop */
			if (!q->n)
				break;
			memmove(q->t[i], q->t[i + 1], (q->n - i - 1) * sizeof(q->t[0]));
			q->n--;
			break;
		case 2:	/* duplicate */
			if (q->n && q->n < 8) {
				memmove(q->t[i + 1], q->t[i], (q->n - i) * sizeof(q->t[0]));
				q->n++;
			}
			break;
		case 3:	/* a word from the list */
			if (q->n < 8) {
				memmove(q->t[i + 1], q->t[i], (q->n - i) * sizeof(q->t[0]));
				snprintf(q->t[i], sizeof(q->t[0]), "%s",
					 words[rl_below(&fz_rng, sizeof(words) / sizeof(words[0]))]);
				q->n++;
			}
			break;
		case 4:	/* replace with a word */
			if (q->n)
				snprintf(q->t[i], sizeof(q->t[0]), "%s",
					 words[rl_below(&fz_rng, sizeof(words) / sizeof(words[0]))]);
			break;
		case 5:	/* a mode word mutated */
			if (q->n) {
				char *w = q->t[i];
				size_t l = strlen(w);

				snprintf(w, sizeof(q->t[0]), "%s", rl_chance(&fz_rng, 50) ? "pages" : "runs");
				l = strlen(w);
				w[rl_below(&fz_rng, l)] ^= 1U << rl_below(&fz_rng, 6);
			}
			break;
		case 6:	/* a number re-formatted */
			if (q->n)
				fmt_num(q->t[i], sizeof(q->t[0]), fz_pick_addr());
			break;
		default:	/* +LEN form toggled */
			if (q->n) {
				if (q->t[i][0] == '+')
					memmove(q->t[i], q->t[i] + 1, strlen(q->t[i]));
				else if (strlen(q->t[i]) < sizeof(q->t[0]) - 1) {
					memmove(q->t[i] + 1, q->t[i], strlen(q->t[i]) + 1);
					q->t[i][0] = '+';
				}
			}
		}
	}
}

static const char *sep(void)
{
	static const char *const s[] = { " ", " ", " ", " ", " ", "\t", "  ", " \t ", "\t\t",
					 "\n", "\r", "\v", "\f", " \n ", "\xa0" };
	return rl_chance(&fz_rng, 80) ? " " : s[rl_below(&fz_rng, sizeof(s) / sizeof(s[0]))];
}

size_t fz_render(const struct toks *q, char *o, size_t cap)
{
	static const char *const lead[] = { " ", "\t", "\n", "  " };
	static const char *const trail[] = { "\n", " \n", "\n\n", " ", "\t\n", "\r\n", "\n ", " \t" };
	size_t len = 0;

	if (rl_chance(&fz_rng, 5))
		len += snprintf(o + len, cap - len, "%s", lead[rl_below(&fz_rng, 4)]);
	for (int i = 0; i < q->n && len < cap; i++)
		len += snprintf(o + len, cap - len, "%s%s", i ? sep() : "", q->t[i]);
	if (len < cap && rl_chance(&fz_rng, 60))
		len += snprintf(o + len, cap - len, "%s",
				rl_chance(&fz_rng, 70) ? "\n" : trail[rl_below(&fz_rng, 8)]);
	return len < cap ? len : cap - 1;
}

size_t fz_mutate_bytes(char *o, size_t len, size_t cap)
{
	int k = 1 + rl_below(&fz_rng, 3);

	while (k--) {
		size_t i = len ? rl_below(&fz_rng, len) : 0;

		switch (rl_below(&fz_rng, 6)) {
		case 0:	/* flip */
			if (len)
				o[i] ^= 1U << rl_below(&fz_rng, 8);
			break;
		case 1:	/* NUL */
			if (len)
				o[i] = '\0';
			break;
		case 2:	/* truncate */
			len = i;
			break;
		case 3:	/* delete */
			if (len) {
				memmove(o + i, o + i + 1, len - i - 1);
				len--;
			}
			break;
		case 4:	/* insert a random byte */
			if (len + 1 < cap) {
				memmove(o + i + 1, o + i, len - i);
				o[i] = (char)rl_next(&fz_rng);
				len++;
			}
			break;
		default:	/* a digit changed */
			if (len)
				o[i] = '0' + rl_below(&fz_rng, 10);
		}
	}
	return len;
}

/* ---- /proc fuzzing ---- */
