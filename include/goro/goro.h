// goro: Go's concurrency model for C++, with goroutine-leak observability.
// The umbrella header; each part is documented in its own header.
#pragma once

#include "goro/chan.h"
#include "goro/context.h"
#include "goro/debug.h"
#include "goro/error.h"
#include "goro/go.h"
#include "goro/group.h"
#include "goro/labels.h"
#include "goro/limiter.h"
#include "goro/pool.h"
#include "goro/select.h"
#include "goro/sync.h"
#include "goro/time.h"
