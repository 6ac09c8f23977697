/*
 * Shared by the libFuzzer harnesses in tests/fuzz/. An oracle that fails
 * is a finding: it prints what was violated and aborts, so libFuzzer keeps
 * the input as a crash-* file.
 */
#ifndef GRIDCAL_FUZZ_H
#define GRIDCAL_FUZZ_H

#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define FUZZ_ASSERT(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "ORACLE %s:%d: %s: ", __FILE__, __LINE__, \
		    #cond);						\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/* The source tree (GRIDCAL_ROOT, else the current directory). */
const char *fuzz_root(void);
/* Loads profiles/eg4-lp4-v2.yaml (or FUZZ_PROFILE) or exits. */
struct profile;
void	fuzz_reference_profile(struct profile *);

/*
 * A private scratch directory for a harness that writes files on every
 * execution: mkdtemp() of <base>/gridcal-fuzz-<name>.XXXXXX in dir, exit
 * on failure. The base is $FUZZ_TMPDIR, else /dev/shm when it is a
 * directory (tmpfs: on ext4 a rewritten file is flushed on close and its
 * inode created and freed through the journal, which cost the audit and
 * profile harnesses a fifth of their time), else /tmp.
 */
static inline void
fuzz_mkdtemp(char *dir, size_t dirsz, const char *name)
{
	const char *base = getenv("FUZZ_TMPDIR");
	struct stat st;
	int n;

	if (base == NULL || *base == '\0')
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
		    access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
	n = snprintf(dir, dirsz, "%s/gridcal-fuzz-%s.XXXXXX", base, name);
	if (n < 0 || (size_t)n >= dirsz || mkdtemp(dir) == NULL) {
		perror("fuzz: mkdtemp");
		exit(1);
	}
}

/* A cursor over the fuzz input: reads past the end give zeros. */
struct fuzz_in {
	const uint8_t	*p;
	size_t		 n;
};

static inline int
fuzz_more(const struct fuzz_in *in)
{
	return in->n > 0;
}

static inline uint8_t
fuzz_u8(struct fuzz_in *in)
{
	uint8_t b = 0;

	if (in->n > 0) {
		b = *in->p++;
		in->n--;
	}
	return b;
}

static inline uint16_t
fuzz_u16(struct fuzz_in *in)
{
	uint16_t lo = fuzz_u8(in);

	return (uint16_t)(lo | (uint16_t)fuzz_u8(in) << 8);
}

/* Up to max bytes; *len gets how many are really there. */
static inline const uint8_t *
fuzz_bytes(struct fuzz_in *in, size_t max, size_t *len)
{
	const uint8_t *p = in->p;

	*len = max < in->n ? max : in->n;
	in->p += *len;
	in->n -= *len;
	return p;
}

#endif
