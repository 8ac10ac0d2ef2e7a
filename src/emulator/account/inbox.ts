/**
 * `GET /_emulator/inbox`: the emulator's delivered codes as a page for
 * developers (latest first, refreshed every 2 s from `/_emulator/messages`),
 * the stand-in for their phone and mailbox. Self-contained: no CDN, one
 * inline script that writes only text nodes, so an address cannot inject markup.
 */
export const INBOX_PATH = '/_emulator/inbox';

/** How often the page asks for new codes (chosen). */
const REFRESH_MS = 2000;

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Emulator inbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 56rem; padding: 0 1rem; color: #1d1d1f; }
  h1 { font-size: 1.3rem; margin-bottom: .2rem; }
  p.note { color: #666; margin-top: 0; }
  input { font: inherit; padding: .3rem .5rem; width: 20rem; max-width: 100%; }
  table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
  th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #e4e4e7; }
  th { font-size: .8rem; text-transform: uppercase; color: #666; }
  td.code { font: 600 1.25rem ui-monospace, monospace; letter-spacing: .08em; }
  button { font: inherit; font-size: .8rem; cursor: pointer; }
  tr.fresh td { background: #fffbe6; }
  #status { font-size: .8rem; color: #666; }
</style>
</head>
<body>
<h1>Emulator inbox</h1>
<p class="note">Codes the bundled Account API emulator "sent" by e-mail and SMS, latest first. Refreshed every ${REFRESH_MS / 1000} s. JSON: <a href="/_emulator/messages">/_emulator/messages</a>.</p>
<label>Filter by address <input id="filter" type="search" placeholder="ann@example.com or +15551234567"></label>
<span id="status"></span>
<table>
  <thead><tr><th>code</th><th>to</th><th>channel</th><th>purpose</th><th>sent at</th><th></th></tr></thead>
  <tbody id="messages"><tr><td colspan="6">Loading…</td></tr></tbody>
</table>
<script>
(() => {
  const body = document.getElementById('messages');
  const filter = document.getElementById('filter');
  const status = document.getElementById('status');
  let seen = null;
  let latest = [];
  const cell = (row, text, className) => {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  };
  const render = () => {
    const wanted = filter.value.trim().toLowerCase();
    const shown = latest.filter((m) => wanted === '' || m.to.toLowerCase().includes(wanted));
    body.replaceChildren();
    if (shown.length === 0) {
      cell(body.insertRow(), wanted === '' ? 'No codes yet: register, recover a password or change a contact.' : 'No codes for this address.').colSpan = 6;
      return;
    }
    for (const m of shown) {
      const row = body.insertRow();
      if (seen !== null && !seen.has(m.at + m.to + m.code)) row.className = 'fresh';
      cell(row, m.code, 'code');
      cell(row, m.to);
      cell(row, m.channel);
      cell(row, m.purpose.replace('_', ' '));
      cell(row, new Date(m.at).toLocaleTimeString());
      const copy = document.createElement('button');
      copy.textContent = 'Copy';
      copy.addEventListener('click', () => navigator.clipboard?.writeText(m.code).then(() => { copy.textContent = 'Copied'; }));
      row.insertCell().append(copy);
    }
  };
  const refresh = async () => {
    try {
      const res = await fetch('/_emulator/messages', { cache: 'no-store' });
      const messages = await res.json();
      latest = messages.slice().reverse();
      render();
      seen = new Set(messages.map((m) => m.at + m.to + m.code));
      status.textContent = '';
    } catch {
      status.textContent = 'The emulator is not answering; retrying…';
    }
  };
  filter.addEventListener('input', render);
  refresh();
  setInterval(refresh, ${REFRESH_MS});
})();
</script>
</body>
</html>
`;

export function inboxPage(): string {
  return PAGE;
}
