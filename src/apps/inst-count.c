/* What the status, health, deployment and upgrade paths would otherwise count by looking
 * at every instance, kept as instances change (issue 12).
 *
 * Invariants (for every app ma and instance in of it, after each change of in's goal,
 * phase, state, healthy, ready, kill_sent, version, agent_id or pinned_agent followed by
 * apps_inst_recount):
 *  - ma->cnt[k] is the number of ma's instances for which flags_of(in) has bit k, and
 *    in->kflags == flags_of(in) (what in is counted in);
 *  - ma->vers holds, per version, exactly the LIVE instances at that version (in->vb);
 *    no bucket is empty;
 *  - m->by_agent holds, per agent id, exactly the LIVE instances with that agent_id
 *    (in->aset) and the instances pinned there (in->pset); no set is left empty;
 *  - m->vol_held counts, per external non-shared volume name, the LIVE instances whose
 *    task holds it (in->vheld: the names its definition gave when it became LIVE, which
 *    is what its task holds even after the definition changed).
 * Cost: O(1) per change (O(volumes) when an instance becomes or stops being LIVE). */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "model/volumes.h"
#include "apps/apps-int.h"

struct vbucket {
	char version[32];
	struct iheap set;
};

struct agent_set {
	char *id;
	struct iheap live, pinned;
};

static bool first_none(const void *a, const void *b)
{
	(void)a;
	(void)b;
	return false;
}

static uint16_t flags_of(const struct m_instance *in)
{
	uint16_t f = 0;
	if (in->phase != INST_LIVE)
		return 0;
	bool running = in->state && !strcmp(in->state, "TASK_RUNNING");
	if (running)
		f |= 1u << K_RUNNING;
	else if (in->state &&
		 (!strcmp(in->state, "TASK_STAGING") || !strcmp(in->state, "TASK_STARTING")))
		f |= 1u << K_STAGED;
	if (in->healthy == 1)
		f |= 1u << K_HEALTHY;
	else if (in->healthy == 0)
		f |= 1u << K_UNHEALTHY;
	if (in->goal != GOAL_RUN)
		return f;
	if (in->kill_sent)
		f |= 1u << K_RUN_KILL;
	if (running) {
		f |= 1u << K_UP;
		if (in->healthy == 1)
			f |= 1u << K_UP_H;
		if (in->ready)
			f |= 1u << K_UP_R;
		if (in->healthy == 1 && in->ready)
			f |= 1u << K_UP_HR;
	}
	return f;
}

void apps_count_init(struct m_app *ma)
{
	memset(ma->cnt, 0, sizeof(ma->cnt));
	hmap_init(&ma->vers);
}

void apps_count_release(struct m_app *ma)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&ma->vers, &i, &k, &v);) {
		struct vbucket *b = v;
		iheap_release(&b->set);
		free(b);
	}
	hmap_release(&ma->vers);
}

void apps_by_agent_free(struct apps *m)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->by_agent, &i, &k, &v);) {
		struct agent_set *s = v;
		iheap_release(&s->live);
		iheap_release(&s->pinned);
		free(s->id);
		free(s);
	}
	hmap_release(&m->by_agent);
	hmap_init(&m->by_agent);
	hmap_release(&m->vol_held);
	hmap_init(&m->vol_held);
}

/* ---- versions ---- */

static void version_leave(struct m_instance *in)
{
	struct vbucket *b = in->vb;
	if (!b)
		return;
	iheap_remove(&b->set, in);
	in->vb = NULL;
	if (!iheap_len(&b->set)) {
		hmap_del(&in->app->vers, b->version);
		iheap_release(&b->set);
		free(b);
	}
}

static void version_sync(struct m_instance *in)
{
	bool want = in->phase == INST_LIVE;
	if (in->vb && (!want || strcmp(in->vb->version, in->version)))
		version_leave(in);
	if (!want || in->vb)
		return;
	struct vbucket *b = hmap_get(&in->app->vers, in->version);
	if (!b) {
		b = xcalloc(1, sizeof(*b));
		snprintf(b->version, sizeof(b->version), "%s", in->version);
		iheap_init(&b->set, offsetof(struct m_instance, vpos), first_none);
		hmap_put(&in->app->vers, b->version, b);
	}
	iheap_push(&b->set, in);
	in->vb = b;
}

bool apps_any_live_outdated(const struct m_app *ma)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&ma->vers, &i, &k, &v);)
		if (strcmp(k, ma->config_version) < 0)
			return true;
	return false;
}

void apps_live_outdated(const struct m_app *ma, struct m_instance ***out, size_t *n,
			size_t *cap)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&ma->vers, &i, &k, &v);) {
		const struct vbucket *b = v;
		if (strcmp(k, ma->config_version) >= 0)
			continue;
		size_t len = iheap_len(&b->set);
		if (*n + len > *cap) {
			*cap = (*n + len) * 2;
			*out = xrealloc(*out, *cap * sizeof(**out));
		}
		for (size_t j = 0; j < len; j++)
			(*out)[(*n)++] = iheap_at(&b->set, j);
	}
}

/* ---- agents ---- */

static struct agent_set *agent_set_get(struct apps *m, const char *id)
{
	struct agent_set *s = hmap_get(&m->by_agent, id);
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->id = xstrdup(id);
		iheap_init(&s->live, offsetof(struct m_instance, apos), first_none);
		iheap_init(&s->pinned, offsetof(struct m_instance, ppos), first_none);
		hmap_put(&m->by_agent, id, s);
	}
	return s;
}

static void agent_set_gc(struct apps *m, struct agent_set *s)
{
	if (iheap_len(&s->live) || iheap_len(&s->pinned))
		return;
	hmap_del(&m->by_agent, s->id);
	iheap_release(&s->live);
	iheap_release(&s->pinned);
	free(s->id);
	free(s);
}

/* Moves in into the set of agent id (NULL: none) of kind pinned. */
static void agent_sync(struct apps *m, struct m_instance *in, const char *id, bool pinned)
{
	struct agent_set **cur = pinned ? &in->pset : &in->aset;
	if (*cur && id && m && !strcmp((*cur)->id, id))
		return; /* where it was */
	if (*cur) {
		struct agent_set *old = *cur;
		iheap_remove(pinned ? &old->pinned : &old->live, in);
		*cur = NULL;
		if (m)
			agent_set_gc(m, old);
	}
	if (!id || !m)
		return;
	struct agent_set *want = agent_set_get(m, id);
	iheap_push(pinned ? &want->pinned : &want->live, in);
	*cur = want;
}

struct m_instance **apps_insts_on_agent(struct apps *m, const char *id, bool pinned,
					size_t *n)
{
	struct agent_set *s = hmap_get(&m->by_agent, id);
	const struct iheap *h = s ? (pinned ? &s->pinned : &s->live) : NULL;
	*n = h ? iheap_len(h) : 0;
	struct m_instance **out = xcalloc(*n + 1, sizeof(*out));
	for (size_t i = 0; i < *n; i++)
		out[i] = iheap_at(h, i);
	return out;
}

/* ---- external volumes ---- */

static void vol_add(struct apps *m, const char *name, int d)
{
	uintptr_t c = (uintptr_t)hmap_get(&m->vol_held, name);
	c = (uintptr_t)((intptr_t)c + d);
	if (c)
		hmap_put(&m->vol_held, name, (void *)c);
	else
		hmap_del(&m->vol_held, name);
}

static void vol_sync(struct apps *m, struct m_instance *in)
{
	bool want = in->phase == INST_LIVE && m;
	if (!want && in->vheld) {
		for (size_t i = 0; i < in->nvheld; i++) {
			if (m)
				vol_add(m, in->vheld[i], -1);
			free(in->vheld[i]);
		}
		free(in->vheld);
		in->vheld = NULL;
		in->nvheld = 0;
	}
	if (!want || in->vheld)
		return;
	const struct app *def = in->app->def;
	in->vheld = xcalloc(def->nvolumes + 1, sizeof(*in->vheld));
	for (size_t i = 0; i < def->nvolumes; i++) {
		const struct app_volume *vol = &def->volumes[i];
		if (vol->type != VOL_EXTERNAL || vol->shared)
			continue;
		char *name = volume_name_for(vol, in->index);
		vol_add(m, name, 1);
		in->vheld[in->nvheld++] = name;
	}
}

bool apps_volume_held(struct apps *m, const char *name, const struct m_instance *self)
{
	uintptr_t c = (uintptr_t)hmap_get(&m->vol_held, name);
	if (self && self->vheld)
		for (size_t i = 0; i < self->nvheld; i++)
			if (!strcmp(self->vheld[i], name))
				c--;
	return c > 0;
}

/* ---- the counts ---- */

void apps_inst_recount(struct m_instance *in)
{
	if (!in)
		return;
	struct m_app *ma = in->app;
	uint16_t f = flags_of(in), was = in->kflags;
	for (int k = 0; was != f && k < K_N; k++) {
		uint16_t bit = (uint16_t)(1u << k);
		if ((was & bit) && !(f & bit))
			ma->cnt[k]--;
		else if (!(was & bit) && (f & bit))
			ma->cnt[k]++;
	}
	in->kflags = f;
	version_sync(in);
	struct apps *m = ma->owner;
	agent_sync(m, in, in->phase == INST_LIVE ? in->agent_id : NULL, false);
	agent_sync(m, in, in->pinned_agent, true);
	vol_sync(m, in);
}

void apps_inst_uncount(struct m_instance *in)
{
	struct m_app *ma = in->app;
	for (int k = 0; k < K_N; k++)
		if (in->kflags & (1u << k))
			ma->cnt[k]--;
	in->kflags = 0;
	version_leave(in);
	agent_sync(ma->owner, in, NULL, false);
	agent_sync(ma->owner, in, NULL, true);
	enum inst_phase ph = in->phase;
	in->phase = INST_WAITING;
	vol_sync(ma->owner, in);
	in->phase = ph;
}

size_t apps_up_count(const struct m_app *ma)
{
	bool h = ma->def->nhealth_checks, r = ma->def->nreadiness_checks;
	return ma->cnt[h ? (r ? K_UP_HR : K_UP_H) : (r ? K_UP_R : K_UP)];
}
