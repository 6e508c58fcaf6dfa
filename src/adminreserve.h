/* adminreserve.h - who is exempt from vm.admin_reserve_kbytes.
 *
 * mm/util.c __vm_enough_memory(mm, pages, cap_sys_admin) subtracts the admin
 * reserve "if (!cap_sys_admin)".  security/security.c
 * security_vm_enough_memory_mm() sets cap_sys_admin = 1 and clears it when
 * any LSM's vm_enough_memory hook says no: security/commoncap.c
 * cap_vm_enough_memory() asks cap_capable(current_cred(), &init_user_ns,
 * CAP_SYS_ADMIN) - the capability in the INITIAL user namespace, which a
 * task in any other user namespace never has (root in rootless podman,
 * LXC); security/selinux/hooks.c selinux_vm_enough_memory() additionally
 * asks the SELinux policy for sys_admin.  So: exempt only with CAP_SYS_ADMIN
 * effective, in PID 1's user namespace, and (not knowing the SELinux
 * policy) not under SELinux enforcing. */
#ifndef OVERCOMMITD_ADMINRESERVE_H
#define OVERCOMMITD_ADMINRESERVE_H

#include <stdbool.h>
#include <stdint.h>
#include "roots.h"

struct admin_facts {
	uint64_t init_userns;     /* inode of PID 1's /proc/1/ns/user; 0 = unknown */
	bool selinux_enforcing;   /* /sys/fs/selinux/enforce reads 1 */
};

/* "user:[4026531837]" -> 4026531837; -EINVAL otherwise. */
int userns_link_parse(const char *link, uint64_t *ino);
/* readlink of procfs/PID/ns/user; -errno (EACCES without CAP_SYS_PTRACE). */
int proc_userns_read(const struct roots *r, int pid, uint64_t *ino);
/* "0" / "1" (newline optional); -EINVAL otherwise. */
int selinux_enforce_parse(const char *buf, bool *enforcing);
/* PID 1's user namespace and SELinux state.  No selinuxfs = not enforcing;
 * an unreadable /proc/1/ns/user leaves init_userns 0 (unknown). */
void admin_facts_read(const struct roots *r, struct admin_facts *f);

enum admin_why {
	ADM_EXEMPT = 0,       /* CAP_SYS_ADMIN in the initial user namespace */
	ADM_NO_CAP,           /* a user's process: no CAP_SYS_ADMIN */
	ADM_USERNS,           /* root inside a user namespace */
	ADM_USERNS_UNKNOWN,   /* its namespace could not be compared: assume it pays */
	ADM_SELINUX,          /* SELinux enforcing may refuse sys_admin: assume it pays */
};
/* Does a fork by this process escape the admin reserve?  userns 0 = unknown. */
enum admin_why admin_exemption(uint64_t cap_eff, uint64_t userns, const struct admin_facts *f);
/* Words for reports: "exempt (CAP_SYS_ADMIN in the initial user namespace)",
 * "pays it: root in a user namespace", ... */
const char *admin_why_text(enum admin_why w);

#endif
