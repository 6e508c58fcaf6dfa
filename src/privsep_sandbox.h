/* privsep_sandbox.h - the reader's seccomp filter (privsep.h). */
#ifndef OVERCOMMITD_PRIVSEP_SANDBOX_H
#define OVERCOMMITD_PRIVSEP_SANDBOX_H

/* Allow only what the reader does: recvmsg/sendmsg on its socket, openat
 * read-only (no O_WRONLY/O_RDWR/O_CREAT/O_TRUNC/O_APPEND), readlink, close,
 * memory for the C library, exit.  Everything else - ptrace,
 * process_vm_writev, write, execve, socket, kill, setuid... - fails with
 * EPERM.  Needs no-new-privs (privs_drop sets it).  0 or -errno. */
int privsep_sandbox(void);

#endif
