#include "CCofferSystem.h"

#include <errno.h>

#if defined(__linux__)
#include <sys/prctl.h>
#include <sys/random.h>

int coffer_disable_dumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

int coffer_getrandom(void *buffer, size_t count) {
    unsigned char *next = buffer;
    while (count > 0) {
        ssize_t got = getrandom(next, count, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        next += got;
        count -= (size_t)got;
    }
    return 0;
}
#else
#include <stdlib.h>

int coffer_disable_dumpable(void) { return 0; }

int coffer_getrandom(void *buffer, size_t count) {
    arc4random_buf(buffer, count);
    return 0;
}
#endif
