/** @file hook.h  "Tell me when X happens": the one way modules meet. The
 * module that owns an event keeps a hook list; modules above it add
 * handlers at start through the owner's function (reg_observe(),
 * offline_observe(), msg_claim()). Handlers run in the order they were
 * added. A handler that returns non-zero has taken the event and ends
 * the walk: that is how a service claims a MESSAGE target before the
 * relay sees it; observers return 0.
 */
#ifndef CORE_HOOK_H
#define CORE_HOOK_H

/** ev is the owner's event structure (documented beside its list). */
typedef int (hook_h)(void *ev, void *arg);

/** Most handlers on one list. */
#define HOOK_MAX 4

struct hook_list {
	unsigned n;
	struct {
		hook_h *h;
		void *arg;
	} e[HOOK_MAX];
};

/** @return 0 or ENOSPC (HOOK_MAX handlers already). */
int hook_add(struct hook_list *l, hook_h *h, void *arg);
/** Run the handlers on ev. @return the first non-zero, or 0. */
int hook_run(const struct hook_list *l, void *ev);
/** Remove the handler added with h and arg (nothing if absent). */
void hook_del(struct hook_list *l, hook_h *h, void *arg);
void hook_clear(struct hook_list *l);

#endif
