/** @file store_clock.c  Wall-clock times on disk (see store.h).
 *
 * Every time written to a record is the wall time minus `shift`, the sum
 * of the wall-clock steps seen while a store was open (reminder times:
 * minus `remind`, the sum of the steps of a synchronized clock, see
 * wall.h). A step moves the offsets, one 16-byte write to the meta table
 * that joins the open group, and so every time on disk at once: no record
 * is rewritten, however many there are or however full the store is.
 */
#include <errno.h>
#include <string.h>

#define LOG_MODULE "store"
#include "log.h"
#include "store_priv.h"
#include "wall.h"

#define CLOCK_KEY "clock"

static int64_t shift, remind;

static int on_step(void *ev, void *arg)
{
	const struct wall_step *st = ev;
	int64_t v[2];
	MDB_txn *t;
	int rc;

	(void)arg;
	shift += st->delta;
	if (st->synced) {
		remind += st->delta;
	}
	v[0] = shift;
	v[1] = remind;
	rc = store_txn_begin(&t, 0);
	if (!rc) {
		rc = store_txn_end(t, store_put(t, T_META, CLOCK_KEY,
						strlen(CLOCK_KEY), v,
						sizeof(v)));
	}
	if (rc) {
		LOG_ERR("stored times not moved by the clock step: %s",
			store_strerror(rc));
	}
	return 0;
}

int store_clock_open(void)
{
	MDB_val k = {strlen(CLOCK_KEY), CLOCK_KEY}, v;
	int64_t o[2] = {0, 0};
	MDB_txn *t;
	int rc = store_txn_begin(&t, MDB_RDONLY);

	if (rc) {
		return rc;
	}
	rc = mdb_get(t, store_dbi[T_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		rc = 0; /* no step yet: times on disk are wall times */
	} else if (!rc && v.mv_size == sizeof(o)) {
		memcpy(o, v.mv_data, sizeof(o));
	} else {
		rc = EIO;
	}
	store_txn_abort(t);
	if (rc) {
		return rc;
	}
	shift = o[0];
	remind = o[1];
	return wall_observe(on_step, NULL);
}

void store_clock_close(void)
{
	wall_unobserve(on_step, NULL);
	shift = remind = 0;
}

int64_t store_time_to_disk(int64_t t)
{
	return t - shift;
}

int64_t store_time_from_disk(int64_t t)
{
	return t + shift;
}

int64_t store_remind_to_disk(int64_t t)
{
	return t ? t - remind : 0;
}

int64_t store_remind_from_disk(int64_t t)
{
	return t ? t + remind : 0;
}
