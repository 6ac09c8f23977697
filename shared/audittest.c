/* Tests and benchmarks only (audittest.h). */
#include "audittest.h"

void
audit_set_nosync(struct audit_log *al, int nosync)
{
	al->nosync = nosync;
}
