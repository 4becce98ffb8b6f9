/* Shared by auth.c and auth-http.c. Internal. */
#pragma once
#include "auth/auth.h"

/* The credentials in force (borrowed; valid until the next reload). */
const struct auth_creds *auth_current(const struct auth *a);
/* --authenticate-metrics */
bool auth_metrics_guarded(const struct auth *a);
