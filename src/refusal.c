/* refusal.c - a commit-check refusal from the kernel's record to the words
 * in the log, the per-service log rate limit and the book of recent
 * refusals (refusal.h).  Pure. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../bpf/refusal_abi.h"
#include "refusal.h"
#include "util.h"

static const char *const op_names[RF_NOPS] = { "fork", "mmap", "brk", "mremap", "other" };

const char *refusal_op_name(enum refusal_op op)
{
	return (unsigned)op < RF_NOPS ? op_names[op] : "other";
}

int refusal_op_parse(const char *s, enum refusal_op *op)
{
	for (int i = 0; i < RF_NOPS; i++) {
		if (strcmp(s, op_names[i]) == 0) {
			*op = (enum refusal_op)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl) of the
 * calls that reach the commit check with a size of their own. */
enum refusal_op refusal_op_of(bool in_fork, int64_t syscall_nr)
{
	if (in_fork)
		return RF_OP_FORK;
	switch (syscall_nr) {
	case 9:
		return RF_OP_MMAP;
	case 12:
		return RF_OP_BRK;
	case 25:
		return RF_OP_MREMAP;
	case 56:  /* clone */
	case 57:  /* fork */
	case 58:  /* vfork */
	case 435: /* clone3 */
		return RF_OP_FORK;
	default:
		return RF_OP_OTHER; /* mprotect, shmget, execve's stack, a fault growing the stack */
	}
}

static uint64_t sub_floor0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* vm_commit_limit() (mm/util.c) from the kernel's figures at the refusal. */
static uint64_t commit_limit_kb(const struct rf_event *e, const struct refusal_host *h)
{
	uint64_t limit = e->overcommit_kbytes;
	if (!limit)
		limit = sub_floor0(e->totalram_pages * h->page_kb, h->hugetlb_kb) *
			(uint64_t)(e->ratio > 0 ? e->ratio : 0) / 100;
	return limit + (uint64_t)(e->total_swap_pages > 0 ? e->total_swap_pages : 0) * h->page_kb;
}

/* admin reserve (unless CAP_SYS_ADMIN) + min(total_vm / 32, user reserve) */
static uint64_t reserve_kb(const struct rf_event *e, const struct refusal_host *h)
{
	bool kern = e->flags & RF_F_SYSCTLS;
	uint64_t admin = kern ? e->admin_reserve_kbytes : (uint64_t)(h->admin_reserve_kb > 0 ? h->admin_reserve_kb : 0);
	uint64_t user = kern ? e->user_reserve_kbytes : (uint64_t)(h->user_reserve_kb > 0 ? h->user_reserve_kb : 0);
	uint64_t vm32 = e->total_vm / 32 * h->page_kb;
	return (e->flags & RF_F_CAP_ADMIN ? 0 : admin) + (vm32 < user ? vm32 : user);
}

void refusal_from_event(const struct rf_event *e, const struct refusal_host *h, struct refusal *r)
{
	memset(r, 0, sizeof(*r));
	uint64_t age_ms = h->mono_now_ns > e->ts_ns ? (h->mono_now_ns - e->ts_ns) / 1000000 : 0;
	r->time_ms = sub_floor0(h->real_now_ms, age_ms);
	r->pid = (int)e->pid;
	r->tgid = (int)e->tgid;
	r->uid = e->uid;
	memcpy(r->comm, e->comm, sizeof(r->comm));
	r->comm[sizeof(r->comm) - 1] = '\0';
	r->op = refusal_op_of(e->flags & RF_F_FORK, e->syscall_nr);
	r->size_kb = e->pages * h->page_kb;
	r->need_kb = (e->op_pages > e->pages ? e->op_pages : e->pages) * h->page_kb;
	/* a fork is checked VMA by VMA; those after the refused one never were */
	r->need_partial = r->op == RF_OP_FORK;
	r->mode = e->flags & RF_F_SYSCTLS ? e->mode : h->mode;
	r->reserve_kb = reserve_kb(e, h);
	r->mem_available_kb = h->mem_available_kb;
	bool kern = (e->flags & (RF_F_COMMITTED | RF_F_SYSCTLS | RF_F_RAM)) ==
		    (RF_F_COMMITTED | RF_F_SYSCTLS | RF_F_RAM);
	/* the counter's central count is what mode 2 compares
	 * (percpu_counter_read_positive); under modes 0 and 1 its per-CPU
	 * batches are a quarter of RAM each and the count means little */
	if (kern && r->mode == 2) {
		int64_t count = e->committed_pages > 0 ? e->committed_pages : 0;
		/* a fork's earlier charges were still counted at the refusal */
		r->committed_kb = count * (int64_t)h->page_kb - (int64_t)(r->need_kb - r->size_kb);
		r->commit_limit_kb = commit_limit_kb(e, h);
	} else {
		r->committed_kb = (int64_t)h->committed_kb;
		r->commit_limit_kb = kern ? commit_limit_kb(e, h) : h->commit_limit_kb;
	}
	r->exact = kern && r->mode == 2;
	r->tries = 1;
}

/* "96 MiB left under CommitLimit 1.0 GiB" and its variants. */
static void headroom_words(const struct refusal *r, char *buf, size_t size)
{
	char a[32], b[32], c[32];
	int64_t left = (int64_t)r->commit_limit_kb - r->committed_kb;
	if (r->mode == 0) {
		snprintf(buf, size, "more than RAM + swap allows in one request");
		return;
	}
	if (left <= 0) {
		snprintf(buf, size, "nothing left under CommitLimit %s (Committed_AS %s)",
			 fmt_kb(r->commit_limit_kb, a, sizeof(a)),
			 fmt_skb(r->committed_kb, b, sizeof(b)));
		return;
	}
	int n = snprintf(buf, size, "%s left under CommitLimit %s", fmt_kb((uint64_t)left, a, sizeof(a)),
			 fmt_kb(r->commit_limit_kb, b, sizeof(b)));
	if (n > 0 && (size_t)n < size && r->need_kb < (uint64_t)left && r->reserve_kb)
		snprintf(buf + n, size - (size_t)n, ", of which the admin and user reserves keep %s",
			 fmt_kb(r->reserve_kb, c, sizeof(c)));
}

void refusal_format(const struct refusal *r, char *buf, size_t size)
{
	char svc[RF_NAME_MAX + 16] = "", need[32], avail[32], room[160];
	if (r->service[0])
		snprintf(svc, sizeof(svc), ", service %s", r->service);
	headroom_words(r, room, sizeof(room));
	int n = snprintf(buf, size,
			 "%s of %s (pid %d%s) refused: needs %s%s of commit, %s "
			 "(vm.overcommit_memory=%d) while %s of RAM is available%s",
			 refusal_op_name(r->op), r->comm, r->tgid, svc,
			 r->need_partial ? "at least " : "", fmt_kb(r->need_kb, need, sizeof(need)),
			 room, r->mode, fmt_kb(r->mem_available_kb, avail, sizeof(avail)),
			 r->exact || r->mode != 2 ? "" : " (commit figures read from /proc a moment later)");
	if (r->tries > 1 && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "; the C library's fallbacks (%s) were refused "
			 "too: %u tries", r->op == RF_OP_MMAP ? "brk, mmap" : "mmap", r->tries);
}

/* ---- rate limit ---------------------------------------------------------------- */

static struct rf_limit_slot *slot_for(struct rf_limiter *l, const char *key)
{
	struct rf_limit_slot *free_slot = NULL, *oldest = &l->slot[0];
	for (size_t i = 0; i < RF_LIMIT_KEYS; i++) {
		struct rf_limit_slot *s = &l->slot[i];
		if (s->key[0] && strcmp(s->key, key) == 0)
			return s;
		if (!s->key[0] && !free_slot)
			free_slot = s;
		if (s->last_ms < oldest->last_ms)
			oldest = s;
	}
	struct rf_limit_slot *s = free_slot ? free_slot : oldest;
	memset(s, 0, sizeof(*s));
	snprintf(s->key, sizeof(s->key), "%s", key);
	return s;
}

bool rf_limiter_admit(struct rf_limiter *l, const char *key, uint64_t now_ms,
		      uint64_t *folded_before)
{
	*folded_before = 0;
	struct rf_limit_slot *s = slot_for(l, key[0] ? key : "-");
	if (!s->window_ms || now_ms - s->window_ms >= RF_LOG_WINDOW_MS || now_ms < s->window_ms) {
		*folded_before = s->folded;
		s->window_ms = now_ms ? now_ms : 1;
		s->logged = 0;
		s->folded = 0;
	}
	s->last_ms = now_ms;
	if (s->logged < RF_LOG_BURST) {
		s->logged++;
		return true;
	}
	s->folded++;
	return false;
}

void rf_limiter_flush(struct rf_limiter *l, uint64_t now_ms,
		      void (*cb)(const char *key, uint64_t folded, void *arg), void *arg)
{
	for (size_t i = 0; i < RF_LIMIT_KEYS; i++) {
		struct rf_limit_slot *s = &l->slot[i];
		if (!s->key[0] || !s->folded || now_ms - s->window_ms < RF_LOG_WINDOW_MS)
			continue;
		cb(strcmp(s->key, "-") ? s->key : "", s->folded, arg);
		s->folded = 0;
		s->logged = 0;
		s->window_ms = now_ms;
	}
}

/* ---- the book -------------------------------------------------------------------- */

static struct refusal_tally *tally_for(struct refusal_book *b, const char *service)
{
	for (size_t i = 0; i < b->ntally; i++)
		if (strcmp(b->tally[i].service, service) == 0)
			return &b->tally[i];
	/* the last slot is kept for the unnamed tally, which also takes the
	 * services beyond the bound */
	if (service[0] && b->ntally >= RF_TALLIES - 1)
		return tally_for(b, "");
	struct refusal_tally *t = &b->tally[b->ntally++];
	memset(t, 0, sizeof(*t));
	snprintf(t->service, sizeof(t->service), "%s", service);
	return t;
}

void refusal_book_add(struct refusal_book *b, const struct refusal *r)
{
	if (b->nrecent < RF_RECENT) {
		b->recent[(b->head + b->nrecent) % RF_RECENT] = *r;
		b->nrecent++;
	} else {
		b->recent[b->head] = *r;
		b->head = (b->head + 1) % RF_RECENT;
	}
	struct refusal_tally *t = tally_for(b, r->service);
	t->by_op[(unsigned)r->op < RF_NOPS ? r->op : RF_OP_OTHER]++;
	if (!t->first_ms || r->time_ms < t->first_ms)
		t->first_ms = r->time_ms;
	if (r->time_ms > t->last_ms)
		t->last_ms = r->time_ms;
}

/* op is the next step after `first` (tries so far) of malloc's fallbacks:
 * mmap, brk, mmap or brk, mmap. */
static bool fallback_step(enum refusal_op first, uint32_t tries, enum refusal_op op)
{
	if (first == RF_OP_MMAP)
		return (tries == 1 && op == RF_OP_BRK) || (tries == 2 && op == RF_OP_MMAP);
	return first == RF_OP_BRK && tries == 1 && op == RF_OP_MMAP;
}

#define RF_FOLD_LOOKBACK 8 /* records of other threads in between */

bool refusal_book_fold(struct refusal_book *b, const struct refusal *r)
{
	for (size_t i = 0; i < RF_FOLD_LOOKBACK && i < b->nrecent; i++) {
		struct refusal *p = &b->recent[(b->head + b->nrecent - 1 - i) % RF_RECENT];
		if (p->pid != r->pid || p->tgid != r->tgid)
			continue;
		uint64_t dt = r->time_ms > p->time_ms ? r->time_ms - p->time_ms : p->time_ms - r->time_ms;
		/* brk asks for the request plus its top pad, the last mmap rounds
		 * to 1 MiB: the same order, never twice as much and more */
		bool near = r->size_kb <= 2 * p->size_kb + 2048 && 2 * r->size_kb + 2048 >= p->size_kb;
		if (dt > RF_RETRY_MS || !near || !fallback_step(p->op, p->tries, r->op) ||
		    strcmp(p->service, r->service) != 0)
			return false;
		p->tries++;
		return true;
	}
	return false;
}

const struct refusal *refusal_book_recent(const struct refusal_book *b, size_t i)
{
	if (i >= b->nrecent)
		return NULL;
	return &b->recent[(b->head + b->nrecent - 1 - i) % RF_RECENT];
}

uint64_t refusal_tally_total(const struct refusal_tally *t)
{
	uint64_t n = 0;
	for (int k = 0; k < RF_NOPS; k++)
		n += t->by_op[k];
	return n;
}

uint64_t refusal_book_total(const struct refusal_book *b)
{
	uint64_t n = 0;
	for (size_t i = 0; i < b->ntally; i++)
		n += refusal_tally_total(&b->tally[i]);
	return n;
}

const struct refusal_tally *refusal_book_tally(const struct refusal_book *b, const char *service)
{
	for (size_t i = 0; i < b->ntally; i++)
		if (strcmp(b->tally[i].service, service) == 0)
			return &b->tally[i];
	return NULL;
}
