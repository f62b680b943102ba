/** @file probe.c  Layering probe: includes PROBE_HEADER while linked to
 * PROBE_MODULE only (see CMakeLists.txt beside it). It compiles when the
 * module may use that header, and fails when the header belongs to a
 * module above it or beside it. */
#include PROBE_HEADER

int probe_dummy(void);

int probe_dummy(void)
{
	return 0;
}
