/*
 * Runs every unit-test suite. Each tests/unit/test_<name>.c exposes
 * Suite *<name>_suite(void); add one line to each list below.
 */
#include <stdlib.h>

#include <check.h>

Suite	*audit_suite(void);
Suite	*cred_suite(void);
Suite	*parse_suite(void);
Suite	*profile_suite(void);
Suite	*proto_suite(void);
Suite	*seal_suite(void);
Suite	*telemetry_suite(void);

int
main(void)
{
	Suite *(*const suites[])(void) = {
		audit_suite,
		cred_suite,
		parse_suite,
		profile_suite,
		proto_suite,
		seal_suite,
		telemetry_suite,
	};
	SRunner *sr = srunner_create(NULL);
	int failed;

	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
