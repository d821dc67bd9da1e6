// Browser check of the review UI in headless Chromium (Debian's), driven by playwright-core:
// log in with the token, open dashboard, diff list and a diff, take screenshots, and fail on
// console errors, CSP violations or missing key elements.
// Usage: node ui.mjs BASE_URL TOKEN OUT_DIR
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";

const require = createRequire(process.env.SHADOWTAP_TEST_NODE_MODULES + "/");
const { chromium } = require("playwright-core");
const [base, token, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const problems = [];
const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));

async function expect(selector, what) {
  if (!(await page.locator(selector).count())) problems.push(`${page.url()}: missing ${what} (${selector})`);
}

await page.goto(`${base}/`);
await expect("input[name=token]", "login form");
await page.fill("input[name=token]", "wrong-token");
await page.click("button[type=submit]");
await expect("#login-error", "error for a wrong token");
// The rejected login answers 401 on purpose; the browser logs that as a failed resource.
problems.splice(0, problems.length, ...problems.filter((p) => !p.includes("401")));
await page.fill("input[name=token]", token);
await page.click("button[type=submit]");
await page.waitForURL(`${base}/`);
await expect("#noise-floor", "noise floor");
await expect("section.card svg.chart", "server-rendered charts");
await expect("#candidate-regressing .badge.not-ready", "readiness of the regressing candidate");
await page.screenshot({ path: `${out}/dashboard.png`, fullPage: true });

await page.goto(`${base}/diffs?candidate=regressing&verdict=regression`);
await expect("#diff-list tbody tr", "rows in the regressions list");
await expect("#match-count", "match count");
await page.screenshot({ path: `${out}/regressions.png`, fullPage: true });

await page.click("#diff-list tbody tr:first-child td:first-child a");
await expect("#findings", "findings table");
await expect("#production-text", "production answer");
await expect("#candidate-text", "candidate answer");
await expect("#triage-form", "triage form");
await page.screenshot({ path: `${out}/detail.png`, fullPage: true });

await page.goto(`${base}/inventory`);
await expect("#inventory", "inventory table");
await page.screenshot({ path: `${out}/inventory.png`, fullPage: true });

await browser.close();
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`browser check passed; screenshots in ${out}`);
