// GraphiQL's page helper (src/transport/graphiql.ts inlines it into the page,
// before GraphiQL starts). Plain browser JavaScript: it is never imported.
//
// - The session: it watches the page's GraphQL answers; on `AuthSuccess` from
//   verifyRegistration, login or completePasswordRecovery it writes
//   `Authorization: Bearer <token>` into the headers of every other tab GraphiQL
//   reported through `onTabChange` (GraphiQL loads a tab's headers from that
//   object when the tab is opened), and shows the header with a copy button.
// - The editors at start: GraphiQL fills them from its `initialQuery`,
//   `initialVariables` and `initialHeaders` props, else from what it stored of
//   the editors' last edits, never from the tab it opens (it does so for the
//   query of the first of `defaultTabs` only). So on a fresh profile the
//   onboarding's first Run went without its variables, and a reload with no
//   edit since added a tab (no stored tab matched the empty editors). The
//   props are set to the values of the tab GraphiQL opens with.
// - The events of a subscription: GraphiQL shows the latest result only; the
//   box "Events received" lists every event of the page's event streams.
// - The tab bar keeps no room for the close button of inactive tabs: all nine
//   tabs fit a 1440 px window.
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

  /** The boxes at the bottom right (events, session), stacked. */
  const corner = () => {
    let column = document.getElementById('gateway-boxes');
    if (!column) {
      column = document.createElement('div');
      column.id = 'gateway-boxes';
      column.style.cssText = 'position:fixed;right:16px;bottom:16px;z-index:1000;display:flex;flex-direction:column;gap:8px;width:32em;max-width:calc(100vw - 32px)';
      document.body.append(column);
    }
    return column;
  };

  const boxFor = (id, label) => {
    let element = document.getElementById(id);
    if (!element) {
      element = document.createElement('div');
      element.id = id;
      element.setAttribute('role', 'status');
      element.setAttribute('aria-label', label);
      element.style.cssText = 'padding:10px 14px;border-radius:8px;background:#1f2937;color:#f9fafb;font:13px/1.4 system-ui,sans-serif;box-shadow:0 4px 16px #0004';
      corner().append(element);
    }
    return element;
  };

  const banner = (value, filled) => {
    const box = boxFor('gateway-session', 'Session');
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

  /** The events of the page's event streams, oldest first, and how many streams are open. */
  let received = 0;
  let streamsOpen = 0;

  /** The box "Events received" (made again after Hide): its title and list. */
  const eventsBox = () => {
    const element = boxFor('gateway-events', 'Events received');
    if (!element.firstChild) {
      const title = document.createElement('div');
      title.style.fontWeight = '600';
      const list = document.createElement('ol');
      list.style.cssText = 'margin:6px 0;padding-left:2.2em;max-height:18em;overflow:auto;font:12px/1.4 ui-monospace,monospace';
      const clear = button('Clear', () => {
        received = 0;
        list.replaceChildren();
        showTitle();
      });
      element.append(title, list, clear, button('Hide', () => element.remove()));
    }
    return { title: element.firstChild, list: element.children[1] };
  };

  const showTitle = () => {
    eventsBox().title.textContent = `Events received: ${received}${streamsOpen > 0 ? ' (listening)' : ' (stopped: run the subscription again to listen)'}`;
  };

  /** Adds an event to the list: one line (time and type); opened, its fields. */
  const showEvent = (result) => {
    received++;
    const data = result.data && typeof result.data === 'object' ? Object.values(result.data)[0] : undefined;
    const kind = data && typeof data === 'object' && typeof data.__typename === 'string' ? data.__typename : result.errors ? 'errors' : 'event';
    const summary = document.createElement('summary');
    summary.textContent = `${new Date().toLocaleTimeString()} ${kind}`;
    summary.style.cursor = 'pointer';
    const fields = document.createElement('pre');
    fields.textContent = JSON.stringify(data && typeof data === 'object' ? Object.fromEntries(Object.entries(data).filter(([key]) => key !== '__typename')) : result, null, 2);
    fields.style.cssText = 'margin:2px 0 6px;white-space:pre-wrap;overflow-wrap:anywhere';
    const details = document.createElement('details');
    details.append(summary, fields);
    const item = document.createElement('li');
    item.append(details);
    const { list } = eventsBox();
    list.append(item);
    list.scrollTop = list.scrollHeight;
    showTitle();
  };

  /** Reads an event stream (a copy of GraphiQL's): each `data:` payload with a result is an event. */
  const watchStream = async (body) => {
    streamsOpen++;
    showTitle();
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        const frames = buffered.split(/\r?\n\r?\n/);
        buffered = frames.pop();
        for (const frame of frames) {
          const data = frame.split(/\r?\n/).filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trimStart()).join('\n');
          if (data === '') continue;
          try {
            const result = JSON.parse(data);
            if (result && typeof result === 'object' && ('data' in result || 'errors' in result)) showEvent(result);
          } catch {
            // Not JSON: not an event.
          }
        }
      }
    } catch {
      // The stream was stopped (GraphiQL's stop button, or another tab opened).
    } finally {
      streamsOpen--;
      showTitle();
    }
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
    const type = response.headers.get('content-type') || '';
    if (type.includes('json')) response.clone().json().then(onResult, () => undefined);
    else if (type.includes('text/event-stream') && response.body) watchStream(response.clone().body);
    return response;
  };

  const style = document.createElement('style');
  // GraphiQL keeps room for a close button on every tab, shown on the active one only.
  style.textContent = '.graphiql-tab:not(.graphiql-tab-active) .graphiql-tab-button { padding-right: 8px; } .graphiql-tab:not(.graphiql-tab-active) .graphiql-tab-close { display: none; }';
  document.head.append(style);

  /**
   * The tab GraphiQL opens with: the first of `defaultTabs` on a fresh
   * profile, else the active one of the tabs it stored (`graphiql:tabState`
   * in localStorage, `{ tabs, activeTabIndex }`).
   */
  const openingTab = (options) => {
    try {
      const stored = JSON.parse(localStorage.getItem('graphiql:tabState') || 'null');
      if (stored && Array.isArray(stored.tabs)) return stored.tabs[stored.activeTabIndex] || null;
    } catch {
      // No storage (or not ours to read): GraphiQL starts as it would.
      return null;
    }
    return (options.defaultTabs && options.defaultTabs[0]) || null;
  };

  /** GraphiQL's initial editor values: those of the tab it opens with (see the file's header). */
  const initialValues = (options) => {
    const tab = openingTab(options);
    // yoga's page puts a `?query=` of the address into the editor: left to it.
    if (!tab || new URL(location.href).searchParams.has('query')) return {};
    return { initialQuery: tab.query || '', initialVariables: tab.variables || '', initialHeaders: tab.headers || '' };
  };

  window.gatewaySession = {
    /** renderYogaGraphiQL with `onTabChange` (JSON cannot carry a function) and the opening tab's editor values. */
    wrap: (render) => (root, options) => render(root, { ...options, ...initialValues(options), onTabChange: (state) => { reported = state; } }),
  };
})();
