import type { Browser } from 'playwright-core';

/**
 * The Chromium of the browser tests: `CHROMIUM_PATH`, else /usr/bin/chromium
 * (Debian's package; playwright-core downloads none). When it is missing or
 * does not start, such tests are skipped with one printed line saying how to
 * install it, unless `CI` is set: then they fail.
 */
export function chromiumPathForTests(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

export interface ChromiumForTests {
  path: string;
  /** The browser, launched once for the file; null when it could not start. */
  browser: Browser | null;
  /** Why Chromium cannot be used, or null when it started. */
  problem: string | null;
  /** For `beforeAll`: the browser, or throws (under CI) why there is none. */
  require(): Browser;
}

/** Launches the tests' Chromium once with `launch`; prints why the tests of `file` are skipped, if they are. */
export async function chromiumForTests(file: string, launch: (executablePath: string) => Promise<Browser>): Promise<ChromiumForTests> {
  const path = chromiumPathForTests();
  let browser: Browser | null = null;
  let problem: string | null = null;
  try {
    browser = await launch(path);
  } catch (error) {
    problem = ((error as Error).message || String(error)).split('\n')[0]!;
  }
  if (problem !== null && !process.env.CI) {
    console.warn(
      `${file}: skipping the browser tests, Chromium at ${path} does not start (${problem}); install it with \`apt-get install chromium\` or set CHROMIUM_PATH; under CI they fail instead`,
    );
  }
  return {
    path,
    browser,
    problem,
    require: () => {
      if (browser === null) throw new Error(`Chromium at ${path} does not start (${problem}); CI is set, so this fails instead of skipping`);
      return browser;
    },
  };
}
