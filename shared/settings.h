/*
 * What both profile loaders (shared/profile.c, the supervisor's and the
 * tools'; watchdog/conf.c, the watchdog's own) and the socketpair protocol
 * agree on: the two settings, their two values, and the sizes of a
 * profile. Nothing else, so that the watchdog need not include the full
 * loader's header.
 */
#ifndef GRIDCAL_SETTINGS_H
#define GRIDCAL_SETTINGS_H

#define PROFILE_MAX_PACKS	16
#define PROFILE_MAX_UNITS	4
#define PROFILE_TOPIC_MAX	128
#define PROFILE_WORD_MAX	64	/* readbacks up to 63 characters */
#define PROFILE_POINTER_MAX	64
#define PROFILE_ERR_MAX		512
#define PROFILE_DIGEST_LEN	32	/* SHA-256 of the file's bytes */

enum setting {
	SETTING_OUTPUT_PRIORITY,	/* POP */
	SETTING_CHARGER_PRIORITY,	/* PCP */
	SETTING_COUNT
};

enum setting_value {
	VALUE_EVERYDAY,
	VALUE_CALIBRATION,
	VALUE_COUNT
};

#endif
