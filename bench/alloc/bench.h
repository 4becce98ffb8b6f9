/* bench/alloc: what alloc.c (simulated agents, the apps-framework mode) shares with
 * fwsim.c (the frameworks mode). */
#pragma once
#include <stddef.h>

#include "../common/agent-sim.h"
#include "apps/apps-int.h"
#include "master/master-int.h"

/* The frameworks mode: nfw in-process frameworks place tasks over the agents through real
 * offers; prints one line of figures. 0 when every task runs. */
int bench_frameworks(struct master *m, unsigned agents, unsigned nfw, size_t tasks);
