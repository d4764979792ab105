/*
 * version.h - release versions ("0.8.1", "0.8.1.3", "0.9.0-dev"): parsing,
 * ordering, the data version a release belongs to, the token that names
 * its indices ("v0_8_1"), and how a move between two releases is
 * classified (same / minor / major / downgrade). The rules are those of
 * DESIGN.md "Versions"; every upgrade decision in ferry goes through here.
 *
 * Accepted syntax: 1 to 4 dot-separated decimal numbers (0..4294967295,
 * no leading zeros except "0" itself), optionally followed by '-' and a
 * suffix of dot-separated identifiers made of letters, digits and '-'
 * ("dev", "rc.1", "beta-2"). The suffix is stored lowercased. Numeric
 * suffix identifiers have no leading zeros either, so two versions that
 * compare equal with the same number of parts print the same.
 *
 * Length limits: the whole string is at most 63 characters and the suffix
 * at most FVERSION_SUFFIX_MAX; with at most 10 digits per number this
 * guarantees that any release, its data version and its token fit in a
 * buffer of FVERSION_BUF bytes (and so in fname_parts.vtoken and the
 * 64-byte version fields of ferry.h).
 */
#ifndef FERRY_VERSION_H
#define FERRY_VERSION_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/ferry.h"

#define FVERSION_MAX_PARTS 4
#define FVERSION_LEN_MAX 63     /* characters in a version string */
#define FVERSION_SUFFIX_MAX 18  /* characters in a suffix (without '-') */
#define FVERSION_BUF 64         /* holds any version, data version, token */
#define FVERSION_DATA_PARTS_DEFAULT 3

typedef struct fversion {
	uint32_t n[FVERSION_MAX_PARTS]; /* numbers; unused ones are 0 */
	unsigned parts;                 /* how many were written, 1..4 */
	char suffix[32]; /* without the leading '-', lowercased; "" if none */
} fversion;

/* Parses `s` into `out`. Returns 0, or FERRY_EVERSION with a message that
 * quotes `s` and says what is wrong and what is expected: NULL or empty,
 * too long, whitespace, a leading 'v', '+' or '-', more than 4 numbers, an
 * empty number ("0..1", "1."), a non-digit, a leading zero ("08"), a
 * number above 4294967295, an empty suffix ("0.1-"), a suffix character
 * other than letters, digits, '.' and '-', an empty suffix identifier
 * ("0.1-rc..1"), a numeric suffix identifier with a leading zero
 * ("0.1-rc.01") or a suffix longer than FVERSION_SUFFIX_MAX. `out` is
 * untouched on error. */
int fversion_parse(const char *s, fversion *out, ferry_err *err);

/* Orders versions: -1, 0 or 1. Numbers first, missing parts being 0
 * ("0.8" == "0.8.0"); with equal numbers a version with a suffix comes
 * before the same without ("0.9.0-dev" < "0.9.0"); two suffixes compare
 * identifier by identifier like semver pre-releases: numeric ones
 * numerically, others in ASCII order, numeric before non-numeric, and a
 * shorter list of identifiers before a longer one it is a prefix of
 * ("rc" < "rc.1" < "rc.2" < "rc.10" < "rc1"). */
int fversion_cmp(const fversion *a, const fversion *b);

/* The data version of release `v`: its first `data_parts` numbers (missing
 * ones 0; out->parts = data_parts) and its suffix. data_parts 0 means the
 * default 3; values above 4 are taken as 4. `out` may be `v`. */
void fversion_data(const fversion *v, unsigned data_parts, fversion *out);

/* Writes `v` as text: v->parts numbers and "-suffix" if any ("0.8.1",
 * "0.8.1.3", "0.9.0-dev"). Returns 0, FERRY_ELIMIT if `buf` (n bytes) is
 * too small (FVERSION_BUF is always enough), FERRY_EINVAL if v->parts is
 * not 1..4. `buf` is untouched on error. */
int fversion_format(const fversion *v, char *buf, size_t n);

/* Writes the index-name token of a data version: 'v', the numbers joined
 * by '_', then "-suffix" with the suffix's dots turned into '_' too:
 * "v0_8_1", "v0_9_0-dev", "v1_0_0-rc_1". Same returns as fversion_format. */
int fversion_token(const fversion *data, char *buf, size_t n);

/* The inverse of fversion_token: parses "v0_8_1" into 0.8.1 (parts 3).
 * Only tokens fversion_token can produce are accepted (lowercase, no
 * leading zeros). Returns 0 or FERRY_EVERSION; `out` untouched on error. */
int fversion_parse_token(const char *tok, fversion *out, ferry_err *err);

/* 1 if `v` is a development build (has a suffix), else 0. */
int fversion_is_dev(const fversion *v);

enum fversion_change {
	FVERSION_SAME,     /* equal releases */
	FVERSION_MINOR,    /* newer release, same data version: no data work */
	FVERSION_MAJOR,    /* newer data version: migrations needed */
	FVERSION_DOWNGRADE /* older data version, or older release of it */
};

/* Classifies moving from release `from` to release `to` where data
 * versions have `data_parts` numbers (2..4; 0 means the default 3). The
 * direction comes from the releases: an older `to` is a DOWNGRADE (also
 * within one data version: 0.8.1.4 -> 0.8.1.1); a newer one is MINOR if
 * the data versions are equal (0.8.1.1 -> 0.8.1.4) and MAJOR otherwise
 * (0.8.0 -> 0.8.1). Suffixes are part of the data version, so
 * 0.8.1-dev -> 0.8.1 is MAJOR, 0.8.1.1-dev -> 0.8.1.2-dev MINOR, and
 * 0.8.1.0 -> 0.8.1.1-dev MAJOR (a newer release whose data version
 * 0.8.1-dev sorts before 0.8.1: never called a downgrade). */
enum fversion_change fversion_classify(const fversion *from,
				       const fversion *to,
				       unsigned data_parts);

#endif
