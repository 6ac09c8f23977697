/* Helpers shared by the harnesses. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "profile.h"

const char *
fuzz_root(void)
{
	const char *r = getenv("GRIDCAL_ROOT");

	return r != NULL && *r != '\0' ? r : ".";
}

void
fuzz_reference_profile(struct profile *pf)
{
	char path[4096], err[PROFILE_ERR_MAX];
	const char *p = getenv("FUZZ_PROFILE");

	if (p == NULL) {
		(void)snprintf(path, sizeof(path), "%s/profiles/eg4-lp4-v2.yaml",
		    fuzz_root());
		p = path;
	}
	if (profile_load(p, pf, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz: %s\n", err);
		exit(1);
	}
}
