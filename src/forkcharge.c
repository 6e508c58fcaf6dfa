/* forkcharge.c - the fork charge from /proc/PID/smaps (exact) and the
 * largest accountable VMA from /proc/PID/maps (estimate).
 *
 * Kernel rules followed here (Linux 6.1):
 *   kernel/fork.c dup_mmap():  "if (mpnt->vm_flags & VM_DONTCOPY) { ...
 *       continue; }" then "if (mpnt->vm_flags & VM_ACCOUNT) { len =
 *       vma_pages(mpnt); if (security_vm_enough_memory_mm(oldmm, len))
 *       goto fail_nomem; }" - every VMA with ac and without dc, each VMA
 *       charged (and, in mode 0, tested) on its own.
 *   mm/mmap.c accountable_mapping(): "(vm_flags & (VM_NORESERVE | VM_SHARED
 *       | VM_WRITE)) == VM_WRITE", hugetlb files excluded; do_mmap() sets
 *       VM_NORESERVE for MAP_NORESERVE only "if (sysctl_overcommit_memory !=
 *       OVERCOMMIT_NEVER)".  VM_ACCOUNT stays when mprotect() later drops
 *       VM_WRITE (RELRO, PROT_NONE arenas), so smaps, not VmData, is exact.
 *   fs/proc/task_mmu.c show_smap_vma_flags(): VM_WRITE "wr", VM_SHARED
 *       "sh", VM_DONTCOPY "dc", VM_ACCOUNT "ac", VM_NORESERVE "nr",
 *       VM_HUGETLB "ht"; VmFlags is the last line of each VMA. */
#include "forkcharge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep.h"
#include "util.h"

/* ---- one VMA header: "start-end perms offset dev inode [path]" -------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lowercase hex (the kernel prints %08lx) up to 16 digits; advances *i. */
static int parse_hex(const char *s, size_t len, size_t *i, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;
	for (; *i < len && hexval(s[*i]) >= 0; (*i)++, n++) {
		if (n == 16)
			return -EINVAL;
		v = v << 4 | (uint64_t)hexval(s[*i]);
	}
	if (n == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

struct vma_head {
	uint64_t kb;
	char perms[4];
};

static int parse_head(const char *s, size_t len, struct vma_head *h)
{
	size_t i = 0;
	uint64_t start, end;
	if (parse_hex(s, len, &i, &start) < 0 || i >= len || s[i++] != '-' ||
	    parse_hex(s, len, &i, &end) < 0 || end <= start || i + 6 > len || s[i] != ' ' ||
	    s[i + 5] != ' ')
		return -EINVAL;
	memcpy(h->perms, s + i + 1, 4);
	h->kb = (end - start) >> 10;
	return 0;
}

static bool is_head(const char *s, size_t len)
{
	return len > 0 && hexval(s[0]) >= 0;
}

/* ---- smaps -------------------------------------------------------------- */

void smaps_parser_init(struct smaps_parser *sp)
{
	memset(sp, 0, sizeof(*sp));
}

struct vm_flags {
	bool ac, dc, wr, sh, ht;
};

static int parse_flags(const char *s, size_t len, struct vm_flags *f)
{
	memset(f, 0, sizeof(*f));
	size_t i = 0;
	while (i < len) {
		if (s[i] == ' ' || s[i] == '\t') {
			i++;
			continue;
		}
		/* every flag is two lowercase letters */
		if (i + 2 > len || (i + 2 < len && s[i + 2] != ' ' && s[i + 2] != '\t'))
			return -EINVAL;
		char a = s[i], b = s[i + 1];
		if (a < 'a' || a > 'z' || b < 'a' || b > 'z')
			return -EINVAL;
		f->ac |= a == 'a' && b == 'c';
		f->dc |= a == 'd' && b == 'c';
		f->wr |= a == 'w' && b == 'r';
		f->sh |= a == 's' && b == 'h';
		f->ht |= a == 'h' && b == 't';
		i += 2;
	}
	return 0;
}

static void add_vma(struct smaps_charge *c, uint64_t kb, const struct vm_flags *f)
{
	if (f->ac && f->dc)
		c->dontfork_kb += kb;
	else if (f->ac) {
		c->charge_kb += kb;
		if (kb > c->largest_kb)
			c->largest_kb = kb;
	} else if (f->wr && !f->sh && !f->ht) {
		c->noreserve_kb += kb;
	}
	c->nvma++;
}

void smaps_parser_line(struct smaps_parser *sp, const char *line, size_t len)
{
	static const char key[] = "VmFlags:";
	if (sp->err)
		return;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (is_head(line, len)) {
		struct vma_head h;
		if (sp->in_vma || parse_head(line, len, &h) < 0) {
			sp->err = -EINVAL; /* previous VMA had no VmFlags, or junk */
			return;
		}
		sp->vma_kb = h.kb;
		sp->in_vma = true;
	} else if (len >= sizeof(key) - 1 && memcmp(line, key, sizeof(key) - 1) == 0) {
		struct vm_flags f;
		if (!sp->in_vma || parse_flags(line + sizeof(key) - 1, len - (sizeof(key) - 1), &f) < 0) {
			sp->err = -EINVAL;
			return;
		}
		add_vma(&sp->sum, sp->vma_kb, &f);
		sp->in_vma = false;
	}
	/* Size:, Rss:, ... are not needed: the header gives the length */
}

int smaps_parser_finish(struct smaps_parser *sp, struct smaps_charge *out)
{
	if (sp->err || sp->in_vma)
		return -EINVAL;
	*out = sp->sum;
	return 0;
}

int smaps_charge_parse(const char *buf, size_t len, struct smaps_charge *out)
{
	struct smaps_parser sp;
	smaps_parser_init(&sp);
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;
		smaps_parser_line(&sp, buf + i, n);
		i += n + 1;
	}
	return smaps_parser_finish(&sp, out);
}

/* maps and smaps of another user's process need CAP_SYS_PTRACE: in the
 * daemon its reader opens them (privsep.h), this process reads */
static FILE *open_pid_file(const struct roots *r, int pid, const char *name)
{
	int fd = privsep_open_pid(r, pid, name);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	FILE *f = fdopen(fd, "re");
	if (!f) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return f;
}

/* Stream the file line by line into fn (smaps of a big process is MiBs). */
static int for_each_line(FILE *f, void (*fn)(void *, const char *, size_t), void *arg)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	errno = 0;
	while ((n = getline(&line, &cap, f)) >= 0)
		fn(arg, line, (size_t)n);
	int e = ferror(f) ? (errno ? errno : EIO) : 0;
	free(line);
	return -e;
}

/* /proc/PID/NAME line by line into fn; 0 or -errno */
static int read_pid_lines(const struct roots *r, int pid, const char *name,
			  void (*fn)(void *, const char *, size_t), void *arg)
{
	FILE *f = open_pid_file(r, pid, name);
	if (!f)
		return -errno;
	int rc = for_each_line(f, fn, arg);
	fclose(f); /* read-only: nothing to lose */
	return rc;
}

static void smaps_cb(void *arg, const char *line, size_t len)
{
	smaps_parser_line(arg, line, len);
}

static int smaps_finish(struct smaps_parser *sp, int rc, struct smaps_charge *out)
{
	if (rc < 0)
		return rc;
	rc = smaps_parser_finish(sp, out);
	/* an exited (or exiting) process shows no VMAs at all */
	return rc == 0 && out->nvma == 0 ? -ESRCH : rc;
}

int smaps_charge_read(const struct roots *r, int pid, struct smaps_charge *out)
{
	struct smaps_parser sp;
	smaps_parser_init(&sp);
	return smaps_finish(&sp, read_pid_lines(r, pid, "smaps", smaps_cb, &sp), out);
}

int smaps_charge_read_fd(int fd, struct smaps_charge *out)
{
	FILE *f = fdopen(fd, "re");
	if (!f) {
		int e = errno;
		close(fd);
		return -e;
	}
	struct smaps_parser sp;
	smaps_parser_init(&sp);
	int rc = for_each_line(f, smaps_cb, &sp);
	fclose(f); /* read-only: nothing to lose */
	return smaps_finish(&sp, rc, out);
}

/* ---- maps --------------------------------------------------------------- */

struct maps_parser {
	struct maps_estimate est;
	int err;
};

static void maps_line(struct maps_parser *mp, const char *line, size_t len)
{
	if (mp->err)
		return;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len == 0)
		return;
	struct vma_head h;
	if (parse_head(line, len, &h) < 0) {
		mp->err = -EINVAL;
		return;
	}
	mp->est.nvma++;
	/* MAP_HUGETLB anonymous memory shows as "/anon_hugepage (deleted)" */
	static const char huge[] = "/anon_hugepage";
	if (h.perms[1] != 'w' || h.perms[3] != 'p' ||
	    memmem(line, len, huge, sizeof(huge) - 1) != NULL)
		return;
	mp->est.private_write_kb += h.kb;
	if (h.kb > mp->est.largest_kb)
		mp->est.largest_kb = h.kb;
}

int maps_estimate_parse(const char *buf, size_t len, struct maps_estimate *out)
{
	struct maps_parser mp = { 0 };
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;
		maps_line(&mp, buf + i, n);
		i += n + 1;
	}
	if (mp.err)
		return mp.err;
	*out = mp.est;
	return 0;
}

static void maps_cb(void *arg, const char *line, size_t len)
{
	maps_line(arg, line, len);
}

int maps_estimate_read(const struct roots *r, int pid, struct maps_estimate *out)
{
	struct maps_parser mp = { 0 };
	int rc = read_pid_lines(r, pid, "maps", maps_cb, &mp);
	if (rc < 0)
		return rc;
	if (mp.err)
		return mp.err;
	if (mp.est.nvma == 0)
		return -ESRCH;
	*out = mp.est;
	return 0;
}

const char *charge_basis_name(enum charge_basis b)
{
	switch (b) {
	case CHARGE_ESTIMATE: return "estimate";
	case CHARGE_EXACT: return "exact";
	case CHARGE_CORRECTED: return "corrected";
	case CHARGE_FORK_EVENT: return "fork-event";
	}
	return "unknown";
}
