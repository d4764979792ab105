/*
 * app.js - what the maintenance page does: asks for the admin key, reads the
 * maintenance API of ferryd (versions, migrations, plan, upgrade status,
 * indices, tenants, snapshots) and renders it; starts an upgrade and follows
 * it by polling; rolls back; deletes an old version; creates and restores
 * snapshots. No framework and no build step: the file is served as it is
 * from the ferryd binary. Every text taken from the server is inserted with
 * textContent (through el()), never as HTML.
 */
'use strict';

(function () {
	const KEY_STORE = 'ferry.adminKey';
	const POLL_MS = 500;      /* while this server upgrades */
	const FOREIGN_MS = 1000;  /* while another process does */
	const IDLE_MS = 5000;     /* otherwise */
	const STEPS = ['snapshot', 'prepare', 'copy', 'catch-up', 'cutover', 'verify', 'done'];

	const state = {
		key: '',
		info: null,         /* GET /info/version */
		migrations: null,   /* GET /migrations */
		plan: null,         /* the plan shown, or null */
		planFor: '',        /* its target */
		timer: 0,           /* polling timer */
		polling: false,     /* false, 'job' (this server's run) or 'foreign' */
		pollSeq: 0,         /* number of the latest poll */
		samples: new Map(), /* item key -> {done, t, rate} for per-item rates */
		restoreSnap: '',
	};

	const $ = (id) => document.getElementById(id);

	/* ---------------------------------------------------------------- */
	/* Small helpers                                                     */

	/* Builds an element; props: class, text, testid, on<event>, else attributes. */
	function el(tag, props, ...kids) {
		const n = document.createElement(tag);
		for (const [k, v] of Object.entries(props || {})) {
			if (v === null || v === undefined || v === false)
				continue;
			if (k === 'class')
				n.className = v;
			else if (k === 'text')
				n.textContent = String(v);
			else if (k === 'testid')
				n.dataset.testid = v;
			else if (k.startsWith('on'))
				n.addEventListener(k.slice(2), v);
			else
				n.setAttribute(k, v === true ? '' : String(v));
		}
		for (const c of kids.flat()) {
			if (c === null || c === undefined || c === false)
				continue;
			n.append(c instanceof Node ? c : document.createTextNode(String(c)));
		}
		return n;
	}

	function show(node, on) { node.hidden = !on; }

	/* Shows `text` in a message element (kind: '', 'ok', 'error', 'warn'). */
	function say(node, text, kind) {
		node.textContent = text || '';
		node.className = 'msg' + (kind ? ' ' + kind : '');
		show(node, !!text);
	}

	const nf = new Intl.NumberFormat('en-US');
	function fmtInt(n) { return Number.isFinite(n) ? nf.format(Math.round(n)) : '–'; }

	function fmtBytes(b) {
		if (!Number.isFinite(b)) return '–';
		const units = ['B', 'KB', 'MB', 'GB', 'TB'];
		let i = 0;
		while (b >= 1000 && i < units.length - 1) { b /= 1000; i++; }
		return (i ? b.toFixed(b < 10 ? 1 : 0) : String(b)) + ' ' + units[i];
	}

	function pad(n) { return String(n).padStart(2, '0'); }
	function fmtTime(ms) {
		if (!ms) return '–';
		const d = new Date(ms);
		return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) +
			' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
	}

	function fmtDur(s) {
		if (!Number.isFinite(s) || s < 0) return '–';
		if (s < 1) return '< 1 s';
		if (s < 90) return Math.round(s) + ' s';
		if (s < 5400) return Math.round(s / 60) + ' min';
		return (s / 3600).toFixed(1) + ' h';
	}

	/* "about 5 s", or "under a second". */
	function about(s) { return s < 1 ? 'under a second' : 'about ' + fmtDur(s); }

	function plural(n, one, many) { return fmtInt(n) + ' ' + (n === 1 ? one : (many || one + 's')); }

	function isDev(v) { return typeof v === 'string' && v.includes('-'); }

	/* ---------------------------------------------------------------- */
	/* The API                                                           */

	class ApiError extends Error {
		constructor(status, type, reason) {
			super(reason);
			this.status = status;
			this.type = type;
		}
	}
	class AuthError extends ApiError {}

	function errorOf(status, data) {
		const e = data && data.error;
		if (e && typeof e === 'object')
			return [e.type || 'error', e.reason || JSON.stringify(e)];
		if (typeof e === 'string')
			return ['error', e];
		return ['http_' + status, 'ferryd answered HTTP ' + status + ' without an explanation'];
	}

	/* A 401 is always about the key. A 403 is about it only when the
	 * maintenance routes are off (no FERRY_ADMIN_KEY): ferryd also answers
	 * 403 security_exception to refusals such as deleting the active
	 * version, which must stay on the page. */
	function isAuthFailure(status, type, reason) {
		if (status === 401)
			return true;
		return status === 403 && /FERRY_ADMIN_KEY|Authorization: Bearer/.test(reason);
	}

	async function api(method, path, body) {
		const opt = { method, headers: { Accept: 'application/json' }, cache: 'no-store' };
		if (state.key)
			opt.headers.Authorization = 'Bearer ' + state.key;
		if (body !== undefined) {
			opt.headers['Content-Type'] = 'application/json';
			opt.body = JSON.stringify(body);
		}
		let res;
		try {
			res = await fetch(path, opt);
		} catch (e) {
			throw new ApiError(0, 'network', 'ferryd did not answer ' + method + ' ' + path +
				' (' + e.message + '). Is the server still running?');
		}
		const text = await res.text();
		let data = null;
		try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
		if (res.ok)
			return { status: res.status, data };
		const [type, reason] = errorOf(res.status, data);
		if (isAuthFailure(res.status, type, reason)) {
			askKey('The server refused the admin key (HTTP ' + res.status + '): ' + reason);
			throw new AuthError(res.status, type, reason);
		}
		throw new ApiError(res.status, type, reason);
	}

	/* Runs `fn`; an ApiError goes to `node` (an auth error has already
	 * brought the key prompt back). Returns fn's result or undefined. */
	async function guarded(node, fn) {
		try {
			if (node) say(node, '');
			return await fn();
		} catch (e) {
			if (e instanceof AuthError)
				return undefined;
			if (node)
				say(node, e instanceof ApiError ? e.message : 'The page failed: ' + e.message, 'error');
			else
				console.error(e);
			return undefined;
		}
	}

	/* ---------------------------------------------------------------- */
	/* Key                                                               */

	function askKey(msg) {
		stopPolling();
		state.key = '';
		sessionStorage.removeItem(KEY_STORE);
		show($('app'), false);
		show($('login'), true);
		show($('key-change'), false);
		show($('refresh-btn'), false);
		say($('key-msg'), msg || '', 'error');
		$('key-input').value = '';
		$('key-input').focus();
	}

	async function submitKey(ev) {
		ev.preventDefault();
		const k = $('key-input').value.trim();
		if (!k) {
			say($('key-msg'), 'Enter the admin key first.', 'error');
			return;
		}
		state.key = k;
		const ok = await guarded($('key-msg'), () => api('GET', '/info/version'));
		if (!ok)
			return;
		sessionStorage.setItem(KEY_STORE, k);
		openApp();
	}

	function openApp() {
		show($('login'), false);
		show($('app'), true);
		show($('key-change'), true);
		show($('refresh-btn'), true);
		refreshAll().then(pollOnce);
	}

	/* ---------------------------------------------------------------- */
	/* Versions                                                          */

	function stateBadge(st, version) {
		const b = el('span', { class: 'badge ' + st, text: st });
		if (!isDev(version))
			return b;
		return [b, ' ', el('span', { class: 'badge dev', text: 'dev' })];
	}

	function versionRow(v, info) {
		const act = el('td', { class: 'act' });
		if (v.state !== 'active' && v.state !== 'building' && (v.indices || 0) > 0) {
			act.append(el('button', {
				type: 'button', class: 'danger small', text: 'Delete…',
				testid: 'delete-' + v.data_version,
				'aria-label': 'Delete data version ' + v.data_version,
				onclick: () => deleteVersion(v.data_version),
			}));
		}
		const tr = el('tr', { class: v.state === 'active' ? 'current' : '', testid: 'version-' + v.data_version },
			el('td', {}, el('strong', { text: v.data_version })),
			el('td', { text: v.release || '–' }),
			el('td', {}, stateBadge(v.state, v.data_version)),
			el('td', { class: 'opt', text: v.from || '–' }),
			el('td', { class: 'opt time', text: fmtTime(v.created_ms) }),
			el('td', { class: 'opt time', text: fmtTime(v.activated_ms) }),
			el('td', { class: 'num', text: fmtInt(v.indices || 0) }),
			act);
		if (info.pending_upgrade && v.data_version === info.data_version)
			tr.title = 'Active; an upgrade to ' + info.pending_upgrade + ' is pending';
		return tr;
	}

	function renderServerLine(info) {
		const parts = ['ferryd ' + (info.version || '')];
		parts.push(info.deployed_release ? 'deployed as release ' + info.deployed_release
			: 'FERRY_RELEASE not set');
		parts.push('data version ' + info.data_version);
		$('server-line').textContent = parts.join(' · ');
	}

	function renderPending(info) {
		const b = $('pending-banner');
		b.replaceChildren();
		if (!info.pending_upgrade || info.upgrade_running || info.upgrade_elsewhere || state.polling) {
			show(b, false);
			return;
		}
		b.append(
			el('strong', { text: 'Upgrade pending. ' }),
			'ferryd runs as release ' + (info.deployed_release || info.pending_upgrade) +
			', but the data is still at version ' + info.data_version +
			'. Until it is upgraded the server keeps serving the ' + info.data_version + ' data. ',
			el('button', {
				type: 'button', class: 'primary small', text: 'Review the plan for ' + info.pending_upgrade,
				onclick: () => chooseTarget(info.pending_upgrade),
			}));
		show(b, true);
	}

	/* The version the active one came from, if its indices still exist. */
	function rollbackTarget(info) {
		const vs = info.versions || [];
		const act = vs.find((v) => v.state === 'active');
		if (!act || !act.from)
			return null;
		const prev = vs.find((v) => v.data_version === act.from);
		return prev && prev.state === 'retired' && (prev.indices || 0) > 0 ? prev : null;
	}

	function renderVersions(info) {
		state.info = info;
		renderServerLine(info);
		renderPending(info);
		const vs = info.versions || [];
		$('versions-table').tBodies[0].replaceChildren(...vs.map((v) => versionRow(v, info)));
		const act = vs.find((v) => v.state === 'active');
		const kept = vs.filter((v) => v.state !== 'active' && (v.indices || 0) > 0).length;
		$('versions-summary').textContent = 'Active: data version ' + info.data_version +
			' (release ' + (act ? act.release : info.release) + '). ' +
			(kept ? plural(kept, 'older version') + ' still on disk (read-only until deleted). ' : '') +
			plural(info.indices || 0, 'index', 'indices') + ' of a budget of ' +
			fmtInt(info.index_budget) + '.';
		const rb = rollbackTarget(info);
		const btn = $('rollback-btn');
		if (rb && !info.upgrade_running && !info.upgrade_elsewhere) {
			btn.textContent = 'Roll back to ' + rb.data_version;
			btn.dataset.to = rb.data_version;
			show(btn, true);
		} else {
			show(btn, false);
		}
	}

	async function loadVersions() {
		const r = await guarded($('versions-msg'), () => api('GET', '/info/version'));
		if (r)
			renderVersions(r.data);
	}

	/* ---------------------------------------------------------------- */
	/* Migrations and the plan                                           */

	function renderTargets(m) {
		state.migrations = m;
		const sel = $('target-select');
		const keep = sel.value;
		const targets = m.targets || [];
		const opts = [el('option', { value: '', text: targets.length ?
			'Choose a target release…' : 'No newer release in the migrations' })];
		for (const t of targets)
			opts.push(el('option', { value: t, text: t + (isDev(t) ? ' (development build)' : '') }));
		sel.replaceChildren(...opts);
		const pending = state.info && state.info.pending_upgrade;
		if (keep && targets.includes(keep))
			sel.value = keep;
		else if (pending && targets.includes(pending))
			sel.value = pending;
		else
			sel.value = '';
	}

	async function loadMigrations() {
		const r = await guarded($('migrations-msg'), () => api('GET', '/migrations'));
		if (!r)
			return;
		renderTargets(r.data);
		await loadPlan($('target-select').value);
	}

	function chooseTarget(t) {
		const sel = $('target-select');
		if (![...sel.options].some((o) => o.value === t)) {
			say($('migrations-msg'), 'Release ' + t + ' is not among the targets the migrations reach (' +
				(state.migrations && state.migrations.targets || []).join(', ') +
				'). Check FERRY_MIGRATIONS on the server.', 'error');
			return;
		}
		sel.value = t;
		loadPlan(t);
		$('upgrade').scrollIntoView({ behavior: 'smooth', block: 'start' });
	}

	async function loadPlan(to) {
		state.plan = null;
		state.planFor = to;
		updateStart();
		if (!to) {
			renderPlan(null);
			return;
		}
		const from = state.info ? state.info.data_version : '';
		$('plan').replaceChildren(el('p', { class: 'muted', text: 'Planning ' + from + ' → ' + to + '…' }));
		try {
			const r = await api('GET', '/migration/' + encodeURIComponent(from) + '?to=' + encodeURIComponent(to));
			if (state.planFor !== to)
				return;
			state.plan = r.data;
			renderPlan(r.data);
		} catch (e) {
			if (e instanceof AuthError || state.planFor !== to)
				return;
			renderPlanError(to, e);
		}
		updateStart();
	}

	function renderPlanError(to, e) {
		$('plan').replaceChildren(el('div', { class: 'refusal', testid: 'plan-error', role: 'alert' },
			el('strong', { text: 'The upgrade to ' + to + ' cannot run. ' }),
			el('span', { text: e.message })));
	}

	function planHeadline(p) {
		const from = p.from || {}, to = p.to || {};
		const hops = (p.hops || []).length;
		if (p.kind === 'same')
			return 'Nothing to do: the data is already at release ' + (to.release || '') + '.';
		if (p.kind === 'minor')
			return 'Minor upgrade ' + from.release + ' → ' + to.release +
				': same data version (' + to.data_version + '), nothing to copy; the release is recorded.';
		return 'Major upgrade ' + from.data_version + ' → ' + to.data_version + ' in ' +
			plural(hops, 'hop') + ', composed into one pass per index: ' +
			plural(p.docs || 0, 'document') + ' to read, ' + about(p.estimated_seconds || 0) + '.';
	}

	function planHops(hops) {
		return el('ol', { class: 'hops' }, hops.map((h) => el('li', {},
			el('strong', { text: h.from + ' → ' + h.to }),
			h.description ? ' ' + h.description : '',
			' ', el('code', { class: 'muted', text: String(h.file || '').split('/').pop() }),
			(h.breaking && h.breaking.length) ? el('ul', { class: 'breaking' },
				h.breaking.map((b) => el('li', {}, el('span', { class: 'badge failed', text: 'breaking' }), ' ' + b))) : null)));
	}

	function actionText(ix) {
		switch (ix.action) {
		case 'drop': return 'dropped';
		case 'create': return 'created empty';
		case 'copy': return 'copied as is';
		case 'transform': return plural(ix.ops || 0, 'op');
		default: return ix.action || '';
		}
	}

	function planIndices(list) {
		const rows = list.map((ix) => el('tr', { class: ix.action === 'drop' ? 'dropped' : '' },
			el('td', { text: ix.tenant }),
			el('td', {}, el('code', { text: ix.source || '—' })),
			el('td', { class: 'arrow', 'aria-hidden': 'true', text: '→' }),
			el('td', {}, el('code', { text: ix.target || '—' })),
			el('td', { text: actionText(ix) }),
			el('td', { class: 'num', text: fmtInt(ix.docs || 0) })));
		return el('div', { class: 'scroll' }, el('table', { class: 'plan-table', testid: 'plan-indices' },
			el('thead', {}, el('tr', {},
				el('th', { text: 'Tenant' }), el('th', { text: 'Source' }), el('th', {}, el('span', { class: 'sr', text: 'to' })),
				el('th', { text: 'Target' }), el('th', { text: 'Work' }), el('th', { class: 'num', text: 'Docs' }))),
			el('tbody', {}, rows)));
	}

	function planBudget(b) {
		if (!b)
			return null;
		const pct = b.limit ? Math.min(100, 100 * b.after / b.limit) : 0;
		const bar = el('div', { class: 'bar thin' + (pct > 90 ? ' hot' : '') }, el('div', { class: 'fill' }));
		bar.firstChild.style.width = pct + '%';
		return el('div', { class: 'plan-budget' },
			el('span', { text: 'Indices after the upgrade: ' + fmtInt(b.after) + ' of a budget of ' +
				fmtInt(b.limit) + ' (now ' + fmtInt(b.now) + '; the old set stays until deleted).' }), bar);
	}

	function renderPlan(p) {
		const box = $('plan');
		if (!p) {
			box.replaceChildren(el('p', { class: 'muted', text: 'Choose a target release to see what the upgrade will do.' }));
			return;
		}
		const kids = [el('p', { class: 'headline', testid: 'plan-headline', text: planHeadline(p) })];
		if (p.hops && p.hops.length)
			kids.push(el('h3', { text: 'Migrations' }), planHops(p.hops));
		if (p.indices && p.indices.length)
			kids.push(el('h3', { text: 'Per tenant and index' }), planIndices(p.indices));
		kids.push(planBudget(p.budget));
		if (p.warnings && p.warnings.length)
			kids.push(el('ul', { class: 'warnings' }, p.warnings.map((w) => el('li', { text: String(w) }))));
		box.replaceChildren(...kids.filter(Boolean));
	}

	function updateStart() {
		const p = state.plan;
		const running = state.polling || (state.info && state.info.upgrade_running);
		$('start-btn').disabled = !p || p.kind === 'same' || !!running;
		$('start-btn').textContent = p && p.kind === 'minor' ? 'Record release ' + state.planFor :
			'Start upgrade' + (state.planFor && p ? ' to ' + state.planFor : '');
	}

	async function startUpgrade() {
		const to = state.planFor;
		if (!to)
			return;
		$('start-btn').disabled = true;
		const r = await guarded($('migrations-msg'), () => api('POST', '/migration', { to }));
		if (!r) {
			updateStart();
			return;
		}
		say($('notice'), 'Upgrade to ' + to + ' started.', 'ok');
		state.samples.clear();
		startPolling();
	}

	/* ---------------------------------------------------------------- */
	/* Progress                                                          */

	function setBar(bar, pct) {
		const p = Math.max(0, Math.min(100, pct || 0));
		bar.querySelector('.fill').style.width = p + '%';
		bar.setAttribute('aria-valuenow', String(Math.floor(p)));
		bar.dataset.pct = String(Math.floor(p));
	}

	function renderSteps(step, finished, failed) {
		const at = STEPS.indexOf(step);
		$('progress-steps').replaceChildren(...STEPS.map((s, i) => {
			let cls = 'todo';
			if (finished && !failed) cls = 'did';
			else if (i < at) cls = 'did';
			else if (i === at) cls = failed ? 'bad' : 'now';
			return el('li', { class: cls, text: s });
		}));
	}

	/* Rate of one item, from the polls so far (0 until two polls saw it;
	 * a count that went down is a new run). */
	function itemRate(key, done, now) {
		let prev = state.samples.get(key);
		if (prev && done < prev.done)
			prev = null;
		let rate = prev ? prev.rate : 0;
		if (prev && now > prev.t) {
			const r = (done - prev.done) / ((now - prev.t) / 1000);
			rate = prev.rate ? 0.5 * prev.rate + 0.5 * r : r;
		}
		state.samples.set(key, { done, t: now, rate });
		return rate;
	}

	/* One item's bar; mode: 'done' (the run finished), 'live' (it runs:
	 * rate and ETA) or 'stopped'. */
	function itemView(it, mode, now) {
		const key = it.tenant + '/' + (it.source || '') + '/' + (it.target || '');
		const total = it.total || 0, done = it.done || 0;
		const finished = mode === 'done';
		const over = finished || (total > 0 && done >= total);
		const pct = over ? 100 : (total ? 100 * done / total : 0);
		let text;
		if (!it.target)
			text = 'dropped: not copied (' + plural(total, 'document') + ' stay in the old version)';
		else if (!it.source)
			text = over ? 'created' : 'to be created';
		else if (over)
			text = fmtInt(total ? Math.max(done, total) : done) + ' documents · done';
		else if (mode === 'stopped')
			text = fmtInt(done) + ' / ' + fmtInt(total) + ' · stopped';
		else {
			const rate = itemRate(key, done, now);
			text = fmtInt(done) + ' / ' + fmtInt(total) + ' · ' +
				(rate > 0 ? fmtInt(rate) + ' docs/s · ' + about((total - done) / rate) + ' left' : 'waiting');
		}
		const bar = el('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100',
			'aria-label': key }, el('div', { class: 'fill' }));
		setBar(bar, it.target ? pct : 100);
		if (!it.target)
			bar.classList.add('muted-bar');
		return el('li', { testid: 'item' },
			el('div', { class: 'item-head' },
				el('span', { class: 'tenant', text: it.tenant }),
				el('code', { text: (it.source || '(new)') + ' → ' + (it.target || '(dropped)') })),
			bar, el('div', { class: 'item-figures', text: text }));
	}

	/* One bar per tenant (documents over its copied items), shown when an
	 * upgrade covers more than one tenant. */
	function tenantViews(items, mode) {
		const by = new Map();
		for (const it of items) {
			if (!it.target || !it.source)
				continue;
			const t = by.get(it.tenant) || { done: 0, total: 0 };
			t.done += it.done || 0;
			t.total += it.total || 0;
			by.set(it.tenant, t);
		}
		if (by.size < 2)
			return [];
		return [...by.entries()].map(([name, t]) => {
			const over = mode === 'done' || (t.total > 0 && t.done >= t.total);
			const bar = el('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0',
				'aria-valuemax': '100', 'aria-label': 'tenant ' + name }, el('div', { class: 'fill' }));
			setBar(bar, over ? 100 : (t.total ? 100 * t.done / t.total : 0));
			return el('li', { testid: 'tenant-progress' },
				el('div', { class: 'item-head' },
					el('span', { class: 'tenant', text: 'tenant ' + name })),
				bar, el('div', { class: 'item-figures',
					text: fmtInt(over ? Math.max(t.done, t.total) : t.done) + ' of ' +
						fmtInt(t.total) + ' documents' + (over ? ' · done' : '') }));
		});
	}

	/* An upgrade this server is not running: another process holds the
	 * lease (`elsewhere`), or a run stopped before its end (`unfinished`). */
	function renderForeign(s) {
		const up = s.upgrade || {};
		const to = up.to_release || up.to || '?';
		const items = s.items || [];
		const done = items.reduce((a, it) => a + (it.done || 0), 0);
		const total = items.reduce((a, it) => a + (it.total || 0), 0);
		const badge = $('progress-state');
		badge.textContent = s.elsewhere ? (up.state || 'running') : 'stopped';
		badge.className = 'badge ' + (s.elsewhere ? 'building' : 'failed');
		$('progress-title').textContent = (s.elsewhere ? 'Another process is upgrading to ' :
			'Unfinished upgrade to ') + to;
		renderSteps(up.state === 'catchup' ? 'catch-up' : up.state, false, false);
		setBar($('progress-overall'), total ? 100 * done / total : 0);
		$('progress-figures').textContent = fmtInt(done) + ' of ' + fmtInt(total) + ' documents handled';
		const msg = $('progress-error');
		msg.replaceChildren();
		if (s.elsewhere) {
			msg.append('The ferry command or another ferryd holds the upgrade lease of this data directory. ' +
				'This page follows its record; it cannot start, roll back or delete until that run ends.');
			msg.className = 'msg';
		} else {
			msg.append('The upgrade to ' + to + ' stopped at step ' + (up.state || '?') +
				' (the server was stopped, or the run failed). Starting it again resumes where it stopped. ',
				el('button', { type: 'button', class: 'primary small', text: 'Resume upgrade to ' + to,
					testid: 'resume-btn', onclick: () => { state.planFor = to; startUpgrade(); } }));
			msg.className = 'msg warn';
		}
		show(msg, true);
		const now = Date.now();
		const mode = s.elsewhere ? 'live' : 'stopped';
		$('progress-tenants').replaceChildren(...tenantViews(items, mode));
		$('progress-items').replaceChildren(...items.map((it) => itemView(it, mode, now)));
	}

	function renderStatus(s) {
		const box = $('progress');
		if (s && !s.running && (s.elsewhere || s.unfinished)) {
			show(box, true);
			renderForeign(s);
			return;
		}
		if (!s || !s.to) {
			show(box, false);
			return;
		}
		show(box, true);
		const finished = !s.running;
		const failed = finished && s.result === 'failed';
		const ok = finished && s.result === 'ok';
		const badge = $('progress-state');
		badge.textContent = s.running ? (s.step || 'starting') : (ok ? 'done' : (failed ? 'failed' : 'stopped'));
		badge.className = 'badge ' + (s.running ? 'building' : ok ? 'active' : 'failed');
		$('progress-title').textContent = (s.running ? 'Upgrading to ' : 'Last upgrade: to ') + s.to;
		renderSteps(ok ? 'done' : s.step, ok, failed);
		setBar($('progress-overall'), ok ? 100 : s.percent);
		$('progress-overall').classList.toggle('failed', failed);
		$('progress-figures').textContent = statusFigures(s, ok);
		const err = s.error && (s.error.reason || s.error.type);
		say($('progress-error'), err ? 'The upgrade failed: ' + err : '', 'error');
		const now = Date.now();
		const mode = ok ? 'done' : (s.running ? 'live' : 'stopped');
		$('progress-tenants').replaceChildren(...tenantViews(s.items || [], mode));
		$('progress-items').replaceChildren(...(s.items || []).map((it) => itemView(it, mode, now)));
	}

	function statusFigures(s, ok) {
		const pct = ok ? 100 : Math.floor(s.percent || 0);
		let t = pct + ' % · ' + fmtInt(s.docs_done || 0) + ' of ' + fmtInt(s.docs_total || 0) + ' documents';
		if (s.running) {
			if (s.rate > 0) t += ' · ' + fmtInt(s.rate) + ' docs/s';
			if (s.eta_s !== null && s.eta_s !== undefined) t += ' · ' + about(s.eta_s) + ' left';
			if (s.started_ms) t += ' · started ' + fmtTime(s.started_ms);
		} else if (s.finished_ms) {
			t += ' · finished ' + fmtTime(s.finished_ms);
			if (s.started_ms) t += ' after ' + fmtDur((s.finished_ms - s.started_ms) / 1000);
		}
		return t;
	}

	/* The status is polled every POLL_MS while this server upgrades,
	 * every FOREIGN_MS while another process does, and every IDLE_MS
	 * otherwise, so that an upgrade started elsewhere (the ferry CLI,
	 * another tab) shows up by itself. One chain of timers at a time: a
	 * poll started later makes an earlier one drop its follow-up. */
	function schedule(ms) {
		clearTimeout(state.timer);
		state.timer = setTimeout(pollOnce, ms);
	}

	function stopPolling() {
		clearTimeout(state.timer);
		state.timer = 0;
		state.polling = false;
		state.pollSeq++;
	}

	function startPolling() {
		state.polling = 'job';
		updateStart();
		pollOnce();
	}

	/* One poll; when the run it followed has ended, says how and
	 * refreshes everything. */
	async function pollOnce() {
		const my = ++state.pollSeq;
		clearTimeout(state.timer);
		let r;
		try {
			r = await api('GET', '/migration/status');
		} catch (e) {
			if (e instanceof AuthError || my !== state.pollSeq)
				return;
			say($('progress-error'), e.message, 'error');
			show($('progress'), true);
			schedule(IDLE_MS);
			return;
		}
		if (my !== state.pollSeq)
			return;
		const s = r.data || {};
		renderStatus(s);
		if (s.running || s.elsewhere) {
			show($('pending-banner'), false);
			if (!state.polling) /* a run we did not start: versions changed */
				Promise.all([loadVersions(), loadIndices()]);
			state.polling = s.running ? 'job' : 'foreign';
			updateStart();
			schedule(s.running ? POLL_MS : FOREIGN_MS);
			return;
		}
		const was = state.polling;
		state.polling = false;
		schedule(IDLE_MS);
		updateStart();
		if (was) {
			pollEnded(was, s);
			await refreshAll();
		}
	}

	/* Says how the run the page was following ended. */
	function pollEnded(kind, s) {
		if (kind === 'foreign')
			say($('notice'), s.unfinished ? 'The upgrade run by another process stopped before its end; ' +
				'it can be resumed here.' : 'The upgrade run by another process has ended.',
				s.unfinished ? 'warn' : 'ok');
		else if (s.result === 'ok')
			say($('notice'), 'Upgrade to ' + s.to + ' done: every alias now points at the new version.', 'ok');
		else
			say($('notice'), 'The upgrade to ' + s.to + ' did not finish' +
				(s.error ? ': ' + (s.error.reason || s.error.type) : '.'), 'error');
	}

	/* ---------------------------------------------------------------- */
	/* Confirmation dialog                                               */

	/* Resolves true when the user confirms. opts: title, body (nodes),
	 * ok (label), kind ('danger' | 'warn' | 'primary'). */
	function confirmDialog(opts) {
		const d = $('confirm');
		$('confirm-title').textContent = opts.title;
		$('confirm-body').replaceChildren(...[].concat(opts.body || []));
		const ok = $('confirm-ok');
		ok.textContent = opts.ok || 'OK';
		ok.className = opts.kind || 'danger';
		return new Promise((resolve) => {
			let answer = false;
			const done = () => {
				ok.removeEventListener('click', onOk);
				$('confirm-cancel').removeEventListener('click', onCancel);
				d.removeEventListener('close', onClose);
				resolve(answer);
			};
			const onOk = () => { answer = true; d.close(); };
			const onCancel = () => { d.close(); };
			const onClose = () => done();
			ok.addEventListener('click', onOk);
			$('confirm-cancel').addEventListener('click', onCancel);
			d.addEventListener('close', onClose);
			d.showModal();
			$('confirm-cancel').focus();
		});
	}

	/* ---------------------------------------------------------------- */
	/* Rollback                                                          */

	async function rollback() {
		const to = $('rollback-btn').dataset.to || 'the previous version';
		const active = state.info ? state.info.data_version : '';
		const probe = await guarded($('notice'), () => api('POST', '/migration/rollback', {}));
		if (!probe)
			return;
		const n = (probe.data && probe.data.writes_dropped) || 0;
		const body = [
			el('p', { text: 'Every alias moves back to data version ' + to + '. Version ' + active +
				' stays, read-only, until you delete it; you can upgrade again later.' }),
			el('p', { class: n ? 'warn-text' : '', testid: 'rollback-dropped', text: n ?
				plural(n, 'write') + ' made to ' + active + ' since the switch would be dropped.' :
				'No writes were made to ' + active + ' since the switch: nothing is lost.' }),
		];
		if (!await confirmDialog({ title: 'Roll back to ' + to + '?', body, ok: 'Roll back to ' + to, kind: 'warn' }))
			return;
		const r = await guarded($('notice'), () => api('POST', '/migration/rollback', { yes: true }));
		if (!r)
			return;
		const d = r.data || {};
		say($('notice'), 'Rolled back: data version ' + (d.active || to) + ' is active again' +
			(d.writes_dropped ? '; ' + plural(d.writes_dropped, 'write') + ' dropped.' : '.'), 'ok');
		await refreshAll();
	}

	/* ---------------------------------------------------------------- */
	/* Delete an old version                                             */

	function deleteBody(v, rep, noSnapshot) {
		const list = rep.indices || [];
		const kids = [
			el('p', { text: 'These ' + plural(list.length, 'index', 'indices') + ' of data version ' + v +
				(rep.docs !== undefined ? ', ' + plural(rep.docs, 'document') + ' in all,' : '') +
				' will be deleted. This cannot be undone.' }),
			el('ul', { class: 'index-list', testid: 'delete-list' }, list.map((n) => el('li', {}, el('code', { text: n })))),
		];
		if (noSnapshot)
			kids.push(el('p', { class: 'warn-text', testid: 'delete-nosnap', text: noSnapshot }));
		return kids;
	}

	function dvPath(v, q) { return '/indices/version/' + encodeURIComponent(v) + (q ? '?' + q : ''); }

	async function deleteVersion(v) {
		const dry = await guarded($('notice'), () => api('DELETE', dvPath(v, 'dry_run=true')));
		if (!dry)
			return;
		const rep = dry.data || {};
		const snapKnown = rep.snapshot === false || rep.in_snapshot === false;
		let force = false;
		let warn = snapKnown ? 'No snapshot holds version ' + v + ': once deleted it cannot be restored.' : '';
		if (!await confirmDialog({ title: 'Delete data version ' + v + '?', body: deleteBody(v, rep, warn),
			ok: snapKnown ? 'Delete ' + v + ' without a snapshot' : 'Delete ' + v }))
			return;
		force = snapKnown;
		for (;;) {
			try {
				const r = await api('DELETE', dvPath(v, force ? 'force=true' : ''));
				const d = r.data || {};
				const gone = (d.indices || rep.indices || []).length;
				say($('notice'), 'Deleted data version ' + v + ': ' + plural(gone, 'index', 'indices') +
					(d.docs !== undefined ? ', ' + plural(d.docs, 'document') : '') + '.', 'ok');
				break;
			} catch (e) {
				if (e instanceof AuthError)
					return;
				/* ferryd answers 409 (the CLI's EPERM is a 403 elsewhere) */
				if (force || !((e.status === 409 || e.status === 403) && /no snapshot holds/i.test(e.message))) {
					say($('notice'), 'Version ' + v + ' was not deleted: ' + e.message, 'error');
					return;
				}
				warn = 'No snapshot holds version ' + v + ', so deleting it could not be undone. ' +
					'Take a snapshot first (Snapshots, below), or delete it anyway.';
				if (!await confirmDialog({ title: 'No snapshot holds ' + v, body: deleteBody(v, rep, warn),
					ok: 'Delete ' + v + ' without a snapshot' }))
					return;
				force = true;
			}
		}
		await refreshAll();
	}

	/* ---------------------------------------------------------------- */
	/* Index budget                                                      */

	function renderBudget(d) {
		const budget = d.budget || 0, count = d.count || 0;
		const pct = budget ? 100 * count / budget : 0;
		$('budget-text').textContent = fmtInt(count) + ' of ' + fmtInt(budget) + ' indices used (' +
			(pct < 1 && count ? '<1' : Math.round(pct)) + ' %), ' + fmtInt(Math.max(0, budget - count)) + ' free.';
		const gauge = $('budget-gauge');
		gauge.classList.toggle('hot', pct > 90);
		gauge.setAttribute('aria-label', count + ' of ' + budget + ' indices');
		const segs = [];
		const groups = el('div', { class: 'budget-groups' });
		(d.versions || []).filter((v) => (v.indices || []).length).forEach((v, i) => {
			const n = v.indices.length;
			const seg = el('div', { class: 'seg c' + (i % 4), title: v.data_version + ': ' + n });
			seg.style.width = (budget ? 100 * n / budget : 0) + '%';
			segs.push(seg);
			groups.append(budgetGroup(v, i));
		});
		gauge.replaceChildren(...segs);
		$('budget-versions').replaceChildren(groups);
	}

	function budgetGroup(v, i) {
		const list = v.indices || [];
		const docs = list.reduce((a, x) => a + (x.docs || 0), 0);
		const bytes = list.reduce((a, x) => a + (x.bytes || 0), 0);
		return el('details', { class: 'budget-group', testid: 'budget-' + v.data_version },
			el('summary', {},
				el('span', { class: 'swatch c' + (i % 4), 'aria-hidden': 'true' }),
				el('strong', { text: v.data_version }), ' ', el('span', { class: 'badge ' + v.state, text: v.state }),
				el('span', { class: 'muted', text: ' ' + plural(list.length, 'index', 'indices') + ' · ' +
					plural(docs, 'doc') + ' · ' + fmtBytes(bytes) })),
			el('ul', { class: 'index-list' }, list.map((x) => el('li', {},
				el('code', { text: x.name }),
				x.active_alias ? el('span', { class: 'badge active', title: 'alias ' + x.alias, text: x.alias }) : '',
				el('span', { class: 'muted', text: ' ' + fmtInt(x.docs || 0) + ' docs' })))));
	}

	async function loadIndices() {
		const r = await guarded($('budget-msg'), () => api('GET', '/indices'));
		if (r)
			renderBudget(r.data || {});
	}

	/* ---------------------------------------------------------------- */
	/* Tenants                                                           */

	async function loadTenants() {
		const r = await guarded($('tenants-msg'), () => api('GET', '/tenants'));
		if (!r)
			return;
		const ts = (r.data && r.data.tenants) || [];
		$('tenants-text').textContent = plural(ts.length, 'tenant') +
			'. Every upgrade covers all of them and switches them together.';
		$('tenant-list').replaceChildren(...ts.map((t) => el('li', { text: typeof t === 'string' ? t : t.name })));
	}

	/* ---------------------------------------------------------------- */
	/* Snapshots                                                         */

	function defaultSnapName() {
		const d = new Date();
		return 'manual-' + d.getFullYear() + pad(d.getMonth() + 1) + pad(d.getDate()) + '-' +
			pad(d.getHours()) + pad(d.getMinutes()) + pad(d.getSeconds());
	}

	async function loadRepos() {
		const r = await guarded($('snap-msg'), () => api('GET', '/_snapshot'));
		if (!r)
			return;
		const repos = r.data || {};
		const names = Object.keys(repos).sort();
		const sel = $('repo-select');
		const keep = sel.value;
		sel.replaceChildren(...names.map((n) => el('option', { value: n, text: n })));
		const has = names.length > 0;
		sel.disabled = !has;
		$('snap-create-btn').disabled = !has;
		if (!has) {
			$('repo-path').textContent = '';
			$('snap-table').tBodies[0].replaceChildren();
			say($('snap-msg'), 'No snapshot repository is registered. Register a directory with ' +
				'`ferry snapshot repo add NAME DIR` or PUT /_snapshot/NAME, then reload.', 'warn');
			return;
		}
		sel.value = names.includes(keep) ? keep : names[0];
		sel.dataset.repos = JSON.stringify(repos);
		if (!$('snap-name').value)
			$('snap-name').value = defaultSnapName();
		await loadSnapshots();
	}

	function repoInfo(name) {
		try { return JSON.parse($('repo-select').dataset.repos || '{}')[name] || {}; } catch (e) { return {}; }
	}

	async function loadSnapshots() {
		const repo = $('repo-select').value;
		const info = repoInfo(repo);
		$('repo-path').textContent = (info.settings && info.settings.location) || '';
		if (!repo)
			return;
		const r = await guarded($('snap-msg'), () => api('GET', '/_snapshot/' + encodeURIComponent(repo) + '/_all'));
		if (!r)
			return;
		const snaps = ((r.data && r.data.snapshots) || []).slice().sort((a, b) =>
			(b.start_time_in_millis || 0) - (a.start_time_in_millis || 0));
		const body = $('snap-table').tBodies[0];
		if (!snaps.length) {
			body.replaceChildren(el('tr', {}, el('td', { colspan: '6', class: 'muted',
				text: 'No snapshot in ' + repo + ' yet.' })));
			return;
		}
		body.replaceChildren(...snaps.map(snapRow));
	}

	function snapRow(s) {
		const ix = s.indices || [];
		return el('tr', { testid: 'snap-' + s.snapshot },
			el('td', {}, el('code', { text: s.snapshot })),
			el('td', {}, el('span', { class: 'badge ' + (s.state === 'SUCCESS' ? 'active' : 'failed'), text: s.state || '?' })),
			el('td', { class: 'time', text: fmtTime(s.start_time_in_millis) }),
			el('td', { class: 'num opt', text: fmtDur((s.duration_in_millis || 0) / 1000) }),
			el('td', {}, ix.length ? el('details', {}, el('summary', { text: plural(ix.length, 'index', 'indices') }),
				el('ul', { class: 'index-list' }, ix.map((n) => el('li', {}, el('code', { text: n }))))) : '–'),
			el('td', { class: 'act' }, el('button', { type: 'button', class: 'small', text: 'Restore…',
				testid: 'restore-' + s.snapshot, onclick: () => openRestore(s.snapshot) })));
	}

	async function createSnapshot(ev) {
		ev.preventDefault();
		const repo = $('repo-select').value;
		const name = $('snap-name').value.trim();
		if (!/^[a-z0-9._-]{1,128}$/.test(name)) {
			say($('snap-msg'), 'A snapshot name is 1 to 128 lower-case letters, digits, dots, underscores or dashes.', 'error');
			return;
		}
		const btn = $('snap-create-btn');
		btn.disabled = true;
		say($('snap-msg'), 'Taking snapshot ' + name + ' in ' + repo + '…');
		const r = await guarded($('snap-msg'), () => api('PUT', '/_snapshot/' + encodeURIComponent(repo) + '/' +
			encodeURIComponent(name) + '?wait_for_completion=true'));
		btn.disabled = false;
		if (!r)
			return;
		const s = (r.data && r.data.snapshot) || {};
		$('snap-name').value = defaultSnapName();
		await loadSnapshots();
		say($('snap-msg'), 'Snapshot ' + name + ' created in ' + repo +
			(s.indices ? ': ' + plural(s.indices.length, 'index', 'indices') : '') + '.', 'ok');
	}

	function openRestore(name) {
		state.restoreSnap = name;
		$('restore-name').textContent = name;
		say($('restore-msg'), '');
		show($('restore-form'), true);
		$('restore-form').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
		$('restore-indices').focus();
	}

	function restoredList(d) {
		if (!d) return [];
		if (d.snapshot && Array.isArray(d.snapshot.indices)) return d.snapshot.indices;
		if (Array.isArray(d.restored)) return d.restored.map((x) => (typeof x === 'string' ? x : x.index || x.name));
		if (Array.isArray(d.indices)) return d.indices.map((x) => (typeof x === 'string' ? x : x.index || x.name));
		return [];
	}

	async function restoreSnapshot(ev) {
		ev.preventDefault();
		const repo = $('repo-select').value, snap = state.restoreSnap;
		const body = {};
		const ix = $('restore-indices').value.trim();
		const pat = $('restore-pattern').value, rep = $('restore-replacement').value;
		if (ix) body.indices = ix;
		if (pat) {
			body.rename_pattern = pat;
			body.rename_replacement = rep;
		}
		say($('restore-msg'), 'Restoring ' + snap + '…');
		const r = await guarded($('restore-msg'), () => api('POST', '/_snapshot/' + encodeURIComponent(repo) + '/' +
			encodeURIComponent(snap) + '/_restore?wait_for_completion=true', body));
		if (!r)
			return;
		const got = restoredList(r.data);
		say($('restore-msg'), 'Restored from ' + snap + (got.length ? ': ' + got.join(', ') : '') + '.', 'ok');
		await Promise.all([loadIndices(), loadVersions()]);
	}

	/* ---------------------------------------------------------------- */
	/* Start-up                                                          */

	async function refreshAll() {
		await loadVersions();
		await Promise.all([loadMigrations(), loadIndices(), loadTenants(), loadRepos()]);
	}

	function wire() {
		$('key-form').addEventListener('submit', submitKey);
		$('key-change').addEventListener('click', () => askKey(''));
		$('refresh-btn').addEventListener('click', async () => {
			say($('notice'), '');
			await refreshAll();
			pollOnce();
		});
		$('target-select').addEventListener('change', (e) => loadPlan(e.target.value));
		$('plan-form').addEventListener('submit', (e) => e.preventDefault());
		$('start-btn').addEventListener('click', startUpgrade);
		$('rollback-btn').addEventListener('click', rollback);
		$('repo-select').addEventListener('change', loadSnapshots);
		$('snap-create-form').addEventListener('submit', createSnapshot);
		$('restore-form').addEventListener('submit', restoreSnapshot);
		$('restore-cancel').addEventListener('click', () => show($('restore-form'), false));
	}

	function main() {
		wire();
		state.key = sessionStorage.getItem(KEY_STORE) || '';
		if (state.key)
			openApp();
		else
			askKey('');
	}

	main();
}());
