/*
 * gen.c - cdp-gen: deterministic customer-data-platform documents as NDJSON
 * (or Elasticsearch _bulk pairs), modelled on Tracardi's profiles, events
 * and sessions. Used by the demo, the tests and the benchmarks; see
 * examples/cdp/README.md for the shape of the data and the options.
 *
 * Determinism: every document is built from its own PRNG stream, seeded
 * from (--seed, --tenant, type, ordinal) with splitmix64. Only integer
 * arithmetic is used (no floats, no rand(), no clock, no locale), so the
 * same arguments give byte-identical output on any machine, and document n
 * is the same whatever --count is. --update-every draws its changes from a
 * second stream seeded from --update-seed, so the unchanged documents stay
 * byte-identical to the base output.
 *
 * Speed: documents are written with memcpy into one large buffer that is
 * flushed with write(2); no stdio formatting on the hot path.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Strings with their length, and the tables the documents draw from.  */

typedef struct str {
	const char *s;
	size_t n;
} str;

#define S(x) { x, sizeof(x) - 1 }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Display name (UTF-8, JSON-escaped) and its ASCII form for e-mails. */
typedef struct name {
	str disp;
	str ascii;
} name;

static const name first_names[] = {
	{S("Anna"), S("anna")},     {S("Jan"), S("jan")},
	{S("\xc5\x81ukasz"), S("lukasz")}, {S("Zo\xc3\xab"), S("zoe")},
	{S("Jos\xc3\xa9"), S("jose")}, {S("Mar\xc3\xad" "a"), S("maria")},
	{S("Olivia"), S("olivia")}, {S("Liam"), S("liam")},
	{S("Noah"), S("noah")},     {S("Emma"), S("emma")},
	{S("Mia"), S("mia")},       {S("Lucas"), S("lucas")},
	{S("Sofia"), S("sofia")},   {S("Mateo"), S("mateo")},
	{S("Amelia"), S("amelia")}, {S("Hugo"), S("hugo")},
	{S("Chlo\xc3\xa9"), S("chloe")}, {S("Ravi"), S("ravi")},
	{S("Aiko"), S("aiko")},     {S("Chen"), S("chen")},
	{S("Fatima"), S("fatima")}, {S("Omar"), S("omar")},
	{S("Ingrid"), S("ingrid")}, {S("Sven"), S("sven")},
	{S("Grace"), S("grace")},   {S("Ethan"), S("ethan")},
	{S("L\xc3\xa9" "a"), S("lea")}, {S("Marek"), S("marek")},
	{S("Ewa"), S("ewa")},       {S("Tomasz"), S("tomasz")},
	{S("Nora"), S("nora")},     {S("Elias"), S("elias")},
};

static const name surnames[] = {
	{S("Kowalska"), S("kowalska")}, {S("Nowak"), S("nowak")},
	{S("Smith"), S("smith")},       {S("M\xc3\xbcller"), S("muller")},
	{S("Garc\xc3\xad" "a"), S("garcia")}, {S("Rossi"), S("rossi")},
	{S("Dubois"), S("dubois")},     {S("Jansen"), S("jansen")},
	{S("Nov\xc3\xa1k"), S("novak")}, {S("Silva"), S("silva")},
	{S("Johansson"), S("johansson")}, {S("O'Brien"), S("obrien")},
	{S("Tanaka"), S("tanaka")},     {S("Kim"), S("kim")},
	{S("Singh"), S("singh")},       {S("Haddad"), S("haddad")},
	{S("Andersen"), S("andersen")}, {S("Kova\xc4\x8d"), S("kovac")},
	{S("Popescu"), S("popescu")},   {S("Nagy"), S("nagy")},
	{S("Costa"), S("costa")},       {S("W\xc3\xb3jcik"), S("wojcik")},
	{S("Fischer"), S("fischer")},   {S("Martin"), S("martin")},
	{S("Brown"), S("brown")},       {S("Lee"), S("lee")},
	{S("Moreau"), S("moreau")},     {S("Bianchi"), S("bianchi")},
	{S("Horvat"), S("horvat")},     {S("Papadopoulos"), S("papadopoulos")},
	{S("Yilmaz"), S("yilmaz")},     {S("Ivanova"), S("ivanova")},
};

static const str mail_domains[] = {
	S("example.com"), S("example.org"), S("example.net"), S("mail.example"),
	S("inbox.example"), S("shop.example"), S("corp.example.com"),
	S("post.example.org"),
};

/* Country code, a city in it (UTF-8), its telephone prefix, a language. */
typedef struct place {
	str country;
	str city;
	str dial;
	str lang;
} place;

static const place places[] = {
	{S("PL"), S("Wroc\xc5\x82" "aw"), S("+48"), S("pl-PL")},
	{S("PL"), S("Warszawa"), S("+48"), S("pl-PL")},
	{S("DE"), S("M\xc3\xbcnchen"), S("+49"), S("de-DE")},
	{S("DE"), S("Berlin"), S("+49"), S("de-DE")},
	{S("FR"), S("Lyon"), S("+33"), S("fr-FR")},
	{S("ES"), S("Sevilla"), S("+34"), S("es-ES")},
	{S("IT"), S("Milano"), S("+39"), S("it-IT")},
	{S("NL"), S("Utrecht"), S("+31"), S("nl-NL")},
	{S("SE"), S("G\xc3\xb6teborg"), S("+46"), S("sv-SE")},
	{S("GB"), S("Leeds"), S("+44"), S("en-GB")},
	{S("US"), S("Austin"), S("+1"), S("en-US")},
	{S("US"), S("Seattle"), S("+1"), S("en-US")},
	{S("BR"), S("S\xc3\xa3o Paulo"), S("+55"), S("pt-BR")},
	{S("JP"), S("Osaka"), S("+81"), S("ja-JP")},
	{S("IN"), S("Pune"), S("+91"), S("en-IN")},
	{S("CZ"), S("Brno"), S("+420"), S("cs-CZ")},
};

static const str segments[] = {
	S("frequent"), S("buyer"), S("churn-risk"), S("newsletter"),
	S("vip"), S("mobile"), S("b2b"), S("inactive"),
};

static const str plans[] = {
	S("free"), S("free"), S("free"), S("pro"), S("pro"), S("team"),
	S("enterprise"), S("trial"),
};

static const str channels[] = {
	S("email"), S("sms"), S("push"), S("web"),
};

static const str consent_ids[] = {
	S("marketing"), S("analytics"), S("profiling"), S("newsletter"),
};

static const str legacy_sources[] = {
	S("import-2019"), S("crm-sync"), S("shopify"), S("manual"),
};

/* Event types, weighted by repetition. */
enum ev_kind { EV_VIEW, EV_CART, EV_BUY, EV_SEARCH, EV_LOGIN, EV_OPEN };
static const unsigned char ev_weights[] = {
	EV_VIEW, EV_VIEW, EV_VIEW, EV_VIEW, EV_VIEW, EV_VIEW, EV_VIEW,
	EV_VIEW, EV_CART, EV_CART, EV_BUY, EV_SEARCH, EV_SEARCH, EV_LOGIN,
	EV_OPEN, EV_OPEN,
};
static const str ev_names[] = {
	S("page-view"), S("add-to-cart"), S("purchase"), S("search"),
	S("identify"), S("session-opened"),
};

static const str sources[] = {
	S("web-shop"), S("mobile-app"), S("pos"), S("email-tracker"),
};

static const str page_paths[] = {
	S("/"), S("/cart"), S("/p/"), S("/c/shoes"), S("/c/bags"),
	S("/blog/"), S("/help"), S("/account"),
};

/* Page titles; some carry characters that JSON must escape. */
static const str page_titles[] = {
	S("Home"), S("Your cart"), S("Men's \\\"Classic\\\" Tee"),
	S("Shoes \\u2013 New in"), S("Bags & more"), S("Blog: 10 tips"),
	S("Help\\/FAQ"), S("My account"),
};

static const str queries[] = {
	S("red shoes"), S("gift card"), S("leather bag"), S("running"),
	S("sale"), S("t-shirt xl"), S("zo\xc3\xab dress"), S("\\\"bag\\\""),
};

static const str currencies[] = {
	S("EUR"), S("EUR"), S("USD"), S("PLN"), S("GBP"),
};

static const str browsers[] = {
	S("Chrome"), S("Chrome"), S("Chrome"), S("Safari"), S("Firefox"),
	S("Edge"),
};

static const str devices[] = {
	S("desktop"), S("mobile"), S("mobile"), S("tablet"),
};

static const str oses[] = {
	S("Windows"), S("macOS"), S("Linux"), S("Android"), S("iOS"),
	S("iOS"),
};

/* ------------------------------------------------------------------ */
/* PRNG: splitmix64. One stream per document.                          */

typedef struct rng {
	uint64_t s;
} rng;

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnext(rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return mix64(r->s);
}

/* Uniform-enough integer in [0, n), n < 2^32. */
static uint32_t rbelow(rng *r, uint32_t n)
{
	return (uint32_t)(((rnext(r) >> 32) * (uint64_t)n) >> 32);
}

static int rchance(rng *r, unsigned pct)
{
	return rbelow(r, 100) < pct;
}

#define PICK(r, table) (&(table)[rbelow((r), (uint32_t)COUNT(table))])

/* Stream for document `ordinal` of the type with salt `salt`. */
static rng doc_rng(uint64_t base, uint64_t salt, uint64_t ordinal)
{
	rng r = { mix64(base + salt + ordinal * 0xd1b54a32d192ed03ULL) };
	return r;
}

enum { SALT_PROFILE = 0x70726f66, SALT_EVENT = 0x6576656e,
       SALT_SESSION = 0x73657373 };

/* ------------------------------------------------------------------ */
/* Output buffer.                                                      */

#define OUT_CAP ((size_t)1 << 20)
#define DOC_ROOM ((size_t)8192) /* more than any one document needs */

typedef struct out {
	char *buf;
	size_t len;
} out;

static void out_flush(out *o)
{
	size_t off = 0;
	while (off < o->len) {
		ssize_t n = write(1, o->buf + off, o->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "cdp-gen: write error: %s\n",
				n < 0 ? strerror(errno) : "short write");
			exit(1);
		}
		off += (size_t)n;
	}
	o->len = 0;
}

static inline void put(out *o, const char *s, size_t n)
{
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static inline void put_str(out *o, const str *s)
{
	put(o, s->s, s->n);
}

/* A JSON string literal: quotes included. */
static inline void put_qstr(out *o, const str *s)
{
	o->buf[o->len++] = '"';
	put(o, s->s, s->n);
	o->buf[o->len++] = '"';
}

#define LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

static void put_u64(out *o, uint64_t v)
{
	char tmp[20];
	int i = 20;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, tmp + i, (size_t)(20 - i));
}

/* Fixed-width decimal, zero padded. */
static void put_dec(out *o, unsigned v, int width)
{
	char *p = o->buf + o->len + width;
	for (int i = 0; i < width; i++) {
		*--p = (char)('0' + v % 10);
		v /= 10;
	}
	o->len += (size_t)width;
}

/* Cents as a decimal with two places: 12345 -> 123.45 */
static void put_money(out *o, uint64_t cents)
{
	put_u64(o, cents / 100);
	o->buf[o->len++] = '.';
	put_dec(o, (unsigned)(cents % 100), 2);
}

/* ------------------------------------------------------------------ */
/* UUIDs and times.                                                    */

typedef struct uuid {
	char s[36];
} uuid;

static void uuid_make(rng *r, uuid *u)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t a = rnext(r), b = rnext(r);
	a = (a & ~0xf000ULL) | 0x4000ULL;                /* version 4 */
	b = (b & ~(0xcULL << 60)) | (0x8ULL << 60);      /* variant 10 */
	char *p = u->s;
	for (int i = 60; i >= 0; i -= 4) {
		if (i == 28 || i == 12)
			*p++ = '-';
		*p++ = hex[(a >> i) & 15];
	}
	*p++ = '-';
	for (int i = 60; i >= 0; i -= 4) {
		if (i == 44)
			*p++ = '-';
		*p++ = hex[(b >> i) & 15];
	}
}

static void put_uuid(out *o, const uuid *u)
{
	o->buf[o->len++] = '"';
	put(o, u->s, sizeof u->s);
	o->buf[o->len++] = '"';
}

/* Seconds since 1970 (UTC). Times lie in 2024-01-01 .. 2026-12-31. */
#define T_BASE 1704067200ULL      /* 2024-01-01T00:00:00Z */
#define T_SPAN (730ULL * 86400)   /* two years of inserts */
#define DAY 86400ULL

/* Howard Hinnant's civil_from_days, for days >= 0 since 1970-01-01. */
static void civil(uint64_t days, unsigned *y, unsigned *m, unsigned *d)
{
	uint64_t z = days + 719468;
	uint64_t era = z / 146097;
	uint64_t doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (unsigned)(yoe + era * 400 + (*m <= 2));
}

/* "2025-03-14T09:26:53Z", quotes included. */
static void put_time(out *o, uint64_t t)
{
	unsigned y, m, d, sec = (unsigned)(t % DAY);
	civil(t / DAY, &y, &m, &d);
	o->buf[o->len++] = '"';
	put_dec(o, y, 4);
	o->buf[o->len++] = '-';
	put_dec(o, m, 2);
	o->buf[o->len++] = '-';
	put_dec(o, d, 2);
	o->buf[o->len++] = 'T';
	put_dec(o, sec / 3600, 2);
	o->buf[o->len++] = ':';
	put_dec(o, sec / 60 % 60, 2);
	o->buf[o->len++] = ':';
	put_dec(o, sec % 60, 2);
	LIT(o, "Z\"");
}

/* ------------------------------------------------------------------ */
/* Options and generation context.                                     */

enum type { T_PROFILE, T_EVENT, T_SESSION };
enum format { F_NDJSON, F_BULK };

typedef struct ctx {
	enum type type;
	enum format format;
	uint64_t count;
	uint64_t profiles;     /* P: profiles and sessions referred to */
	uint64_t seed;
	const char *tenant;
	const char *index;
	uint64_t update_every; /* 0: no updates */
	uint64_t update_seed;
	int have_update_seed;
	uint64_t base;         /* seed mixed with the tenant */
	uint64_t ubase;        /* base mixed with the update seed */
} ctx;

/* Changes a document is given when it is the K-th (see --update-every). */
typedef struct change {
	int on;
	rng r;
} change;

static void put_bulk_header(out *o, const ctx *c, const uuid *id)
{
	LIT(o, "{\"index\":{\"_index\":\"");
	put(o, c->index, strlen(c->index));
	LIT(o, "\",\"_id\":");
	put_uuid(o, id);
	LIT(o, "}}\n");
}

/* ------------------------------------------------------------------ */
/* Profiles.                                                           */

static void put_email(out *o, rng *r, const name *fn, const name *sn)
{
	o->buf[o->len++] = '"';
	switch (rbelow(r, 4)) {
	case 0:
		put_str(o, &fn->ascii);
		o->buf[o->len++] = '.';
		put_str(o, &sn->ascii);
		break;
	case 1:
		put_str(o, &fn->ascii);
		o->buf[o->len++] = '.';
		put_str(o, &sn->ascii);
		put_u64(o, rbelow(r, 100));
		break;
	case 2:
		o->buf[o->len++] = fn->ascii.s[0];
		put_str(o, &sn->ascii);
		put_u64(o, rbelow(r, 10000));
		break;
	default:
		put_str(o, &fn->ascii);
		o->buf[o->len++] = '_';
		put_u64(o, 1950 + rbelow(r, 60));
		break;
	}
	o->buf[o->len++] = '@';
	put_str(o, PICK(r, mail_domains));
	o->buf[o->len++] = '"';
}

static void put_phone(out *o, rng *r, const place *pl)
{
	o->buf[o->len++] = '"';
	put_str(o, &pl->dial);
	o->buf[o->len++] = ' ';
	put_dec(o, 500 + rbelow(r, 400), 3);
	o->buf[o->len++] = ' ';
	put_dec(o, rbelow(r, 1000), 3);
	o->buf[o->len++] = ' ';
	put_dec(o, rbelow(r, 1000), 3);
	o->buf[o->len++] = '"';
}

static void put_traits(out *o, rng *r)
{
	int pub = rchance(r, 40), priv = rchance(r, 35), leg = rchance(r, 15);
	LIT(o, ",\"traits\":{");
	if (pub) {
		LIT(o, "\"public\":{\"plan\":");
		put_qstr(o, PICK(r, plans));
		if (rchance(r, 20)) {
			LIT(o, ",\"channel\":");
			put_qstr(o, PICK(r, channels));
		}
		o->buf[o->len++] = '}';
	}
	if (priv) {
		if (pub)
			o->buf[o->len++] = ',';
		LIT(o, "\"private\":{\"ltv\":");
		put_money(o, rbelow(r, 500000));
		if (rchance(r, 25)) {
			LIT(o, ",\"score\":");
			put_u64(o, rbelow(r, 100));
			LIT(o, ".0");
		}
		o->buf[o->len++] = '}';
	}
	if (leg) {
		if (pub || priv)
			o->buf[o->len++] = ',';
		LIT(o, "\"legacy\":{\"crm_id\":\"CRM-");
		put_dec(o, rbelow(r, 10000000), 7);
		LIT(o, "\",\"source\":");
		put_qstr(o, PICK(r, legacy_sources));
		o->buf[o->len++] = '}';
	}
	o->buf[o->len++] = '}';
}

static void put_pii(out *o, rng *r, const place *pl, unsigned *birth_year)
{
	const name *fn = PICK(r, first_names), *sn = PICK(r, surnames);
	LIT(o, ",\"pii\":{\"name\":");
	put_qstr(o, &fn->disp);
	LIT(o, ",\"surname\":");
	put_qstr(o, &sn->disp);
	if (rchance(r, 92)) {
		LIT(o, ",\"email\":");
		put_email(o, r, fn, sn);
	}
	if (rchance(r, 20)) {
		LIT(o, ",\"telephone\":");
		put_phone(o, r, pl);
	}
	*birth_year = 1946 + rbelow(r, 62);
	if (rchance(r, 25)) {
		LIT(o, ",\"birthdate\":\"");
		put_dec(o, *birth_year, 4);
		o->buf[o->len++] = '-';
		put_dec(o, 1 + rbelow(r, 12), 2);
		o->buf[o->len++] = '-';
		put_dec(o, 1 + rbelow(r, 28), 2);
		o->buf[o->len++] = '"';
	}
	o->buf[o->len++] = '}';
}

static void put_segments_consents(out *o, rng *r)
{
	LIT(o, ",\"segments\":[");
	unsigned n = rbelow(r, 3), first = rbelow(r, COUNT(segments));
	for (unsigned i = 0; i < n; i++) {
		if (i)
			o->buf[o->len++] = ',';
		put_qstr(o, &segments[(first + i * 3) % COUNT(segments)]);
	}
	o->buf[o->len++] = ']';
	if (rchance(r, 30)) {
		LIT(o, ",\"consents\":{");
		put_qstr(o, PICK(r, consent_ids));
		LIT(o, ":{\"revoke\":");
		if (rchance(r, 20))
			put_time(o, T_BASE + 730 * DAY + rbelow(r, 365 * DAY));
		else
			LIT(o, "null");
		LIT(o, "}}");
	}
}

/* A profile's visit history; a change is one more visit. */
typedef struct visits {
	uint64_t insert, update, last, current; /* 0: absent */
	uint64_t count, views;
} visits;

static void draw_visits(rng *r, change *ch, visits *v)
{
	v->insert = T_BASE + rnext(r) % T_SPAN;
	/* Most profiles come once; the rest come back, a few often. */
	v->count = rchance(r, 55) ? 1 : 2 + rbelow(r, 1 + rbelow(r, 60));
	v->views = v->count + rbelow(r, (uint32_t)v->count * 4 + 1);
	v->current = v->insert + (v->count > 1 ? rnext(r) % (120 * DAY)
					       : rbelow(r, 3600));
	v->last = v->count > 1 ? v->current - 1 - rbelow(r, 30 * DAY) : 0;
	v->update = v->count > 1 && rchance(r, 70) ? v->current : 0;
	if (ch->on) {
		v->last = v->current;
		v->current += 60 + rbelow(&ch->r, 30 * DAY);
		v->update = v->current;
		v->count += 1;
		v->views += 1 + rbelow(&ch->r, 20);
	}
}

static void put_profile_meta(out *o, rng *r, const visits *v,
			     const place *pl)
{
	LIT(o, ",\"metadata\":{\"time\":{\"insert\":");
	put_time(o, v->insert);
	if (v->update) {
		LIT(o, ",\"update\":");
		put_time(o, v->update);
	}
	LIT(o, ",\"visit\":{");
	if (v->last) {
		LIT(o, "\"last\":");
		put_time(o, v->last);
		o->buf[o->len++] = ',';
	}
	LIT(o, "\"current\":");
	put_time(o, v->current);
	LIT(o, ",\"count\":");
	put_u64(o, v->count);
	LIT(o, "}}");
	if (rchance(r, 20)) {
		LIT(o, ",\"aux\":{\"geo\":{\"country\":");
		put_qstr(o, &pl->country);
		LIT(o, ",\"city\":");
		put_qstr(o, &pl->city);
		LIT(o, "}}");
	}
	LIT(o, "},\"stats\":{\"visits\":");
	put_u64(o, v->count);
	LIT(o, ",\"views\":");
	put_u64(o, v->views);
	o->buf[o->len++] = '}';
}

/* "age": an integer, sometimes a string ("42"), sometimes absent. */
static void put_age(out *o, rng *r, unsigned birth_year)
{
	unsigned kind = rbelow(r, 10); /* 0-5 int, 6-8 string, 9 none */
	if (kind == 9)
		return;
	LIT(o, ",\"age\":");
	if (kind >= 6)
		o->buf[o->len++] = '"';
	put_u64(o, 2026 - birth_year);
	if (kind >= 6)
		o->buf[o->len++] = '"';
}

static void gen_profile(out *o, const ctx *c, uint64_t n, change *ch)
{
	rng r = doc_rng(c->base, SALT_PROFILE, n);
	uuid id;
	uuid_make(&r, &id);
	if (c->format == F_BULK)
		put_bulk_header(o, c, &id);

	visits v;
	draw_visits(&r, ch, &v);
	const place *pl = PICK(&r, places);
	int anonymous = rchance(&r, 30); /* never identified: no PII */

	LIT(o, "{\"id\":");
	put_uuid(o, &id);
	put_profile_meta(o, &r, &v, pl);
	if (anonymous) {
		LIT(o, ",\"traits\":{},\"pii\":{}");
		put_segments_consents(o, &r);
	} else {
		unsigned birth_year;
		put_traits(o, &r);
		put_pii(o, &r, pl, &birth_year);
		put_segments_consents(o, &r);
		put_age(o, &r, birth_year);
	}
	LIT(o, "}\n");
}

/* ------------------------------------------------------------------ */
/* Sessions and events.                                                */

/* Session `s`: its id and the id of the profile it belongs to. Sessions
 * draw these first, so events can name them without building them. */
static rng session_ids(const ctx *c, uint64_t s, uuid *sid, uuid *pid)
{
	rng r = doc_rng(c->base, SALT_SESSION, s);
	uuid_make(&r, sid);
	rng pr = doc_rng(c->base, SALT_PROFILE, rnext(&r) % c->profiles);
	uuid_make(&pr, pid);
	return r;
}

static void gen_session(out *o, const ctx *c, uint64_t n, change *ch)
{
	uuid id, pid;
	rng r = session_ids(c, n, &id, &pid);
	if (c->format == F_BULK)
		put_bulk_header(o, c, &id);

	uint64_t insert = T_BASE + rnext(&r) % T_SPAN;
	uint64_t duration = rbelow(&r, 1800);
	LIT(o, "{\"id\":");
	put_uuid(o, &id);
	LIT(o, ",\"profile\":{\"id\":");
	put_uuid(o, &pid);
	LIT(o, "},\"metadata\":{\"time\":{\"insert\":");
	put_time(o, insert);
	if (ch->on) {
		duration += 1 + rbelow(&ch->r, 600);
		LIT(o, ",\"update\":");
		put_time(o, insert + duration);
	}
	LIT(o, ",\"duration\":");
	put_u64(o, duration);
	LIT(o, "}},\"context\":{\"browser\":");
	put_qstr(o, PICK(&r, browsers));
	LIT(o, ",\"device\":");
	put_qstr(o, PICK(&r, devices));
	LIT(o, ",\"os\":");
	put_qstr(o, PICK(&r, oses));
	LIT(o, ",\"lang\":");
	put_qstr(o, &PICK(&r, places)->lang);
	LIT(o, "}}\n");
}

static void put_properties(out *o, rng *r, enum ev_kind k)
{
	LIT(o, ",\"properties\":{");
	switch (k) {
	case EV_VIEW: {
		unsigned p = rbelow(r, COUNT(page_paths));
		LIT(o, "\"url\":\"");

		put_str(o, &page_paths[p]);
		if (page_paths[p].s[page_paths[p].n - 1] == '/' && p)
			put_u64(o, rbelow(r, 5000));
		LIT(o, "\",\"title\":");
		put_qstr(o, &page_titles[p]);
		break;
	}
	case EV_CART:
		LIT(o, "\"sku\":\"SKU-");
		put_dec(o, rbelow(r, 100000), 5);
		LIT(o, "\",\"qty\":");
		put_u64(o, 1 + rbelow(r, 4));
		break;
	case EV_BUY:
		LIT(o, "\"order\":\"ORD-");
		put_dec(o, rbelow(r, 10000000), 7);
		LIT(o, "\",\"value\":");
		put_money(o, 500 + rbelow(r, 50000));
		LIT(o, ",\"currency\":");
		put_qstr(o, PICK(r, currencies));
		LIT(o, ",\"items\":");
		put_u64(o, 1 + rbelow(r, 6));
		break;
	case EV_SEARCH:
		LIT(o, "\"query\":");
		put_qstr(o, PICK(r, queries));
		LIT(o, ",\"results\":");
		put_u64(o, rbelow(r, 200));
		break;
	case EV_LOGIN:
		LIT(o, "\"method\":\"password\"");
		break;
	case EV_OPEN:
		break;
	}
	o->buf[o->len++] = '}';
}

static void gen_event(out *o, const ctx *c, uint64_t n, change *ch)
{
	rng r = doc_rng(c->base, SALT_EVENT, n);
	uuid id, sid, pid;
	uuid_make(&r, &id);
	if (c->format == F_BULK)
		put_bulk_header(o, c, &id);
	session_ids(c, rnext(&r) % c->profiles, &sid, &pid);

	enum ev_kind k = (enum ev_kind)*PICK(&r, ev_weights);
	uint64_t insert = T_BASE + rnext(&r) % T_SPAN;
	LIT(o, "{\"id\":");
	put_uuid(o, &id);
	LIT(o, ",\"type\":");
	put_qstr(o, &ev_names[k]);
	LIT(o, ",\"source\":{\"id\":");
	put_qstr(o, PICK(&r, sources));
	LIT(o, "},\"session\":{\"id\":");
	put_uuid(o, &sid);
	LIT(o, "},\"profile\":{\"id\":");
	put_uuid(o, &pid);
	o->buf[o->len++] = '}';
	put_properties(o, &r, k);
	LIT(o, ",\"time\":{\"insert\":");
	put_time(o, insert);
	if (ch->on) {
		LIT(o, ",\"update\":");
		put_time(o, insert + 1 + rbelow(&ch->r, 7 * DAY));
	}
	LIT(o, "}}\n");
}

/* ------------------------------------------------------------------ */
/* Command line.                                                       */

static const char usage[] =
"usage: cdp-gen [options]  (writes documents to stdout)\n"
"  --type profile|event|session  document type (default profile)\n"
"  --count N          number of documents (default 1000)\n"
"  --tenant NAME      tenant; ids and content differ per tenant\n"
"                     (default \"default\"; [a-z0-9][a-z0-9_-]{0,62})\n"
"  --seed S           PRNG seed, a decimal integer (default 1)\n"
"  --format ndjson|bulk  one JSON document a line (default), or\n"
"                     Elasticsearch _bulk pairs: action line + document\n"
"  --index NAME       _index of the bulk action lines (--format bulk only;\n"
"                     default: the type name)\n"
"  --profiles P       events and sessions refer to profiles and sessions\n"
"                     0..P-1 of the same seed and tenant (default: --count)\n"
"  --update-every K   the same documents, with every K-th one (ordinals\n"
"                     K-1, 2K-1, ...) changed: stats, visit and update time\n"
"  --update-seed S2   seed for the changed values (default 1; needs\n"
"                     --update-every)\n"
"  --help             this text\n"
"Same arguments, same bytes, on any machine.\n";

static void die_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "cdp-gen: %s%s%s%s (try --help)\n", msg,
		arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	exit(2);
}

/* Decimal uint64 without sign, spaces or overflow. */
static uint64_t parse_u64(const char *opt, const char *s)
{
	uint64_t v = 0;
	if (!*s)
		die_usage("empty number for", opt);
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9') {
			fprintf(stderr, "cdp-gen: %s wants a non-negative "
				"decimal integer, not '%s' (try --help)\n",
				opt, s);
			exit(2);
		}
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10) {
			fprintf(stderr, "cdp-gen: %s value '%s' is too large "
				"(try --help)\n", opt, s);
			exit(2);
		}
		v = v * 10 + d;
	}
	return v;
}

/* [a-z0-9] first, then [a-z0-9_-] (tenants) or [a-z0-9._-] (indices). */
static int name_ok(const char *s, size_t max, const char *more)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
		if (!alnum && (i == 0 || !strchr(more, ch)))
			return 0;
	}
	return 1;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* Returns the value of option `opt` at argv[*i], as "--opt=v" or
 * "--opt v"; NULL if argv[*i] is not that option. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt)
{
	const char *a = argv[*i];
	size_t n = strlen(opt);
	if (strncmp(a, opt, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		die_usage("missing value after", opt);
	return argv[++*i];
}

static void parse_one(ctx *c, int argc, char **argv, int *i, int *have_index)
{
	const char *v;
	if (!strcmp(argv[*i], "--help") || !strcmp(argv[*i], "-h")) {
		fputs(usage, stdout);
		exit(0);
	} else if ((v = opt_value(argc, argv, i, "--type"))) {
		if (!strcmp(v, "profile"))
			c->type = T_PROFILE;
		else if (!strcmp(v, "event"))
			c->type = T_EVENT;
		else if (!strcmp(v, "session"))
			c->type = T_SESSION;
		else
			die_usage("--type must be profile, event or session, "
				  "not", v);
	} else if ((v = opt_value(argc, argv, i, "--count"))) {
		c->count = parse_u64("--count", v);
	} else if ((v = opt_value(argc, argv, i, "--profiles"))) {
		c->profiles = parse_u64("--profiles", v);
		if (!c->profiles)
			die_usage("--profiles must be at least 1", NULL);
	} else if ((v = opt_value(argc, argv, i, "--tenant"))) {
		if (!name_ok(v, 63, "_-"))
			die_usage("bad tenant name (want [a-z0-9][a-z0-9_-]"
				  "{0,62})", v);
		c->tenant = v;
	} else if ((v = opt_value(argc, argv, i, "--seed"))) {
		c->seed = parse_u64("--seed", v);
	} else if ((v = opt_value(argc, argv, i, "--format"))) {
		if (!strcmp(v, "ndjson"))
			c->format = F_NDJSON;
		else if (!strcmp(v, "bulk"))
			c->format = F_BULK;
		else
			die_usage("--format must be ndjson or bulk, not", v);
	} else if ((v = opt_value(argc, argv, i, "--index"))) {
		if (!name_ok(v, 255, "._-"))
			die_usage("bad index name (want [a-z0-9][a-z0-9._-]"
				  "{0,254})", v);
		c->index = v;
		*have_index = 1;
	} else if ((v = opt_value(argc, argv, i, "--update-every"))) {
		c->update_every = parse_u64("--update-every", v);
		if (!c->update_every)
			die_usage("--update-every must be at least 1", NULL);
	} else if ((v = opt_value(argc, argv, i, "--update-seed"))) {
		c->update_seed = parse_u64("--update-seed", v);
		c->have_update_seed = 1;
	} else {
		die_usage("unknown option", argv[*i]);
	}
}

static void parse_args(ctx *c, int argc, char **argv)
{
	static const char *type_names[] = { "profile", "event", "session" };
	int have_index = 0;
	memset(c, 0, sizeof *c);
	c->count = 1000;
	c->seed = 1;
	c->update_seed = 1;
	c->tenant = "default";
	for (int i = 1; i < argc; i++)
		parse_one(c, argc, argv, &i, &have_index);
	if (have_index && c->format != F_BULK)
		die_usage("--index needs --format bulk", NULL);
	if (c->have_update_seed && !c->update_every)
		die_usage("--update-seed needs --update-every", NULL);
	if (!have_index)
		c->index = type_names[c->type];
	if (!c->profiles)
		c->profiles = c->count ? c->count : 1;
	c->base = mix64(c->seed ^ mix64(fnv1a(c->tenant)));
	c->ubase = mix64(c->base ^ mix64(c->update_seed + 0x7570640aULL));
}

int main(int argc, char **argv)
{
	ctx c;
	parse_args(&c, argc, argv);

	out o = { malloc(OUT_CAP), 0 };
	if (!o.buf) {
		fputs("cdp-gen: out of memory\n", stderr);
		return 1;
	}
	static const uint64_t salts[] = { SALT_PROFILE, SALT_EVENT,
					  SALT_SESSION };
	void (*gen)(out *, const ctx *, uint64_t, change *) =
		c.type == T_PROFILE ? gen_profile :
		c.type == T_EVENT ? gen_event : gen_session;
	uint64_t k = c.update_every;
	for (uint64_t n = 0; n < c.count; n++) {
		change ch = { 0, { 0 } };
		if (k && n % k == k - 1) {
			ch.on = 1;
			ch.r = doc_rng(c.ubase, salts[c.type], n);
		}
		gen(&o, &c, n, &ch);
		if (o.len > OUT_CAP - DOC_ROOM)
			out_flush(&o);
	}
	out_flush(&o);
	free(o.buf);
	return 0;
}
