/* Shared by auth.c and auth-http.c. Internal. */
#pragma once
#include "auth/auth.h"

/* The credentials in force (borrowed; valid until the next reload). */
const struct auth_creds *auth_current(const struct auth *a);
/* --authenticate-metrics */
bool auth_metrics_guarded(const struct auth *a);
/* Whether credentials are configured (authentication on). */
bool auth_authenticates(const struct auth *a);
/* The ACLs in force, or NULL (everything allowed). */
#include "auth/acl.h"
const struct acls *auth_acls(const struct auth *a);
/* The audit log (O_APPEND), or -1. */
int auth_audit_fd(const struct auth *a);
struct master *auth_master(const struct auth *a);
