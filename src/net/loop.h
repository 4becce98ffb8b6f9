/* Running a daemon's event loop: until SIGTERM or SIGINT. */
#pragma once
#include <event2/event.h>

/* Runs base until SIGTERM or SIGINT arrives, then returns 0 (after logging "received
 * SIGTERM, stopping" as component who, borrowed); -ENOMEM when the signal events cannot be
 * made (nothing ran). The signals are watched only while it runs. */
int loop_run_until_signal(struct event_base *base, const char *who);
