// nosyscall: runs a command under a seccomp filter that fails the given system
// calls with EPERM, as a container's seccomp profile does (Docker's default
// denies pidfd_getfd and process_vm_readv without CAP_SYS_PTRACE; a stricter
// profile denies seccomp(2) itself).
//
// Usage: nosyscall NAME[,NAME...] COMMAND [ARG...]
//   NAME: seccomp, pidfd_getfd, process_vm_readv (x86_64 numbers)
// Exits 125 when the filter cannot be installed, 127 when COMMAND cannot run.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int number_of(const char* name) {
  if (strcmp(name, "seccomp") == 0) return SYS_seccomp;
  if (strcmp(name, "pidfd_getfd") == 0) return SYS_pidfd_getfd;
  if (strcmp(name, "process_vm_readv") == 0) return SYS_process_vm_readv;
  return -1;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: nosyscall NAME[,NAME...] COMMAND [ARG...]\n");
    return 2;
  }
  int numbers[8];
  int count = 0;
  char names[256];
  snprintf(names, sizeof names, "%s", argv[1]);
  for (char* name = strtok(names, ","); name != NULL && count < 8; name = strtok(NULL, ",")) {
    numbers[count] = number_of(name);
    if (numbers[count] < 0) {
      fprintf(stderr, "nosyscall: unknown system call '%s'\n", name);
      return 2;
    }
    ++count;
  }
  // arch check, load nr, one compare per number, allow.
  struct sock_filter code[5 + 2 * 8];
  int n = 0;
  code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                           offsetof(struct seccomp_data, arch));
  code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                           offsetof(struct seccomp_data, nr));
  for (int i = 0; i < count; ++i) {
    code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)numbers[i], 0, 1);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
  }
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  code[n++] = allow;
  struct sock_fprog program = {.len = (unsigned short)n, .filter = code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) {
    fprintf(stderr, "nosyscall: cannot install the filter: %s\n", strerror(errno));
    return 125;
  }
  execvp(argv[2], argv + 2);
  fprintf(stderr, "nosyscall: cannot run %s: %s\n", argv[2], strerror(errno));
  return 127;
}
