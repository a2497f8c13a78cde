/**
 * The in-page half of `bench:dashboard` (dashboard.mjs): a script every page of the benchmark's
 * browser context runs before the dashboard's own code (Playwright's init script, sent through
 * the DevTools protocol, so the page's Content-Security-Policy does not apply to it).
 *
 * All times are `performance.now()` in the page: milliseconds since the document's navigation
 * started (its `timeOrigin`), the Performance API's own clock. Node only reads the results.
 *
 * - `window.__paints()`: first-paint and first-contentful-paint (PerformanceObserver 'paint').
 * - `window.__load`: from document start, a watcher for the view named in the hash: `key` when the
 *   view's headline data is in the DOM (e.g. the total spend as `$…`, the first event row),
 *   `complete` when, besides, no panel shows a loading indicator and every chart has its canvas.
 *   Each is the DOM time (MutationObserver callback) and the next animation frame's time (the
 *   frame that paints it).
 * - `window.__interact(name, arg)`: runs one interaction (a named action below), timing it from
 *   just before the action to `key` (its new data in the DOM) and `complete`; it resolves with
 *   the start, both times and the /api/v1 Resource Timing entries that began after the start.
 *
 * A view or interaction that shows an API error or a crashed view resolves with `error`; one that
 * never completes resolves with `timeout` after `timeoutMs`.
 */
export function pageScript({ token, timeoutMs }) {
  return `(() => {
  try { sessionStorage.setItem('pertoken.token', ${JSON.stringify(token)}); } catch {}
  performance.setResourceTimingBufferSize(5000);
  window.__paint = {};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__paint[e.name] = e.startTime;
  }).observe({ type: 'paint', buffered: true });
  /** The observer's entries, and the timeline's (an observer callback may not have run yet). */
  window.__paints = () => {
    const out = { ...window.__paint };
    for (const e of performance.getEntriesByType('paint')) out[e.name] = e.startTime;
    return out;
  };

  const TIMEOUT = ${Number(timeoutMs)};
  const $ = (sel) => document.querySelector(sel);
  const $$ = (sel) => [...document.querySelectorAll(sel)];
  const text = (sel) => ($(sel)?.textContent ?? '').trim();
  const dollars = (sel) => /^-?\\$\\d/.test(text(sel));
  const anyOf = (...sels) => sels.some((s) => $(s) !== null);
  const noLoading = () => $('.state.loading') === null;
  const chartsDrawn = () => $$('div.chart, .time-chart').every((c) => c.querySelector('canvas') !== null);
  const failure = () => {
    const el = $('[data-testid=api-error], [data-testid=view-crash], [data-testid=signin-error]');
    return el === null ? null : el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 300);
  };
  const firstHref = () => $('[data-testid=event-row] [data-testid=event-link]')?.getAttribute('href') ?? null;
  const tenantsShown = () => $$('[data-testid=event-row]').map((r) => r.cells[1]?.textContent ?? '');

  /** The headline data of each view, as the dashboard's browser tests read it. */
  const KEY = {
    executive: () => dollars('[data-testid=total-spend]') && $('[data-testid=breakdown-row]') !== null,
    oncall: () => dollars('[data-testid=oncall-spend]'),
    debug: () => $('[data-testid=event-row]') !== null,
    budgets: () => anyOf('[data-testid=budget-row]', '[data-testid=view-budgets] [data-testid=not-configured]'),
    chargeback: () => $('[data-testid=chargeback-total]') !== null,
    alerts: () => anyOf('[data-testid=alert-count]'),
    pools: () => anyOf('[data-testid=pool-row]', '[data-testid=view-pools] [data-testid=not-configured]'),
    reconciliation: () =>
      anyOf(
        '[data-testid=reconciliation-status]',
        '[data-testid=not-imported]',
        '[data-testid=view-reconciliation] [data-testid=empty]',
      ),
    request: () => $('[data-testid=request-cost]') !== null,
  };
  const complete = (view) => () => $('[data-testid=view-' + view + ']') !== null && noLoading() && chartsDrawn();

  /** Resolves once every condition held (each timed when it first held), or on an error or timeout. */
  function watch(conditions) {
    return new Promise((resolve) => {
      const started = performance.now();
      const out = {};
      const pending = new Set(Object.keys(conditions));
      let done = false;
      const finish = (extra) => {
        if (done) return;
        done = true;
        observer.disconnect();
        clearTimeout(timer);
        resolve({ ...out, ...extra });
      };
      const test = () => {
        if (done) return;
        const failed = failure();
        if (failed !== null) return finish({ error: failed, errorAt: performance.now() });
        for (const name of [...pending]) {
          if (!conditions[name]()) continue;
          pending.delete(name);
          const at = performance.now();
          out[name] = { dom: at, frame: null };
          requestAnimationFrame(() => {
            out[name].frame = performance.now();
            if (pending.size === 0 && Object.values(out).every((v) => v.frame !== null)) finish({});
          });
        }
      };
      const observer = new MutationObserver(test);
      observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
      const timer = setTimeout(() => finish({ timeout: true, waitedMs: performance.now() - started }), TIMEOUT);
      test();
    });
  }

  const view = (/^#\\/([a-z]+)/.exec(location.hash) ?? [])[1] ?? 'executive';
  if (KEY[view] !== undefined) window.__load = watch({ key: KEY[view], complete: () => KEY[view]() && complete(view)() });

  const click = (sel) => {
    const el = $(sel);
    if (el === null) throw new Error('nothing to click at ' + sel);
    el.click();
  };

  /** Each action: what to do, and when its new data is on screen (checked against the state before). */
  const ACTIONS = {
    // Executive: the range picker from month-to-date to the last 30 days.
    range(arg) {
      const before = $('[data-testid=view-executive]')?.dataset.from ?? null;
      return {
        view: 'executive',
        key: () => {
          const from = $('[data-testid=view-executive]')?.dataset.from;
          return from !== undefined && from !== before && dollars('[data-testid=total-spend]') &&
            $('[data-testid=breakdown-row]') !== null;
        },
        run: () => {
          const select = $('[data-testid=range-select]');
          select.value = arg;
          select.dispatchEvent(new Event('change', { bubbles: true }));
        },
      };
    },
    // Executive: the first tenant of the drilldown table; the page is refiltered to that tenant.
    drill() {
      return {
        view: 'executive',
        key: () =>
          /tenant=/.test(location.hash) &&
          ($('[data-testid=breakdown] thead th')?.textContent ?? '').includes('Project') &&
          $('[data-testid=breakdown-row]') !== null &&
          dollars('[data-testid=total-spend]'),
        run: () => click('[data-testid=breakdown-row] [data-testid=drill-link]'),
      };
    },
    // Debug: "Older →", the next page by keyset cursor.
    next() {
      const before = firstHref();
      return {
        view: 'debug',
        key: () => /cursor=/.test(location.hash) && firstHref() !== null && firstHref() !== before && noLoading(),
        run: () => click('[data-testid=page-next]'),
      };
    },
    // Debug: the filter form, one tenant, applied with its submit button.
    filter(tenant) {
      return {
        view: 'debug',
        key: () => {
          const shown = tenantsShown();
          return noLoading() && shown.length > 0 && shown.every((t) => t === tenant);
        },
        run: () => {
          $('[data-testid=filter-tenant]').value = tenant;
          $('form.filters').requestSubmit();
        },
      };
    },
    // Debug: the first event's link, to its request page.
    request() {
      const id = decodeURIComponent((firstHref() ?? '').replace(/^#\\/request\\//, '').split('?')[0]);
      return {
        view: 'request',
        key: () => $('[data-testid=request-cost]') !== null && text('[data-testid=event-id]') === id,
        run: () => click('[data-testid=event-row] [data-testid=event-link]'),
      };
    },
  };

  window.__interact = async (name, arg) => {
    const action = ACTIONS[name](arg);
    const t0 = performance.now();
    const watching = watch({ key: action.key, complete: () => action.key() && complete(action.view)() });
    action.run();
    const result = await watching;
    return { t0, ...result, api: apiEntries(t0) };
  };

  /** The /api/v1 calls that started at or after \`since\`, in the order they started. */
  function apiEntries(since) {
    return performance
      .getEntriesByType('resource')
      .filter((e) => e.startTime >= since && e.name.includes('/api/v1/'))
      .map((e) => ({
        url: e.name.slice(e.name.indexOf('/api/v1/')),
        start: e.startTime,
        requestStart: e.requestStart,
        responseStart: e.responseStart,
        responseEnd: e.responseEnd,
        bytes: e.encodedBodySize,
      }));
  }
  window.__apiEntries = apiEntries;

  /** Navigation Timing of this document and its static assets, for the load figures. */
  window.__navigation = () => {
    const nav = performance.getEntriesByType('navigation')[0];
    const assets = performance
      .getEntriesByType('resource')
      .filter((e) => !e.name.includes('/api/v1/'))
      .map((e) => ({ url: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd, bytes: e.transferSize }));
    return {
      responseEnd: nav?.responseEnd ?? null,
      domContentLoaded: nav?.domContentLoadedEventEnd ?? null,
      load: nav?.loadEventEnd ?? null,
      assets,
    };
  };
})();`;
}
