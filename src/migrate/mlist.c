/*
 * mlist.c - ferry_migration_list(): what a migrations directory offers,
 * as JSON, for `GET /migrations` and the web page: every hop file with
 * its description and breaking changes, and the data versions a chain of
 * hops leads to from the active one (the targets an upgrade can choose).
 * It reads the directory with the same loader the planner uses, so a
 * target listed here is one ferry_upgrade_plan can plan.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/version.h"
#include "migrate/uplan.h"

/* Target data versions: formatted, parsed, sorted, without duplicates. */
typedef struct mtarget {
	char text[FVERSION_BUF];
	fversion v;
} mtarget;

static int mtarget_cmp(const void *a, const void *b)
{
	return fversion_cmp(&((const mtarget *)a)->v, &((const mtarget *)b)->v);
}

int fmig_hop_json(const fmig_hop_info *h, int file_base, fbuf *out)
{
	const char *base = file_base ? strrchr(h->path, '/') : NULL;
	base = base ? base + 1 : h->path;
	int rc = fbuf_adds(out, "{\"from\":");
	rc = rc ? rc : fbuf_add_jstr(out, h->from, strlen(h->from));
	rc = rc ? rc : fbuf_adds(out, ",\"to\":");
	rc = rc ? rc : fbuf_add_jstr(out, h->to, strlen(h->to));
	rc = rc ? rc : fbuf_adds(out, ",\"file\":");
	rc = rc ? rc : fbuf_add_jstr(out, base, strlen(base));
	rc = rc ? rc : fbuf_addf(out, ",\"checksum\":\"%s\",\"description\":",
				 h->checksum);
	rc = rc ? rc : fbuf_add_jstr(out, h->description,
				     strlen(h->description));
	rc = rc ? rc : fbuf_adds(out, ",\"breaking\":[");
	for (size_t k = 0; !rc && k < h->nbreaking; k++) {
		rc = k ? fbuf_addc(out, ',') : 0;
		rc = rc ? rc : fbuf_add_jstr(out, h->breaking[k],
					     strlen(h->breaking[k]));
	}
	return rc ? rc : fbuf_adds(out, "]}");
}

/* Fills t[0..*n) with the data versions reachable from `active`. */
static int find_targets(const fmig_set *s, const ferry_status *st,
			mtarget *t, size_t *n)
{
	fversion act, v;
	*n = 0;
	if (fversion_parse(st->data_version, &act, NULL))
		return 0;
	for (size_t i = 0; i < fmig_set_count(s); i++) {
		const fmig_hop_info *h = fmig_set_hop(s, i);
		fmig_chain *c = NULL;
		if (fversion_parse(h->to, &v, NULL))
			continue;
		fversion_data(&v, st->data_parts, &v);
		if (fversion_cmp(&v, &act) <= 0 ||
		    fmig_plan_chain(s, st->data_version, h->to, &c, NULL))
			continue;
		fmig_chain_free(c);
		size_t k = 0;
		while (k < *n && fversion_cmp(&t[k].v, &v))
			k++;
		if (k < *n)
			continue;
		t[*n].v = v;
		if (fversion_format(&v, t[*n].text, sizeof t[*n].text))
			continue;
		(*n)++;
	}
	qsort(t, *n, sizeof *t, mtarget_cmp);
	return 0;
}

static int list_json(const fmig_set *s, const char *dir,
		     const ferry_status *st, fbuf *out)
{
	size_t n = fmig_set_count(s), nt = 0;
	mtarget *t = calloc(n ? n : 1, sizeof *t);
	if (!t)
		return FERRY_ENOMEM;
	int rc = fbuf_adds(out, "{\"dir\":");
	rc = rc ? rc : fbuf_add_jstr(out, dir, strlen(dir));
	rc = rc ? rc : fbuf_adds(out, ",\"active\":");
	if (!rc && st)
		rc = fbuf_add_jstr(out, st->data_version,
				   strlen(st->data_version));
	else if (!rc)
		rc = fbuf_adds(out, "null");
	rc = rc ? rc : fbuf_adds(out, ",\"hops\":[");
	for (size_t i = 0; !rc && i < n; i++) {
		rc = i ? fbuf_addc(out, ',') : 0;
		rc = rc ? rc : fmig_hop_json(fmig_set_hop(s, i), 1, out);
	}
	rc = rc ? rc : fbuf_adds(out, "],\"targets\":[");
	if (!rc && st)
		rc = find_targets(s, st, t, &nt);
	for (size_t i = 0; !rc && i < nt; i++) {
		rc = i ? fbuf_addc(out, ',') : 0;
		rc = rc ? rc : fbuf_add_jstr(out, t[i].text, strlen(t[i].text));
	}
	free(t);
	return rc ? rc : fbuf_adds(out, "]}");
}

int ferry_migration_list(ferry_db *db, const char *dir, char **json,
			 ferry_err *err)
{
	ferry_upgrade_opts o = {0};
	ferry_status st;
	fmig_set *s = NULL;
	fbuf out = FBUF_INIT;
	o.migrations_dir = dir;
	const char *d = uplan_migrations_dir(&o);
	int rc = 0;
	if (db && (rc = ferry_db_status(db, &st, err)))
		return rc;
	if ((rc = fmig_dir_load(d, &s, err)))
		return rc;
	if ((rc = list_json(s, d, db ? &st : NULL, &out)))
		ferry_err_set(err, rc, "listing migrations of %s", d);
	else
		*json = fbuf_detach(&out, NULL);
	fbuf_release(&out);
	fmig_set_free(s);
	return rc;
}
