/*
 * Landlock through the raw system calls (glibc has no wrappers), with the
 * constants of later ABIs than Debian's header knows: each right is used
 * only if the running kernel's ABI has it.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <errno.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <unistd.h>

#include "landlock.h"

#define FS_WRITE_FILE	(1ULL << 1)
#define FS_WRITES_ABI1	0x1ff2ULL	/* WRITE_FILE, REMOVE_*, MAKE_* */
#define FS_REFER	(1ULL << 13)	/* ABI 2 */
#define FS_TRUNCATE	(1ULL << 14)	/* ABI 3 */
#define FS_IOCTL_DEV	(1ULL << 15)	/* ABI 5 */
#define NET_BIND_TCP	(1ULL << 0)	/* ABI 4 */
#define NET_CONNECT_TCP	(1ULL << 1)
#define SCOPE_ALL	0x3ULL		/* ABI 6: abstract unix, signal */
#define RULE_PATH	1
#define RULE_NET	2

struct ll_attr {	/* struct landlock_ruleset_attr, ABI 6 */
	uint64_t	fs, net, scoped;
};
struct ll_path {	/* struct landlock_path_beneath_attr (packed) */
	uint64_t	allowed;
	int32_t		fd;
} __attribute__((packed));
struct ll_net {		/* struct landlock_net_port_attr */
	uint64_t	allowed;
	uint64_t	port;
};

static int
add(int rs, int type, const void *attr)
{
	return (int)syscall(SYS_landlock_add_rule, rs, type, attr, 0);
}

int
ll_restrict(const struct ll_rule *r, int nrules, const uint16_t *ports,
    int n_ports, int scoped)
{
	struct ll_attr a = { .fs = FS_WRITES_ABI1 };
	size_t sz = sizeof(uint64_t);
	int abi, rs, saved, rc = 0;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)	/* not built in, disabled, or filtered (EPERM) */
		return errno == ENOSYS || errno == EOPNOTSUPP ||
		    errno == EPERM ? 1 : -1;
	a.fs |= (abi >= 2 ? FS_REFER : 0) | (abi >= 3 ? FS_TRUNCATE : 0) |
	    (abi >= 5 ? FS_IOCTL_DEV : 0);
	if (abi >= 4 && n_ports >= 0) {
		a.net = NET_BIND_TCP | NET_CONNECT_TCP;
		sz = 2 * sizeof(uint64_t);
	}
	if (abi >= 6 && scoped) {
		a.scoped = SCOPE_ALL;
		sz = sizeof(a);
	}
	if ((rs = (int)syscall(SYS_landlock_create_ruleset, &a, sz, 0)) == -1)
		return -1;
	for (int i = 0; i < nrules && rc == 0; i++)
		rc = add(rs, RULE_PATH, &(struct ll_path){ r[i].dir ? a.fs &
		    ~(abi >= 5 ? FS_IOCTL_DEV : 0) : a.fs & (FS_WRITE_FILE |
		    FS_TRUNCATE), r[i].fd });
	for (int i = 0; a.net != 0 && i < n_ports && rc == 0; i++)
		rc = add(rs, RULE_NET, &(struct ll_net){ NET_CONNECT_TCP,
		    ports[i] });
	if (rc == 0)
		rc = (int)syscall(SYS_landlock_restrict_self, rs, 0);
	saved = errno;
	(void)close(rs);
	errno = saved;
	return rc == 0 ? 0 : -1;
}
