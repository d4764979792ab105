/*
 * fuzz_manifest.c - libFuzzer target for the snapshot manifest parser
 * (src/snapshot/manifest.c) and the chunk record reader (chunk.c).
 * Besides memory safety it checks:
 *  - the parser with its checksum check never accepts what it rejects
 *    without it, and every error is FERRY_ECORRUPT, FERRY_EVERSION or
 *    FERRY_ENOMEM with a message;
 *  - an accepted manifest written back parses again, with its checksum,
 *    to a manifest that writes the same text (write o parse is stable);
 *  - the record reader never reads past its input and always advances,
 *    and a document's body rebuilt from a format 2 record ('E': its id
 *    left out) compares equal to the record.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_records(const uint8_t *data, size_t size)
{
	size_t off = 0;
	fsnap_rec r;
	int rc;
	fbuf tmp;
	fbuf_init(&tmp, 0);
	while ((rc = fsnap_rec_next(data, size, &off, &r)) == 0) {
		if (off > size || r.idlen == 0 || r.idlen > FERRY_ID_MAX ||
		    (const uint8_t *)r.body + r.body_len > data + size ||
		    (r.type != FSNAP_REC_DOC && r.type != FSNAP_REC_TOMB))
			abort();
		if (r.type == FSNAP_REC_DOC) { /* the rebuilt body equals itself */
			size_t n;
			const char *b = fsnap_rec_body(&r, &tmp, &n);
			if (!b || !fsnap_rec_body_eq(&r, b, n) ||
			    n < r.body_len || (r.elided && n != r.body_len +
					       r.idlen + 8))
				abort();
		}
	}
	fbuf_release(&tmp);
	if (rc != FERRY_EOF && rc != FERRY_ECORRUPT)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fsnap_manifest *m = NULL, *m2 = NULL, *m3 = NULL;
	ferry_err err = {0, ""};
	fbuf t1, t2;
	const char *s = (const char *)data;

	check_records(data, size);
	if (size > (1u << 20))
		return 0;
	int loose = fsnap_manifest_parse(s, size, FSNAP_PARSE_NOCHECK, "fuzz",
					 &m, &err);
	if (loose && loose != FERRY_ECORRUPT && loose != FERRY_EVERSION &&
	    loose != FERRY_ENOMEM)
		abort();
	if (loose && !err.msg[0])
		abort();
	int strict = fsnap_manifest_parse(s, size, 0, "fuzz", &m3, NULL);
	if (!strict && loose)
		abort(); /* the checksum may only take away */
	fsnap_manifest_free(m3);
	if (loose)
		return 0;

	fbuf_init(&t1, 0);
	fbuf_init(&t2, 0);
	if (fsnap_manifest_write(m, &t1))
		abort();
	if (fsnap_manifest_parse(t1.p, t1.len, 0, "fuzz", &m2, &err))
		abort(); /* what we write we read, checksum included */
	if (fsnap_manifest_write(m2, &t2) || t1.len != t2.len ||
	    memcmp(t1.p, t2.p, t1.len))
		abort();
	if (m2->nix != m->nix)
		abort();
	for (size_t i = 0; i < m->nix; i++)
		if (m->ix[i].nparts != m2->ix[i].nparts ||
		    strcmp(m->ix[i].name, m2->ix[i].name))
			abort();
	fsnap_manifest_free(m2);
	fsnap_manifest_free(m);
	fbuf_release(&t1);
	fbuf_release(&t2);
	return 0;
}
