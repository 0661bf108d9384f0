// Invariant checks (STYLE.md section 5). IOCGRID_CHECK aborts in every build; IOCGRID_DCHECK
// only in debug builds. Neither is ever used to validate input data: bad input is a Status.
#pragma once

#include <cstdio>
#include <cstdlib>

#define IOCGRID_CHECK(cond)                                                         \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (false)

#ifdef NDEBUG
#define IOCGRID_DCHECK(cond) \
  do {                       \
  } while (false)
#else
#define IOCGRID_DCHECK(cond) IOCGRID_CHECK(cond)
#endif
