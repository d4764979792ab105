/*
 * fuzz_version.c - libFuzzer target for the version and name parsers
 * (src/core/version.c, src/core/names.c). The input is split at the first
 * newline into two strings A and B; on them it checks, besides memory
 * safety:
 *  - versions: parse -> format -> parse is the identity; the text fits
 *    FVERSION_BUF; every data version's token fits a name part and parses
 *    back to it; cmp is antisymmetric and classify agrees with cmp;
 *  - names: a parsed name passes the ES rules and rebuilds to itself;
 *    a name passing the part rules also passes the ES rules;
 *  - ids: an accepted id has no NUL and a sane length;
 *  - patterns: a name without special characters matches itself, "*"
 *    matches everything, and an exclusion of exactly the name hides it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/names.h"
#include "core/version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_IN 600

static void check_version(const char *s, fversion *out, int *ok)
{
	ferry_err err;
	char buf[FVERSION_BUF];
	fversion v, w;

	*ok = fversion_parse(s, &v, &err) == 0;
	if (!*ok) {
		if (err.code != FERRY_EVERSION || !strstr(err.msg, "bad version '"))
			abort();
		return;
	}
	if (v.parts < 1 || v.parts > FVERSION_MAX_PARTS ||
	    strlen(v.suffix) > FVERSION_SUFFIX_MAX)
		abort();
	for (const char *p = v.suffix; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			abort();
	if (fversion_format(&v, buf, sizeof buf) != 0)
		abort();
	if (fversion_parse(buf, &w, NULL) != 0 || memcmp(&v, &w, sizeof v))
		abort();
	if (fversion_cmp(&v, &w) != 0 ||
	    fversion_classify(&v, &w, 3) != FVERSION_SAME)
		abort();
	for (unsigned dp = 0; dp <= FVERSION_MAX_PARTS; dp++) {
		fversion d, back;
		fversion_data(&v, dp, &d);
		if (fversion_token(&d, buf, sizeof buf) != 0)
			abort();
		if (fname_check_part(buf, "index", NULL) != 0)
			abort();
		if (fversion_parse_token(buf, &back, NULL) != 0 ||
		    memcmp(&back, &d, sizeof d))
			abort();
		if (fversion_format(&d, buf, sizeof buf) != 0)
			abort();
		if (fversion_cmp(&d, &v) > 0)
			abort(); /* truncating numbers never makes it newer */
	}
	*out = v;
}

static void check_pair(const fversion *a, const fversion *b)
{
	int ab = fversion_cmp(a, b);
	int ba = fversion_cmp(b, a);

	if (ab != -ba || ab < -1 || ab > 1)
		abort();
	for (unsigned dp = 0; dp <= FVERSION_MAX_PARTS; dp++) {
		enum fversion_change c = fversion_classify(a, b, dp);
		enum fversion_change r = fversion_classify(b, a, dp);
		if (ab == 0 && (c != FVERSION_SAME || r != FVERSION_SAME))
			abort();
		if (ab < 0 && (c == FVERSION_SAME || c == FVERSION_DOWNGRADE ||
			       r != FVERSION_DOWNGRADE))
			abort();
		if (ab > 0 && (c != FVERSION_DOWNGRADE || r == FVERSION_SAME ||
			       r == FVERSION_DOWNGRADE))
			abort();
	}
}

static void check_name(const char *s)
{
	ferry_err err;
	fname_parts p;
	char buf[FERRY_NAME_MAX + 1];

	int part_ok = fname_check_part(s, "index", NULL) == 0;
	if (part_ok && fname_check_physical(s, NULL) != 0)
		abort();
	if (fname_parse(s, &p, &err) != 0) {
		if (err.code != FERRY_ENAME || part_ok)
			abort();
		return;
	}
	if (fname_check_physical(s, NULL) != 0)
		abort();
	switch (p.kind) {
	case FNAME_LOGICAL:
		if (!part_ok || strcmp(p.index, s))
			abort();
		break;
	case FNAME_ALIAS:
		if (fname_alias(p.tenant, p.index, buf, sizeof buf) ||
		    strcmp(buf, s))
			abort();
		break;
	case FNAME_PHYSICAL:
		if (fname_physical(p.vtoken, p.tenant, p.index, buf,
				   sizeof buf) || strcmp(buf, s))
			abort();
		break;
	case FNAME_OTHER:
		if (part_ok || p.vtoken[0] || p.tenant[0] || p.index[0])
			abort();
		break;
	default:
		abort();
	}
}

static void check_glob(const char *pat, const char *s)
{
	char excl[MAX_IN + 2];

	(void)fname_glob(pat, s);
	if (!fname_glob("*", s) || !fname_glob(NULL, s))
		abort();
	if (*s && !strpbrk(s, "*?,") && s[0] != '-' && strcmp(s, "_all")) {
		if (!fname_glob(s, s))
			abort();
		excl[0] = '-';
		strcpy(excl + 1, s);
		if (fname_glob(excl, s))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[MAX_IN + 1];
	fversion va, vb;
	int oka = 0, okb = 0;

	if (size > MAX_IN)
		return 0;
	if (fname_check_id((const char *)data, size, NULL) == 0 &&
	    (size == 0 || size > FERRY_ID_MAX || memchr(data, 0, size)))
		abort();
	memcpy(in, data, size);
	in[size] = '\0';
	char *a = in;
	char *nl = strchr(in, '\n');
	char *b = nl ? nl + 1 : in;
	if (nl)
		*nl = '\0';

	check_version(a, &va, &oka);
	check_version(b, &vb, &okb);
	if (oka && okb)
		check_pair(&va, &vb);
	check_name(a);
	check_name(b);
	check_glob(a, b);
	return 0;
}
