#ifndef C_COFFER_SYSTEM_H
#define C_COFFER_SYSTEM_H

/// Marks the process not dumpable (Linux `prctl(PR_SET_DUMPABLE, 0)`), so no core file and no ptrace
/// by other users. Returns 0 on success, -1 with errno set, or 0 where the call does not exist.
int coffer_disable_dumpable(void);

#endif
