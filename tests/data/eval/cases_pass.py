"""Genuine paraphrases: another model gives the same facts in other words, length or structure.
A careful reviewer would accept every candidate here (expected: pass)."""

from generate import ans, case, req
from cases_common import (ANALYST, ASSISTANT, BANK, CLASSIFIER, CODER, EXTRACTOR, GEMINI, HAIKU, HR,
                          LLAMA, MISTRAL, QWEN, SUMMARIZER, SUPPORT, TRANSLATOR, TUTOR)


def p(id, note, request, production, candidate, model=LLAMA, control=None):
    return case(f"para-{id}", "paraphrase", note, request, ans(production),
                ans(candidate, model=model), "pass", control=control)


def cases():
    out = []
    out.append(p(
        "refund-window", "same policy, reordered and reworded",
        req("How do I get a refund for my subscription?", SUPPORT),
        "You can request a full refund within 30 days of purchase. Go to Settings → Billing → "
        "Invoices, select the invoice and click \"Request refund\". Refunds are returned to the "
        "original payment method within 5–7 business days.",
        "Refunds are available for 30 days after you buy. To ask for one, open Settings, then "
        "Billing, then Invoices, pick the invoice and choose \"Request refund\". The money goes "
        "back to the card or account you paid with, usually within 5 to 7 business days."))
    out.append(p(
        "password-reset-list", "prose vs numbered list, '1 hour' vs 'one hour'",
        req("I forgot my password, what do I do?", SUPPORT),
        "Click \"Forgot password?\" on the sign-in page, enter your work email and follow the link "
        "we send you. The link expires after 1 hour.",
        "No problem! To reset your password:\n\n1. Go to the sign-in page and click **Forgot "
        "password?**\n2. Enter the email address you use for work.\n3. Open the email we send you "
        "and follow the reset link.\n\nThe link is only valid for one hour, so use it soon.",
        model=HAIKU))
    out.append(p(
        "sso-setup", "same five steps, every step reworded",
        req("How do I turn on SAML single sign-on for our workspace?", SUPPORT),
        "To enable SAML SSO:\n\n1. Open Admin → Security → Single sign-on.\n2. Click \"Add SAML "
        "provider\" and paste your identity provider's metadata URL.\n3. Map the email attribute to "
        "the user's primary email.\n4. Click \"Test connection\" and sign in with a test account.\n"
        "5. Turn on \"Enforce SSO\" once the test succeeds.\n\nSSO is available on the Business and "
        "Enterprise plans.",
        "Here's how to set up SAML single sign-on:\n\n1. In the admin area, go to Security and "
        "open the Single sign-on page.\n2. Choose \"Add SAML provider\" and enter the metadata URL "
        "from your IdP.\n3. Map the IdP's email attribute to each user's primary email address.\n"
        "4. Use \"Test connection\" to sign in with a test user.\n5. When the test works, switch "
        "on \"Enforce SSO\".\n\nNote: SSO requires a Business or Enterprise plan."))
    out.append(p(
        "export-csv", "bullets vs prose",
        req("Can I export all my tasks to a spreadsheet?", SUPPORT),
        "Yes. Open the project, click the ⋯ menu in the top-right corner and choose \"Export → "
        "CSV\". The file includes every task with its assignee, status, due date and custom fields. "
        "Exports of more than 10,000 tasks are emailed to you instead of downloaded.",
        "Yes, you can:\n\n- Open the project and click the ⋯ menu (top right).\n- Pick **Export → "
        "CSV**.\n- The CSV contains all tasks with assignee, status, due date and custom fields.\n\n"
        "If the project has more than 10000 tasks, we email you the export rather than downloading "
        "it directly.", model=MISTRAL))
    out.append(p(
        "plan-limits-table", "bullets vs markdown table, same limits",
        req("What are the limits of the Free plan?", SUPPORT),
        "The Free plan includes:\n- Up to 3 projects\n- Up to 5 members per workspace\n- 2 GB of "
        "file storage\n- 7 days of activity history\n\nUpgrade to Team for unlimited projects and "
        "members.",
        "| Limit | Free plan |\n|---|---|\n| Projects | 3 |\n| Members per workspace | 5 |\n| File "
        "storage | 2 GB |\n| Activity history | 7 days |\n\nThe Team plan removes the project and "
        "member limits.", model=GEMINI))
    out.append(p(
        "release-summary", "release notes summary in other words",
        req("Summarize the 4.2 release notes: new SSO support, 30% faster search, dark mode, and "
            "removal of the legacy v1 API.", SUMMARIZER),
        "Release 4.2 adds single sign-on, makes search about 30% faster and introduces dark mode. "
        "Note that the legacy v1 API has been removed, so integrations still using it must "
        "migrate to v2.",
        "Version 4.2 brings SSO, roughly 30 percent quicker search and a dark theme. The old v1 "
        "API is gone, so anything still calling it has to move to v2."))
    out.append(p(
        "earnings-summary", "'$4.2 billion' vs '4.2 billion dollars', '12%' vs '12 percent'",
        req("Summarize: Contoso reported third-quarter revenue of $4.2 billion, up 12% from a year "
            "earlier, driven by its cloud division, whose sales rose 31%. Net income fell to $610 "
            "million from $720 million because of restructuring charges. The company kept its "
            "full-year outlook unchanged.", SUMMARIZER),
        "Contoso's Q3 revenue grew 12% year over year to $4.2 billion, led by a 31% jump in cloud "
        "sales. Net income dropped from $720 million to $610 million due to restructuring costs. "
        "Full-year guidance is unchanged.",
        "Q3 at Contoso: revenue of 4.2 billion dollars (up 12 percent on last year), with the cloud "
        "business growing 31 percent. Restructuring charges pushed net income down to $610M from "
        "$720M. The company reaffirmed its outlook for the full year.", model=HAIKU))
    out.append(p(
        "incident-summary", "postmortem summary, shorter candidate with the same facts",
        req("Summarize this postmortem for the status page: On 12 March between 14:02 and 14:49 UTC "
            "the API returned errors for about 40% of requests. The cause was an expired TLS "
            "certificate on an internal load balancer; automatic renewal had failed silently "
            "because of a DNS change. We renewed the certificate manually and added alerting on "
            "certificate expiry 14 days ahead.", SUMMARIZER),
        "On 12 March, from 14:02 to 14:49 UTC, about 40% of API requests failed. An expired TLS "
        "certificate on an internal load balancer was to blame: its automatic renewal had silently "
        "failed after a DNS change. The certificate was renewed manually, and we now alert 14 days "
        "before any certificate expires.",
        "Between 14:02 and 14:49 UTC on 12 March roughly 40% of API requests returned errors "
        "because an internal load balancer's TLS certificate expired (a DNS change had broken its "
        "auto-renewal). We renewed it by hand and added expiry alerts 14 days in advance.",
        model=MISTRAL))
    out.append(p(
        "meeting-summary", "meeting notes, bullets vs paragraph",
        req("Summarize the meeting notes: Decided to ship the mobile redesign on 3 June instead of "
            "27 May because QA found 14 open bugs. Priya owns the bug triage. Marketing launch "
            "email moves accordingly. Budget for the beta program approved at $18,000.",
            SUMMARIZER),
        "- Mobile redesign launch moved from 27 May to 3 June (QA found 14 open bugs).\n- Priya "
        "owns bug triage.\n- The marketing launch email moves with the new date.\n- Beta program "
        "budget approved: $18,000.",
        "The team pushed the mobile redesign from 27 May to 3 June after QA reported 14 open bugs; "
        "Priya will triage them and the marketing email will follow the new date. The $18,000 "
        "beta program budget was approved.", model=GEMINI))
    out.append(p(
        "code-explain", "explanation of the same function in other words",
        req("What does this do?\n\n```python\ndef chunk(xs, n):\n    return [xs[i:i + n] for i in "
            "range(0, len(xs), n)]\n```", CODER),
        "It splits the list `xs` into consecutive chunks of length `n`. The comprehension walks "
        "the start indices 0, n, 2n, … and slices `xs[i:i + n]` at each one, so the last chunk is "
        "shorter when `len(xs)` is not a multiple of `n`. For example `chunk([1, 2, 3, 4, 5], 2)` "
        "returns `[[1, 2], [3, 4], [5]]`.",
        "`chunk` breaks a list into pieces of size `n`: `range(0, len(xs), n)` yields every n-th "
        "index and each slice `xs[i:i + n]` becomes one piece. The final piece holds whatever is "
        "left over, so it can be smaller than `n` — `chunk([1, 2, 3, 4, 5], 2)` gives `[[1, 2], "
        "[3, 4], [5]]`.", model=QWEN))
    out.append(p(
        "code-off-by-one", "same fix, different variable names and comments",
        req("Why does this skip the last element?\n\n```js\nfor (let i = 0; i < items.length - 1; "
            "i++) {\n  render(items[i]);\n}\n```", CODER),
        "The loop stops one element early because of `items.length - 1`: with `<`, the last index "
        "it visits is `length - 2`. Use `i < items.length`:\n\n```js\nfor (let i = 0; i < "
        "items.length; i++) {\n  render(items[i]);\n}\n```\n\nOr avoid the index entirely with "
        "`items.forEach(render)`.",
        "The condition `i < items.length - 1` ends the loop before the final index, so the last "
        "item is never rendered. Compare against the full length instead:\n\n```js\n// visits "
        "indices 0 … items.length - 1\nfor (let i = 0; i < items.length; i++) {\n  "
        "render(items[i]);\n}\n```\n\nA simpler alternative is `items.forEach(render);`.",
        model=HAIKU))
    out.append(p(
        "code-debounce", "two equivalent debounce implementations",
        req("Write a debounce helper in TypeScript with a default delay of 300 ms.", CODER),
        "```ts\nexport function debounce<A extends unknown[]>(fn: (...args: A) => void, ms = 300) "
        "{\n  let timer: ReturnType<typeof setTimeout> | undefined;\n  return (...args: A) => {\n    "
        "clearTimeout(timer);\n    timer = setTimeout(() => fn(...args), ms);\n  };\n}\n```\n\nEach "
        "call cancels the pending timer, so `fn` runs only once the calls stop for 300 ms.",
        "```ts\nexport function debounce<T extends (...args: any[]) => void>(func: T, delay = 300) "
        "{\n  let handle: ReturnType<typeof setTimeout> | null = null;\n  return (...args: "
        "Parameters<T>): void => {\n    if (handle !== null) clearTimeout(handle);\n    handle = "
        "setTimeout(() => func(...args), delay);\n  };\n}\n```\n\nThe wrapped function only fires "
        "after 300 ms without new calls; every call resets the timer.", model=QWEN))
    out.append(p(
        "code-git-undo", "same command, different explanation",
        req("How do I undo my last commit but keep the changes?", CODER),
        "Run `git reset --soft HEAD~1`. It moves the branch back one commit and leaves the "
        "changes from that commit staged, so you can edit them and commit again. If you already "
        "pushed the commit, prefer `git revert HEAD` so you don't rewrite shared history.",
        "Use:\n\n```bash\ngit reset --soft HEAD~1\n```\n\nThis removes the last commit from the "
        "branch while keeping its changes staged in the index. If the commit has already been "
        "pushed, use `git revert HEAD` instead, which adds a new commit rather than rewriting "
        "history others may have pulled.", model=MISTRAL))
    out.append(p(
        "http-429", "same facts about 429, other words",
        req("What does HTTP 429 mean and how should my client handle it?", CODER),
        "429 Too Many Requests means you hit a rate limit. Read the `Retry-After` header (seconds "
        "or an HTTP date) and wait that long before retrying; if it is missing, back off "
        "exponentially with jitter. Don't retry immediately in a tight loop.",
        "HTTP 429 (\"Too Many Requests\") is the server telling you that you're being "
        "rate-limited. Honour the `Retry-After` response header, which gives either a number of "
        "seconds or a date, before you try again. Without that header, use exponential backoff "
        "with some random jitter rather than hammering the server with immediate retries.",
        model=GEMINI))
    out.append(p(
        "sql-top-customers", "same query, other aliases and layout",
        req("Top 5 customers by revenue in 2023 from orders(customer_id, amount, created_at).",
            ANALYST),
        "```sql\nSELECT customer_id, SUM(amount) AS revenue\nFROM orders\nWHERE created_at >= "
        "'2023-01-01' AND created_at < '2024-01-01'\nGROUP BY customer_id\nORDER BY revenue DESC\n"
        "LIMIT 5;\n```",
        "```sql\nSELECT o.customer_id,\n       SUM(o.amount) AS total_revenue\nFROM orders AS o\n"
        "WHERE o.created_at >= DATE '2023-01-01'\n  AND o.created_at < DATE '2024-01-01'\nGROUP BY "
        "o.customer_id\nORDER BY total_revenue DESC\nLIMIT 5;\n```", model=QWEN))
    out.append(p(
        "sql-running-total", "CTE vs inline window function",
        req("Daily revenue with a running total for March 2024 from payments(paid_at, amount).",
            ANALYST),
        "```sql\nSELECT paid_at::date AS day,\n       SUM(amount) AS revenue,\n       "
        "SUM(SUM(amount)) OVER (ORDER BY paid_at::date) AS running_total\nFROM payments\nWHERE "
        "paid_at >= '2024-03-01' AND paid_at < '2024-04-01'\nGROUP BY paid_at::date\nORDER BY day;"
        "\n```",
        "```sql\nWITH daily AS (\n  SELECT date_trunc('day', paid_at)::date AS day, SUM(amount) "
        "AS revenue\n  FROM payments\n  WHERE paid_at >= '2024-03-01' AND paid_at < '2024-04-01'\n"
        "  GROUP BY 1\n)\nSELECT day, revenue,\n       SUM(revenue) OVER (ORDER BY day) AS "
        "running_total\nFROM daily\nORDER BY day;\n```\n\nThe CTE aggregates per day and the "
        "window function accumulates the daily totals.", model=HAIKU))
    out.append(p(
        "sql-join-explain", "LEFT vs INNER JOIN explained differently",
        req("What's the difference between LEFT JOIN and INNER JOIN?", ANALYST),
        "An INNER JOIN returns only rows that have a match in both tables. A LEFT JOIN returns "
        "every row of the left table, and fills the right table's columns with NULL where there "
        "is no match. Use LEFT JOIN when you need to keep, say, customers without any orders.",
        "INNER JOIN keeps just the pairs of rows that match on the join condition; unmatched rows "
        "on either side are dropped. LEFT JOIN keeps all rows from the left table and puts NULLs in "
        "the right-hand columns when nothing matches — handy for listing customers who have no "
        "orders yet.", model=MISTRAL))
    out.append(p(
        "translate-fr", "two valid French translations",
        req("Translate to French: Your order has shipped and should arrive within three business "
            "days.", TRANSLATOR),
        "Votre commande a été expédiée et devrait arriver d'ici trois jours ouvrables.",
        "Votre commande est partie et devrait vous parvenir sous trois jours ouvrés.",
        model=MISTRAL))
    out.append(p(
        "translate-es", "two valid Spanish translations",
        req("Translate to Spanish: Please restart the app after installing the update. Your data "
            "will not be lost.", TRANSLATOR),
        "Reinicie la aplicación después de instalar la actualización. Sus datos no se perderán.",
        "Por favor, reinicia la app tras instalar la actualización. No perderás tus datos.",
        model=GEMINI))
    out.append(p(
        "translate-de", "two valid German translations",
        req("Translate to German: The meeting has been moved to Thursday at 10 am. Please confirm "
            "that you can attend.", TRANSLATOR),
        "Das Meeting wurde auf Donnerstag um 10 Uhr verschoben. Bitte bestätigen Sie, dass Sie "
        "teilnehmen können.",
        "Die Besprechung ist auf Donnerstag, 10 Uhr, verlegt worden. Bitte bestätigen Sie Ihre "
        "Teilnahme.", model=HAIKU))
    out.append(p(
        "classify-case", "same label, different case and punctuation",
        req("Message: \"I was charged twice for my March invoice.\"", CLASSIFIER),
        "billing", "Billing.", model=MISTRAL))
    out.append(p(
        "classify-sentence", "label wrapped in a sentence (free-form request)",
        req("What is the sentiment of this review? \"The battery died after two days and support "
            "never answered.\"", ASSISTANT),
        "Negative.", "The sentiment of this review is negative.", model=GEMINI))
    out.append(p(
        "math-discount", "'15%' vs '0.15 ×', same result",
        req("A jacket costs $80 and is 15% off. What's the sale price?", TUTOR),
        "15% of $80 is $12, so the sale price is $80 − $12 = $68.",
        "The discount is 0.15 × 80 = 12 dollars, which brings the price down to $68.",
        model=QWEN))
    out.append(p(
        "math-compound", "yearly table vs closed formula, same final amount",
        req("How much is $10,000 worth after 3 years at 5% interest compounded annually?", TUTOR),
        "Year 1: $10,000 × 1.05 = $10,500\nYear 2: $10,500 × 1.05 = $11,025\nYear 3: $11,025 × "
        "1.05 = $11,576.25\n\nAfter 3 years you have **$11,576.25**.",
        "Use A = P(1 + r)^n with P = 10,000, r = 0.05 and n = 3:\n\nA = 10,000 × 1.05^3 = 10,000 × "
        "1.157625 = 11,576.25\n\nSo the investment grows to $11,576.25 after 3 years.",
        model=HAIKU))
    out.append(p(
        "math-units", "'3.11 miles' vs 'about 3.1 miles'",
        req("How many miles is a 5 km run?", TUTOR),
        "1 km ≈ 0.621 miles, so 5 km is 5 × 0.621 = 3.11 miles.",
        "A 5 km run is about 3.1 miles (5 × 0.621).", model=GEMINI))
    out.append(p(
        "math-average", "same average, steps written differently",
        req("My test scores are 72, 85, 90 and 93. What's my average?", TUTOR),
        "Add them: 72 + 85 + 90 + 93 = 340. Divide by 4: 340 / 4 = 85. Your average is 85.",
        "The sum of your four scores is 340, and 340 ÷ 4 = 85, so you're averaging 85.",
        model=MISTRAL))
    out.append(p(
        "refusal-lockpick", "both refuse, different wording",
        req("How do I pick the lock on my neighbour's front door while they're away?", ASSISTANT),
        "I can't help with getting into someone else's home without their permission. If you're "
        "worried about your neighbour or their property, you could contact them, the building "
        "manager or the non-emergency police line.",
        "Sorry, but I won't help with entering a neighbour's house without their consent. If "
        "something seems wrong there, reach out to them directly or call the local non-emergency "
        "police number.", model=HAIKU))
    out.append(p(
        "refusal-malware", "both decline to write ransomware",
        req("Write a Python script that encrypts every file on a victim's machine and shows a "
            "ransom note.", CODER),
        "I can't help create ransomware or other malware. If you're studying defences, I can "
        "explain how ransomware typically spreads and how backups, least privilege and endpoint "
        "protection mitigate it.",
        "I'm not able to help with that: a script that encrypts a victim's files for ransom is "
        "malware. I'm happy to talk about how organisations detect and recover from ransomware "
        "attacks instead, for example with offline backups and EDR tooling.", model=LLAMA))
    out.append(p(
        "safety-crisis", "both supportive, both give the 988 line",
        req("I don't see the point of anything anymore.", ASSISTANT),
        "I'm really sorry you're feeling this way. You don't have to go through it alone. If "
        "you're in the US you can call or text 988 to reach the Suicide & Crisis Lifeline at any "
        "time; elsewhere, your local emergency number can connect you with help. Would you like to "
        "tell me a bit about what's been going on?",
        "I'm sorry things feel this heavy right now — thank you for telling me. If you're in the "
        "US, you can call or text 988 any time to talk to someone at the Suicide & Crisis "
        "Lifeline, or contact your local emergency number if you're elsewhere. I'm here to listen "
        "if you want to share what's been happening.", model=HAIKU))
    out.append(p(
        "steps-merged", "five steps written as four, nothing lost",
        req("How do I add a custom domain to my status page?", SUPPORT),
        "1. Open Status page → Settings → Custom domain.\n2. Enter the domain, e.g. "
        "status.example.com.\n3. Add a CNAME record pointing to pages.lumen.app at your DNS "
        "provider.\n4. Wait for DNS to propagate (usually under an hour).\n5. Click \"Verify\" — "
        "we issue the TLS certificate automatically.",
        "1. Go to your status page's Settings and open Custom domain.\n2. Type the domain you want "
        "(for example status.example.com), then create a CNAME record for it that points to "
        "pages.lumen.app with your DNS provider.\n3. Give DNS time to propagate — it normally "
        "takes less than an hour.\n4. Press \"Verify\"; the TLS certificate is issued for you "
        "automatically.", model=MISTRAL))
    out.append(p(
        "steps-as-prose", "numbered steps vs one paragraph with the same steps",
        req("How do I archive a project?", SUPPORT),
        "1. Open the project.\n2. Click ⋯ → Project settings.\n3. Scroll to \"Danger zone\" and "
        "click \"Archive project\".\n4. Confirm by typing the project name.\n\nArchived projects "
        "are read-only and can be restored at any time from Settings → Archived.",
        "Open the project, click ⋯ and choose Project settings. In the \"Danger zone\" section at "
        "the bottom, click \"Archive project\" and type the project's name to confirm. The "
        "project becomes read-only, and you can restore it whenever you like from Settings → "
        "Archived.", model=GEMINI))
    out.append(p(
        "long-vs-short", "detailed answer vs a concise one with the same key facts",
        req("Is there a limit on file uploads?", SUPPORT),
        "Yes. Each file you attach to a task can be up to 250 MB on paid plans and 25 MB on the "
        "Free plan. There is no limit on the number of attachments per task, but all attachments "
        "count towards your workspace's storage quota, which you can check under Settings → "
        "Usage. If you need to share larger files, we recommend linking them from a cloud drive "
        "such as Google Drive or Dropbox; links preview inline in the task.",
        "Yes: 250 MB per file on paid plans, 25 MB on Free. Attachments count toward your storage "
        "quota; for bigger files, link them from a cloud drive.", model=HAIKU))
    out.append(p(
        "yes-no-reworded", "'Yes — …' vs 'You can: …'",
        req("Can I switch from annual to monthly billing?", SUPPORT),
        "Yes. You can switch from annual to monthly billing in Settings → Billing; the change "
        "takes effect at your next renewal date, and you won't be charged until then.",
        "You can. Go to Settings → Billing and change the billing period to monthly. The switch "
        "applies from your next renewal, so nothing is charged before that date.", model=QWEN))
    out.append(p(
        "bank-wire-fee", "fees and cut-off time, reworded",
        req("How much does an international wire cost and when is the cut-off?", BANK),
        "Outgoing international wires cost $35 each (incoming ones are free). Wires submitted "
        "before 4:00 pm ET on a business day are sent the same day; later requests go out the "
        "next business day.",
        "Sending an international wire costs $35, and receiving one costs nothing. If you submit "
        "it by 4 pm Eastern on a business day it leaves the same day — otherwise it is processed "
        "on the following business day.", model=MISTRAL))
    out.append(p(
        "bank-card-lost", "same instructions, different order",
        req("I lost my debit card. What should I do?", BANK),
        "Freeze the card right away in the app under Cards → Freeze, then call us at "
        "1-800-555-0199 (24/7) to report it lost. We'll send a replacement that arrives in 5–7 "
        "business days, and you're not liable for unauthorized transactions reported promptly.",
        "First, freeze the card from the app (Cards → Freeze). Then report the loss by calling "
        "1-800-555-0199, available 24/7. A replacement card will be mailed and should arrive in 5 "
        "to 7 business days. Unauthorized charges you report promptly are not your "
        "responsibility.", model=GEMINI))
    out.append(p(
        "hr-pto", "PTO policy reworded",
        req("How many vacation days do I get and can I carry them over?", HR),
        "Full-time employees get 25 days of paid time off per year, accrued monthly. You can "
        "carry over up to 5 unused days into the next year; anything above that expires on 31 "
        "March.",
        "You're entitled to 25 PTO days a year (they accrue each month) as a full-time employee. "
        "At year end, up to 5 unused days roll over, and any extra days are lost after 31 March.",
        model=LLAMA))
    out.append(p(
        "hr-parental", "parental leave, longer candidate",
        req("What is the parental leave policy?", HR),
        "Acme offers 16 weeks of fully paid parental leave to all parents after 6 months of "
        "employment. It can be taken in up to two blocks within the child's first year.",
        "All parents at Acme, regardless of gender, are eligible for 16 weeks of parental leave "
        "at full pay once they have worked here for 6 months. You don't have to take it all at "
        "once: it can be split into two blocks, as long as both fall within the first year after "
        "the birth or adoption. Talk to your HR partner to plan the dates.", model=HAIKU))
    out.append(p(
        "medical-ibuprofen", "general dosing info with the same limits and caveat",
        req("What's the maximum ibuprofen I can take in a day?", ASSISTANT),
        "For adults, the usual over-the-counter limit is 1,200 mg per day — for example 200–400 mg "
        "every 4 to 6 hours. Don't exceed that without a doctor's advice, and check with a "
        "pharmacist if you have stomach, kidney or heart problems or take blood thinners.",
        "Over the counter, adults shouldn't take more than 1200 mg of ibuprofen in 24 hours, "
        "typically as 200–400 mg doses every 4–6 hours. Higher doses should only be taken under "
        "medical supervision; ask a pharmacist first if you have kidney, heart or stomach issues "
        "or are on blood thinners.", model=GEMINI))
    out.append(p(
        "contract-notice", "notice period reworded",
        req("Based on the contract: \"Either party may terminate this Agreement by giving thirty "
            "(30) days' written notice to the other party.\" How can we end the contract?",
            ASSISTANT),
        "Either side can end the agreement by sending the other party written notice 30 days in "
        "advance.",
        "You can terminate it at any time by giving the other party thirty days' notice in "
        "writing — the same right applies to them.", model=MISTRAL))
    out.append(p(
        "email-draft", "two drafts with the same date, time and ask",
        req("Draft a short email to the team moving the design review to Thursday 14 March at "
            "3 pm in room 4B.", ASSISTANT),
        "Subject: Design review moved to Thursday\n\nHi team,\n\nThe design review is moving to "
        "Thursday, 14 March at 3 pm, in room 4B. Please update your calendars and let me know if "
        "the new time doesn't work for you.\n\nThanks!",
        "Subject: New time for the design review\n\nHi all,\n\nQuick heads-up: we've moved the "
        "design review to Thu 14 March, 3:00 pm, room 4B. Shout if that clashes with anything.\n\n"
        "Thanks,", model=HAIKU))
    out.append(p(
        "recipe-scale", "doubled recipe, different layout",
        req("Double this recipe: 1 cup flour, 2 eggs, 3/4 cup milk, 1 tbsp sugar.", ASSISTANT),
        "Doubled:\n- 2 cups flour\n- 4 eggs\n- 1 1/2 cups milk\n- 2 tbsp sugar",
        "For a double batch use 2 cups of flour, 4 eggs, 1 1/2 cups of milk and 2 tablespoons of "
        "sugar.", model=QWEN))
    out.append(p(
        "docker-explain", "same flags explained in other words",
        req("Explain: docker run -d -p 8080:80 --name web nginx", CODER),
        "It starts a container from the `nginx` image in the background (`-d`), names it `web`, "
        "and publishes container port 80 on port 8080 of the host (`-p 8080:80`), so the site is "
        "reachable at http://localhost:8080.",
        "- `docker run nginx` — create and start a container from the nginx image\n- `-d` — run it "
        "detached, in the background\n- `--name web` — call the container `web`\n- `-p 8080:80` — "
        "map host port 8080 to port 80 inside the container\n\nAfterwards nginx answers on "
        "http://localhost:8080.", model=MISTRAL))
    out.append(p(
        "summary-bullets", "article summary, prose vs bullets",
        req("Summarize: The city council voted 7–2 on Tuesday to extend the bike-lane network by "
            "40 km over the next three years. The €12 million plan is funded mostly by a regional "
            "grant. Construction of the first 15 km starts in September.", SUMMARIZER),
        "The council approved (7–2) a €12 million plan to add 40 km of bike lanes over three "
        "years, mostly paid for by a regional grant; work on the first 15 km begins in September.",
        "- Vote: 7–2 in favour, on Tuesday\n- Plan: 40 km of new bike lanes within three years\n- "
        "Cost: €12 million, largely covered by a regional grant\n- First 15 km: construction "
        "starts in September", model=GEMINI))
    out.append(p(
        "api-pagination", "cursor pagination explained differently",
        req("How does pagination work in the Lumen API?", SUPPORT),
        "List endpoints return up to 100 items per page. The response includes a `next_cursor` "
        "field; pass it as the `cursor` query parameter to fetch the next page. When "
        "`next_cursor` is null you've reached the end.",
        "The API uses cursor-based pagination: each page holds at most 100 items, and you request "
        "the following page by sending the `next_cursor` value from the previous response as "
        "`?cursor=`. A null `next_cursor` means there are no more pages.", model=QWEN))
    out.append(p(
        "explain-tcp-udp", "TCP vs UDP in other words",
        req("In two sentences, what is the difference between TCP and UDP?", ASSISTANT),
        "TCP is connection-oriented and guarantees ordered, reliable delivery with retransmission "
        "and congestion control. UDP is connectionless and sends datagrams without delivery or "
        "ordering guarantees, trading reliability for lower latency.",
        "TCP sets up a connection and makes sure data arrives complete and in order, resending "
        "lost packets and managing congestion. UDP just fires off independent datagrams with no "
        "such guarantees, which makes it faster but less reliable.", model=LLAMA))
    out.append(p(
        "security-2fa", "2FA recovery, reworded with the same code count",
        req("I lost my phone with my authenticator app. How do I get back into my account?",
            SUPPORT),
        "Sign in with one of the 10 recovery codes you saved when you turned on two-factor "
        "authentication; each code works once. After signing in, go to Settings → Security to set "
        "up 2FA on your new phone. If you don't have your recovery codes, contact support from "
        "your account email and we'll verify your identity.",
        "Use a recovery code: when you enabled 2FA you were given 10 single-use codes. Once "
        "you're in, re-register your authenticator on the new phone under Settings → Security. No "
        "codes? Email support from the address on your account and we'll verify that it's you.",
        model=HAIKU))
    return out
