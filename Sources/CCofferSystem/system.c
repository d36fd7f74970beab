#include "CCofferSystem.h"

#if defined(__linux__)
#include <sys/prctl.h>

int coffer_disable_dumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }
#else
int coffer_disable_dumpable(void) { return 0; }
#endif
