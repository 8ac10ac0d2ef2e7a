import { readFileSync, readdirSync } from 'node:fs';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { Kind, parse, print, visit, type DefinitionNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import type { GraphiQLOptions } from 'graphql-yoga';

/**
 * GraphiQL that teaches the onboarding flow. It opens with one tab per step,
 * in flow order, each holding an operation of `schema/operations/` (with the
 * fragments it spreads) and example variables, under a comment saying what
 * to do next and, with the embedded emulators, where the codes arrive (the
 * Account emulator's inbox).
 *
 * Once `verifyRegistration`, `login` or `completePasswordRecovery` answers
 * `AuthSuccess`, the page writes `Authorization: Bearer <token>` into the
 * headers of the other tabs and shows the header with a copy button
 * (`graphiql-session.js`). GraphiQL has no API to set another tab's headers:
 * yoga's page takes no plugins besides its own explorer (passing `plugins`
 * replaces it), and GraphiQL reads its storage only at start. What it does
 * offer is `onTabChange`, which hands over the tab objects; a tab's headers
 * are loaded into the editor from its object when the tab is opened, so the
 * script sets them there. Before the first tab change nothing was reported:
 * the banner then offers only the copy. The token stays in this browser.
 * The same script starts the editors with the values of the tab GraphiQL
 * opens (on a fresh profile GraphiQL would leave the first tab's variables
 * out) and lists the events of a running subscription.
 */

/** The steps, in flow order: an operation of schema/operations/ and its example variables. */
const FLOW: { operation: string; note: string; variables?: unknown }[] = [
  {
    operation: 'Register',
    note: 'Step 1 of 9: register with an email (or a phone): press Run (the pink button). The answer holds the userId; a code goes to the email. To register again, change the email in Variables below.',
    variables: { input: { email: 'ann@example.com', password: 'correct horse 1', name: 'Ann', surname: 'Lee', language: 'EN' } },
  },
  {
    operation: 'VerifyRegistration',
    note: 'Step 2: put the userId from step 1 and the code into Variables below. AuthSuccess signs you in: the other tabs get the session header.',
    variables: { input: { userId: 'the userId from step 1', emailCode: 'the code' } },
  },
  { operation: 'Viewer', note: 'Step 3: who is signed in (needs the session header, filled in after step 2).' },
  {
    operation: 'UpdateSettings',
    note: 'Step 4: change settings. A new email or phone sends a code to it: confirm it in the next tab.',
    variables: { input: { firstName: 'Ann', birthday: '1990-04-17', consents: { socioDemographic: true } } },
  },
  { operation: 'ConfirmContactChange', note: 'Step 5: only after changing the email or phone in step 4: the code sent to the new one.', variables: { input: { code: 'the code' } } },
  { operation: 'ActivateProduct', note: 'Step 6: switch a product on (ProductsScreen lists them).', variables: { input: { productId: 'dating' } } },
  {
    operation: 'AccountEvents',
    note: 'Step 7: run it and stay on this tab: switching tabs stops it. Each event shows here as it comes, and the box "Events received" at the bottom right lists them all. To cause one, open this page in a second browser window and run UpdateSettings there with the same session header.',
  },
  { operation: 'Logout', note: 'Step 8: end the session. Its token is refused from now on.' },
  {
    operation: 'Login',
    note: 'Step 9: sign in again with the email and password of step 1; the other tabs get the new session header.',
    variables: { input: { login: 'ann@example.com', password: 'correct horse 1' } },
  },
];

/**
 * The editor shows about 60 characters beside its buttons in a 1440 px
 * window: each comment line is cut to fit (at spaces; a longer word keeps
 * its own line).
 */
const COMMENT_WIDTH = 58;

/** `text` as `# ` comment lines of at most COMMENT_WIDTH characters. */
export function commentLines(text: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > COMMENT_WIDTH - 2) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => `# ${l}\n`).join('');
}

const OPERATIONS_DIR = new URL('../../schema/operations/', import.meta.url);

/** The page's own script (plain browser JavaScript): passes the session on, see the module comment. */
const SESSION_SCRIPT = readFileSync(new URL('./graphiql-session.js', import.meta.url), 'utf8');

/** Every operation and fragment of schema/operations/, by name. */
function readOperations(): Map<string, DefinitionNode> {
  const byName = new Map<string, DefinitionNode>();
  for (const file of readdirSync(OPERATIONS_DIR).filter((f) => f.endsWith('.graphql')).sort()) {
    for (const definition of parse(readFileSync(new URL(file, OPERATIONS_DIR), 'utf8')).definitions) {
      if ((definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) && definition.name) byName.set(definition.name.value, definition);
    }
  }
  return byName;
}

/** The operation and the fragments it spreads (transitively), printed. */
function documentOf(name: string, byName: Map<string, DefinitionNode>): string {
  const operation = byName.get(name);
  if (operation?.kind !== Kind.OPERATION_DEFINITION) throw new Error(`schema/operations/ has no operation ${name} (GraphiQL's onboarding tabs name it)`);
  const fragments = new Map<string, FragmentDefinitionNode>();
  const collect = (node: OperationDefinitionNode | FragmentDefinitionNode) =>
    visit(node, {
      FragmentSpread(spread) {
        const fragment = byName.get(spread.name.value);
        if (fragment?.kind !== Kind.FRAGMENT_DEFINITION || fragments.has(spread.name.value)) return;
        fragments.set(spread.name.value, fragment);
        collect(fragment);
      },
    });
  collect(operation);
  return [operation, ...fragments.values()].map((d) => print(d)).join('\n\n');
}

export interface TeachingGraphiQLOptions {
  /** The page title. */
  title: string;
  /** The emulator inbox of delivered codes, named in every tab (embedded emulators only). */
  inboxUrl?: string;
}

/** Yoga's `graphiql` options: the onboarding tabs. */
export function teachingGraphiQLOptions({ title, inboxUrl }: TeachingGraphiQLOptions): GraphiQLOptions {
  const byName = readOperations();
  const inbox = inboxUrl ? `#\n# Codes sent by the emulator:\n#   ${inboxUrl}\n` : '';
  // The emulator's route that sends the user a notification (an AccountEvents event).
  const notify = inboxUrl
    ? `#\n${commentLines(`Or have the emulator send you a notification: POST {"user_id": "<userId>", "kind": "info", "title": "Hi", "body": "Hello"} to ${new URL('/_emulator/notify', inboxUrl)}`)}`
    : '';
  return {
    title,
    defaultTabs: FLOW.map(({ operation, note, variables }) => ({
      query: `${commentLines(note)}${operation === 'AccountEvents' ? notify : ''}${inbox}\n${documentOf(operation, byName)}\n`,
      // Strings, never null: GraphiQL puts a tab's values into the editors as they are.
      variables: variables === undefined ? '' : JSON.stringify(variables, null, 2),
      headers: '',
    })),
  };
}

/** Yoga's `renderGraphiQL`: the bundled page (no CDN), plus the script that passes the session on. */
export function renderTeachingGraphiQL(options: GraphiQLOptions): string {
  const html = renderGraphiQL(options);
  const call = 'YogaGraphiQL.renderYogaGraphiQL(';
  const at = html.lastIndexOf(call);
  if (at < 0) throw new Error('@graphql-yoga/render-graphiql no longer calls YogaGraphiQL.renderYogaGraphiQL(root, options); see src/transport/graphiql.ts');
  // The page's options gain `onTabChange` (a function, which JSON cannot carry).
  return `${html.slice(0, at)}${SESSION_SCRIPT}\nYogaGraphiQL.renderYogaGraphiQL = window.gatewaySession.wrap(YogaGraphiQL.renderYogaGraphiQL);\n${html.slice(at)}`;
}
