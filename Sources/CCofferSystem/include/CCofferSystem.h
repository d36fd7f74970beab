#ifndef C_COFFER_SYSTEM_H
#define C_COFFER_SYSTEM_H

#include <stddef.h>

/// Marks the process not dumpable (Linux `prctl(PR_SET_DUMPABLE, 0)`), so no core file and no ptrace
/// by other users. Returns 0 on success, -1 with errno set, or 0 where the call does not exist.
int coffer_disable_dumpable(void);

/// Fills `count` bytes at `buffer` from the kernel's CSPRNG (Linux `getrandom(2)` with no flags: it blocks
/// only until the pool is first initialized, retries on EINTR and short reads; `arc4random_buf` elsewhere).
/// Returns 0 when every byte was written, -1 with errno set otherwise.
int coffer_getrandom(void *buffer, size_t count);

#endif
