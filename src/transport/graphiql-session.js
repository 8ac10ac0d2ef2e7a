// GraphiQL's session helper (src/transport/graphiql.ts inlines it into the page,
// before GraphiQL starts). Plain browser JavaScript: it is never imported.
//
// It watches the page's GraphQL answers; on `AuthSuccess` from
// verifyRegistration, login or completePasswordRecovery it writes
// `Authorization: Bearer <token>` into the headers of every other tab GraphiQL
// reported through `onTabChange` (GraphiQL loads a tab's headers from that
// object when the tab is opened), and shows the header with a copy button.
(() => {
  const AUTH_FIELDS = ['verifyRegistration', 'login', 'completePasswordRecovery'];
  /** The last `{ tabs, activeTabIndex }` GraphiQL reported. */
  let reported = null;

  /** The tab's headers with `Authorization` set, or null for headers that are no JSON object (being typed: left alone). */
  const withSession = (headers, value) => {
    try {
      const parsed = JSON.parse(headers && headers.trim() !== '' ? headers : '{}');
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
      const rest = Object.fromEntries(Object.entries(parsed).filter(([key]) => key.toLowerCase() !== 'authorization'));
      return JSON.stringify({ ...rest, Authorization: value }, null, 2);
    } catch {
      return null;
    }
  };

  const button = (label, onClick) => {
    const element = document.createElement('button');
    element.type = 'button';
    element.textContent = label;
    element.style.cssText = 'margin-right:8px;cursor:pointer';
    element.onclick = onClick;
    return element;
  };

  const banner = (value, filled) => {
    let box = document.getElementById('gateway-session');
    if (!box) {
      box = document.createElement('div');
      box.id = 'gateway-session';
      box.setAttribute('role', 'status');
      box.style.cssText = 'position:fixed;right:16px;bottom:16px;z-index:1000;max-width:32em;padding:10px 14px;border-radius:8px;background:#1f2937;color:#f9fafb;font:13px/1.4 system-ui,sans-serif;box-shadow:0 4px 16px #0004';
      document.body.append(box);
    }
    const text = document.createElement('div');
    text.textContent = filled > 0
      ? `Signed in: the session header is filled in for the other ${filled} tabs.`
      : 'Signed in: copy the session header into the Headers tab of the next tabs.';
    const code = document.createElement('code');
    code.textContent = JSON.stringify({ Authorization: value });
    code.style.cssText = 'display:block;margin:6px 0;word-break:break-all;opacity:.85';
    const copy = button('Copy session header', () => {
      navigator.clipboard.writeText(code.textContent).then(() => (copy.textContent = 'Copied'), () => (copy.textContent = 'Select and copy the line above'));
    });
    box.replaceChildren(text, code, copy, button('Dismiss', () => box.remove()));
  };

  const signedIn = (token) => {
    const value = `Bearer ${token}`;
    let filled = 0;
    if (reported) {
      reported.tabs.forEach((tab, index) => {
        if (index === reported.activeTabIndex) return;
        const headers = withSession(tab.headers, value);
        if (headers === null) return;
        tab.headers = headers;
        filled++;
      });
    }
    banner(value, filled);
  };

  const onResult = (body) => {
    const data = body && body.data;
    for (const field of AUTH_FIELDS) {
      const answer = data && data[field];
      if (answer && answer.__typename === 'AuthSuccess' && answer.session && typeof answer.session.token === 'string') signedIn(answer.session.token);
    }
  };

  const realFetch = window.fetch.bind(window);
  window.fetch = async (...args) => {
    const response = await realFetch(...args);
    if ((response.headers.get('content-type') || '').includes('json')) response.clone().json().then(onResult, () => undefined);
    return response;
  };

  window.gatewaySession = {
    /** renderYogaGraphiQL with `onTabChange` added to its options (JSON cannot carry a function). */
    wrap: (render) => (root, options) => render(root, { ...options, onTabChange: (state) => { reported = state; } }),
  };
})();
