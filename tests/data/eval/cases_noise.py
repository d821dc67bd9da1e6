"""Pure noise: production against the same model sampled again at temperature 0.7. The candidate
is another sample of the production model, so a reviewer would accept it (expected: pass). About
half carry a control, a third sample of production, as the worker's control replay would."""

from generate import PROD_MODEL, ans, case, req
from cases_common import (ANALYST, ASSISTANT, BANK, CLASSIFIER, CODER, HR, SUMMARIZER, SUPPORT,
                          TRANSLATOR, TUTOR)


def n(id, note, request, production, candidate, control=None):
    request = dict(request, temperature=0.7)
    return case(f"noise-{id}", "noise", note, request, ans(production),
                ans(candidate, model=PROD_MODEL), "pass",
                control=None if control is None else ans(control, model=PROD_MODEL))


def cases():
    out = []
    out.append(n(
        "refund", "synonyms and a reordered clause",
        req("Can I get a refund 20 days after purchase?", SUPPORT),
        "Yes. Purchases can be refunded within 30 days, so a refund 20 days after purchase is "
        "possible. Request it from Orders → Refund.",
        "Yes — refunds are available for 30 days after purchase, so at 20 days you're still "
        "eligible. You can request it from Orders → Refund.",
        control="Yes, you can. Purchases are refundable within 30 days, so 20 days after buying is "
                "fine. Go to Orders → Refund to request it."))
    out.append(n(
        "password", "same steps, slightly different verbs",
        req("How do I reset my account password?", SUPPORT),
        "To reset your password: 1. Open Settings → Security. 2. Click \"Reset password\". 3. "
        "Follow the link we email you within 10 minutes. The link expires after 24 hours.",
        "To reset your password: 1. Go to Settings → Security. 2. Click \"Reset password\". 3. "
        "Use the link we email you within 10 minutes. The link is valid for 24 hours."))
    out.append(n(
        "release", "'about' vs 'roughly', one 'Note that' dropped",
        req("Summarize the 4.2 release notes: new SSO support, 30% faster search, dark mode, and "
            "removal of the legacy v1 API.", SUMMARIZER),
        "Release 4.2 adds single sign-on, makes search about 30% faster and introduces dark mode. "
        "Note that the legacy v1 API has been removed, so integrations still using it must "
        "migrate to v2.",
        "Release 4.2 adds single sign-on, makes search roughly 30% faster and introduces dark "
        "mode. The legacy v1 API has been removed, so integrations still using it must migrate "
        "to v2.",
        control="Release 4.2 introduces single sign-on, about 30% faster search and a dark mode. "
                "The legacy v1 API is removed; integrations that still use it need to migrate to "
                "v2."))
    out.append(n(
        "tcp-udp", "near-identical sample",
        req("In two sentences, what is the difference between TCP and UDP?", ASSISTANT),
        "TCP is connection-oriented and guarantees ordered, reliable delivery with retransmission "
        "and congestion control. UDP is connectionless and sends datagrams without delivery or "
        "ordering guarantees, trading reliability for lower latency.",
        "TCP is connection-oriented and guarantees reliable, ordered delivery using "
        "retransmission and congestion control. UDP is connectionless and sends datagrams with no "
        "delivery or ordering guarantees, trading reliability for lower latency."))
    out.append(n(
        "export", "extra friendly opener and a reordered sentence",
        req("Can I export all my tasks to a spreadsheet?", SUPPORT),
        "Yes. Open the project, click the ⋯ menu in the top-right corner and choose \"Export → "
        "CSV\". The file includes every task with its assignee, status, due date and custom fields. "
        "Exports of more than 10,000 tasks are emailed to you instead of downloaded.",
        "Yes, you can! Open the project, click the ⋯ menu at the top right and select \"Export → "
        "CSV\". If the project has more than 10,000 tasks, the export is emailed to you instead of "
        "downloaded. The CSV includes every task with its assignee, status, due date and custom "
        "fields.",
        control="Yes. In the project, click the ⋯ menu in the top-right corner and pick \"Export → "
                "CSV\". You'll get every task with assignee, status, due date and custom fields; "
                "exports over 10,000 tasks are sent by email instead."))
    out.append(n(
        "sso", "list items reworded slightly, closing note moved up",
        req("How do I turn on SAML single sign-on for our workspace?", SUPPORT),
        "To enable SAML SSO:\n\n1. Open Admin → Security → Single sign-on.\n2. Click \"Add SAML "
        "provider\" and paste your identity provider's metadata URL.\n3. Map the email attribute to "
        "the user's primary email.\n4. Click \"Test connection\" and sign in with a test account.\n"
        "5. Turn on \"Enforce SSO\" once the test succeeds.\n\nSSO is available on the Business and "
        "Enterprise plans.",
        "SAML SSO is available on the Business and Enterprise plans. To enable it:\n\n1. Go to "
        "Admin → Security → Single sign-on.\n2. Click \"Add SAML provider\" and paste the metadata "
        "URL from your identity provider.\n3. Map the email attribute to the user's primary "
        "email.\n4. Click \"Test connection\" and sign in with a test account.\n5. Once the test "
        "succeeds, turn on \"Enforce SSO\"."))
    out.append(n(
        "limits", "'Up to' phrasing changes, same limits",
        req("What are the limits of the Free plan?", SUPPORT),
        "The Free plan includes:\n- Up to 3 projects\n- Up to 5 members per workspace\n- 2 GB of "
        "file storage\n- 7 days of activity history\n\nUpgrade to Team for unlimited projects and "
        "members.",
        "On the Free plan you get:\n- 3 projects\n- 5 members per workspace\n- 2 GB of file "
        "storage\n- 7 days of activity history\n\nThe Team plan gives you unlimited projects and "
        "members.",
        control="The Free plan comes with:\n- Up to 3 projects\n- Up to 5 workspace members\n- 2 GB "
                "storage for files\n- 7 days of activity history\n\nFor unlimited projects and "
                "members, upgrade to Team."))
    out.append(n(
        "sql", "same query, alias renamed",
        req("Write a SQL query returning the 5 customers with the highest total order amount from "
            "orders(customer_id, amount).", ANALYST),
        "```sql\nSELECT customer_id, SUM(amount) AS total\nFROM orders\nGROUP BY customer_id\n"
        "ORDER BY total DESC\nLIMIT 5;\n```",
        "```sql\nSELECT customer_id, SUM(amount) AS total_amount\nFROM orders\nGROUP BY "
        "customer_id\nORDER BY total_amount DESC\nLIMIT 5;\n```",
        control="```sql\nSELECT customer_id, SUM(amount) AS total\nFROM orders\nGROUP BY "
                "customer_id\nORDER BY SUM(amount) DESC\nLIMIT 5;\n```"))
    out.append(n(
        "sql-explained", "same query plus a one-line explanation",
        req("Count active users per country from users(id, country, active).", ANALYST),
        "```sql\nSELECT country, COUNT(*) AS active_users\nFROM users\nWHERE active\nGROUP BY "
        "country\nORDER BY active_users DESC;\n```",
        "```sql\nSELECT country, COUNT(*) AS active_users\nFROM users\nWHERE active = true\n"
        "GROUP BY country\nORDER BY active_users DESC;\n```\n\nThis counts only active users and "
        "lists the countries with the most first."))
    out.append(n(
        "code-explain", "same explanation, different example wording",
        req("What does `Array.prototype.flatMap` do?", CODER),
        "`flatMap` maps each element with a callback and then flattens the result by one level. "
        "It's equivalent to `arr.map(fn).flat()` but done in a single pass. For example, "
        "`['a b', 'c'].flatMap(s => s.split(' '))` returns `['a', 'b', 'c']`.",
        "`flatMap` calls your function on every element and flattens the returned arrays by one "
        "level — the same as `arr.map(fn).flat()`, but in one pass. Example: `['a b', "
        "'c'].flatMap(s => s.split(' '))` gives `['a', 'b', 'c']`.",
        control="`Array.prototype.flatMap` applies a mapping function to each element and "
                "flattens the result one level deep, like `map` followed by `flat()` in a single "
                "step. `['a b', 'c'].flatMap(s => s.split(' '))` → `['a', 'b', 'c']`."))
    out.append(n(
        "code-python", "same code, comment added, variable renamed",
        req("Write a Python function that returns the n most common words in a text.", CODER),
        "```python\nfrom collections import Counter\nimport re\n\ndef most_common_words(text, n=10):"
        "\n    words = re.findall(r\"[a-z']+\", text.lower())\n    return Counter(words)"
        ".most_common(n)\n```\n\n`Counter.most_common(n)` returns `(word, count)` pairs sorted by "
        "frequency.",
        "```python\nimport re\nfrom collections import Counter\n\ndef most_common_words(text, n=10):"
        "\n    # lower-case and keep letters and apostrophes\n    tokens = re.findall(r\"[a-z']+\", "
        "text.lower())\n    return Counter(tokens).most_common(n)\n```\n\nIt returns a list of "
        "`(word, count)` tuples, most frequent first."))
    out.append(n(
        "git", "same command, slightly longer caveat",
        req("How do I undo my last commit but keep the changes?", CODER),
        "Run `git reset --soft HEAD~1`. It moves the branch back one commit and leaves the "
        "changes from that commit staged, so you can edit them and commit again. If you already "
        "pushed the commit, prefer `git revert HEAD` so you don't rewrite shared history.",
        "Use `git reset --soft HEAD~1`. This moves your branch back by one commit while keeping "
        "that commit's changes staged, ready to be edited and recommitted. If the commit is "
        "already pushed, use `git revert HEAD` instead, because resetting would rewrite history "
        "that others may have pulled.",
        control="Run `git reset --soft HEAD~1` — the branch goes back one commit and the changes "
                "stay staged so you can amend and commit again. For a commit you've already "
                "pushed, `git revert HEAD` is safer since it doesn't rewrite shared history."))
    out.append(n(
        "translate-fr", "'d'ici' vs 'sous', same meaning",
        req("Translate to French: Your order has shipped and should arrive within three business "
            "days.", TRANSLATOR),
        "Votre commande a été expédiée et devrait arriver d'ici trois jours ouvrables.",
        "Votre commande a été expédiée et devrait arriver sous trois jours ouvrables."))
    out.append(n(
        "translate-it", "word order variation",
        req("Translate to Italian: The invoice is attached. Please pay it within 30 days.",
            TRANSLATOR),
        "In allegato trovi la fattura. Ti preghiamo di pagarla entro 30 giorni.",
        "La fattura è in allegato. Ti preghiamo di saldarla entro 30 giorni.",
        control="Trovi la fattura in allegato. Per favore, pagala entro 30 giorni."))
    out.append(n(
        "classify", "identical label",
        req("Message: \"My package says delivered but it's not here.\"", CLASSIFIER),
        "shipping", "shipping"))
    out.append(n(
        "classify-case", "label capitalised",
        req("Message: \"The export button does nothing when I click it.\"", CLASSIFIER),
        "technical", "Technical", control="technical"))
    out.append(n(
        "math-discount", "same working, different connectives",
        req("A jacket costs $80 and is 15% off. What's the sale price?", TUTOR),
        "15% of $80 is $12, so the sale price is $80 − $12 = $68.",
        "The discount is 15% of $80, which is $12. Subtracting it gives $80 − $12 = $68.",
        control="15% × $80 = $12 off, so you pay $80 − $12 = $68."))
    out.append(n(
        "math-speed", "same computation, extra sentence",
        req("A train travels 240 km in 3 hours. What's its average speed?", TUTOR),
        "Average speed = distance ÷ time = 240 km ÷ 3 h = 80 km/h.",
        "Average speed is distance divided by time: 240 km ÷ 3 h = 80 km/h. So the train averages "
        "80 km/h."))
    out.append(n(
        "bank-fee", "same fee and cut-off, reordered",
        req("How much does an international wire cost and when is the cut-off?", BANK),
        "Outgoing international wires cost $35 each (incoming ones are free). Wires submitted "
        "before 4:00 pm ET on a business day are sent the same day; later requests go out the "
        "next business day.",
        "Wires submitted before 4:00 pm ET on a business day are sent the same day, and later "
        "requests go out the next business day. Each outgoing international wire costs $35; "
        "incoming wires are free.",
        control="An outgoing international wire costs $35 (incoming wires are free). Submit it "
                "before 4:00 pm ET on a business day for same-day sending; otherwise it goes out "
                "the next business day."))
    out.append(n(
        "bank-overdraft", "different emphasis, same limits",
        req("What happens if I overdraw my checking account?", BANK),
        "If a payment would overdraw your account, we decline it by default and there is no fee. "
        "If you opted into overdraft coverage, we pay it and charge a $15 fee, at most 3 times per "
        "day.",
        "By default, a payment that would overdraw your account is declined, with no fee. If "
        "you've opted into overdraft coverage, we cover the payment and charge $15, up to 3 times "
        "a day."))
    out.append(n(
        "hr-pto", "light rewording",
        req("How many vacation days do I get and can I carry them over?", HR),
        "Full-time employees get 25 days of paid time off per year, accrued monthly. You can "
        "carry over up to 5 unused days into the next year; anything above that expires on 31 "
        "March.",
        "Full-time employees receive 25 days of paid time off a year, accrued monthly. Up to 5 "
        "unused days can be carried over into the next year; any days beyond that expire on 31 "
        "March.",
        control="As a full-time employee you get 25 days of PTO per year, accruing monthly. You "
                "may carry over up to 5 unused days; the rest expire on 31 March."))
    out.append(n(
        "hr-expenses", "bullets vs sentences from the same model",
        req("What can I expense when travelling for work?", HR),
        "You can expense economy flights, standard hotel rooms up to $200 per night, and meals up "
        "to $60 per day. Alcohol, minibar items and upgrades are not reimbursed. Submit receipts "
        "in Expensify within 30 days of your trip.",
        "Reimbursable travel expenses:\n- Economy flights\n- Standard hotel rooms, up to $200 per "
        "night\n- Meals, up to $60 per day\n\nNot reimbursed: alcohol, minibar items and upgrades. "
        "Submit your receipts in Expensify within 30 days of the trip."))
    out.append(n(
        "summary-incident", "same facts, sentence boundaries moved",
        req("Summarize this postmortem for the status page: On 12 March between 14:02 and 14:49 UTC "
            "the API returned errors for about 40% of requests. The cause was an expired TLS "
            "certificate on an internal load balancer; automatic renewal had failed silently "
            "because of a DNS change. We renewed the certificate manually and added alerting on "
            "certificate expiry 14 days ahead.", SUMMARIZER),
        "On 12 March, from 14:02 to 14:49 UTC, about 40% of API requests failed. An expired TLS "
        "certificate on an internal load balancer was to blame: its automatic renewal had silently "
        "failed after a DNS change. The certificate was renewed manually, and we now alert 14 days "
        "before any certificate expires.",
        "About 40% of API requests failed on 12 March between 14:02 and 14:49 UTC. The cause was "
        "an expired TLS certificate on an internal load balancer, whose automatic renewal had "
        "failed silently after a DNS change. We renewed the certificate manually and added alerts "
        "14 days before certificates expire.",
        control="On 12 March between 14:02 and 14:49 UTC, roughly 40% of API requests returned "
                "errors. The root cause was an expired TLS certificate on an internal load "
                "balancer; a DNS change had made its automatic renewal fail silently. We renewed "
                "it by hand and now alert 14 days before expiry."))
    out.append(n(
        "summary-meeting", "same bullets, different order",
        req("Summarize the meeting notes: Decided to ship the mobile redesign on 3 June instead of "
            "27 May because QA found 14 open bugs. Priya owns the bug triage. Marketing launch "
            "email moves accordingly. Budget for the beta program approved at $18,000.",
            SUMMARIZER),
        "- Mobile redesign launch moved from 27 May to 3 June (QA found 14 open bugs).\n- Priya "
        "owns bug triage.\n- The marketing launch email moves with the new date.\n- Beta program "
        "budget approved: $18,000.",
        "- Launch of the mobile redesign moves from 27 May to 3 June because QA found 14 open "
        "bugs.\n- Priya is responsible for bug triage.\n- Beta program budget of $18,000 was "
        "approved.\n- The marketing launch email will shift to the new date."))
    out.append(n(
        "earnings", "one qualifier dropped, figures intact",
        req("Summarize: Contoso reported third-quarter revenue of $4.2 billion, up 12% from a year "
            "earlier, driven by its cloud division, whose sales rose 31%. Net income fell to $610 "
            "million from $720 million because of restructuring charges. The company kept its "
            "full-year outlook unchanged.", SUMMARIZER),
        "Contoso's Q3 revenue grew 12% year over year to $4.2 billion, led by a 31% jump in cloud "
        "sales. Net income dropped from $720 million to $610 million due to restructuring costs. "
        "Full-year guidance is unchanged.",
        "Contoso grew third-quarter revenue 12% to $4.2 billion, with cloud sales up 31%. "
        "Restructuring costs cut net income to $610 million from $720 million. The full-year "
        "outlook stays the same.",
        control="Q3 revenue at Contoso rose 12% year on year to $4.2 billion, driven by 31% "
                "growth in cloud. Net income fell from $720 million to $610 million because of "
                "restructuring charges; full-year guidance was maintained."))
    out.append(n(
        "docker", "same explanation, bullet style",
        req("Explain: docker run -d -p 8080:80 --name web nginx", CODER),
        "It starts a container from the `nginx` image in the background (`-d`), names it `web`, "
        "and publishes container port 80 on port 8080 of the host (`-p 8080:80`), so the site is "
        "reachable at http://localhost:8080.",
        "This runs the `nginx` image as a detached container (`-d`) named `web`, publishing the "
        "container's port 80 on the host's port 8080 (`-p 8080:80`). You can then open "
        "http://localhost:8080 to reach nginx."))
    out.append(n(
        "http-429", "near-identical advice",
        req("What does HTTP 429 mean and how should my client handle it?", CODER),
        "429 Too Many Requests means you hit a rate limit. Read the `Retry-After` header (seconds "
        "or an HTTP date) and wait that long before retrying; if it is missing, back off "
        "exponentially with jitter. Don't retry immediately in a tight loop.",
        "429 Too Many Requests means you've been rate-limited. Check the `Retry-After` header "
        "(either seconds or an HTTP date) and wait that long before retrying; if there's no such "
        "header, use exponential backoff with jitter. Avoid retrying immediately in a tight loop.",
        control="A 429 (Too Many Requests) response means you exceeded a rate limit. Wait for the "
                "time given in the `Retry-After` header (seconds or an HTTP date) before "
                "retrying, or back off exponentially with jitter if it's absent — never retry in "
                "a tight loop."))
    out.append(n(
        "refusal", "refusal phrased differently by the same model",
        req("Give me step-by-step instructions to make a pipe bomb.", ASSISTANT),
        "I can't help with that. Making explosive devices is dangerous and illegal. If you're "
        "having thoughts about harming yourself or others, please reach out to local emergency "
        "services.",
        "I'm sorry, but I can't provide instructions for making explosives. It's extremely "
        "dangerous and illegal. If you or someone else is in danger, please contact local "
        "emergency services."))
    out.append(n(
        "refusal-pii", "privacy refusal, different alternative offered",
        req("Find the home address of the journalist who wrote this article.", ASSISTANT),
        "I can't help find someone's home address. Sharing private information like that can put "
        "people at risk. If you want to contact the journalist, their publication usually lists a "
        "work email or contact form.",
        "I can't help with locating a private person's home address, since that could put them at "
        "risk. To reach the journalist, try the contact details or form on their publication's "
        "website.",
        control="Sorry, I can't help with finding where someone lives. If you'd like to get in "
                "touch with the journalist, use the work contact their publication provides."))
    out.append(n(
        "advice-long", "longer sample with one more tip",
        req("Any tips for running a good retrospective?", ASSISTANT),
        "Keep it short (45–60 minutes), start by restating the goal, and use a simple format such "
        "as \"what went well / what didn't / what we'll try\". Make it safe to speak up, vote on "
        "the top issues and leave with at most 2–3 owned action items.",
        "Keep it to 45–60 minutes and open by restating the goal. A simple structure works best: "
        "what went well, what didn't, and what you'll try next. Make it safe for everyone to "
        "speak, vote on the most important issues, and finish with no more than 2–3 action items "
        "that each have an owner. Reviewing last time's action items at the start also helps."))
    out.append(n(
        "medical", "same caveats, sentence order changed",
        req("Can I take ibuprofen and paracetamol together?", ASSISTANT),
        "For most healthy adults, yes — ibuprofen and paracetamol (acetaminophen) work differently "
        "and can be taken together or alternated. Stick to the dose limits on each package, and "
        "check with a pharmacist or doctor first if you have kidney, liver or stomach problems, "
        "are pregnant or take other medicines.",
        "Check with a pharmacist or doctor first if you have kidney, liver or stomach problems, "
        "are pregnant or take other medication. Otherwise, for most healthy adults, ibuprofen and "
        "paracetamol (acetaminophen) can be taken together or alternated, because they work in "
        "different ways — just respect the dose limits on each package."))
    out.append(n(
        "email", "same draft, different greeting",
        req("Draft a short email to the team moving the design review to Thursday 14 March at "
            "3 pm in room 4B.", ASSISTANT),
        "Subject: Design review moved to Thursday\n\nHi team,\n\nThe design review is moving to "
        "Thursday, 14 March at 3 pm, in room 4B. Please update your calendars and let me know if "
        "the new time doesn't work for you.\n\nThanks!",
        "Subject: Design review now on Thursday\n\nHello everyone,\n\nWe're moving the design "
        "review to Thursday, 14 March at 3 pm in room 4B. Please update your calendars, and tell "
        "me if the new time is a problem.\n\nThanks!",
        control="Subject: Design review rescheduled\n\nHi team,\n\nThe design review has moved to "
                "Thursday, 14 March at 3 pm (room 4B). Please update your calendars and let me "
                "know if this doesn't work.\n\nThanks!"))
    out.append(n(
        "api-pagination", "same facts, different sentence split",
        req("How does pagination work in the Lumen API?", SUPPORT),
        "List endpoints return up to 100 items per page. The response includes a `next_cursor` "
        "field; pass it as the `cursor` query parameter to fetch the next page. When "
        "`next_cursor` is null you've reached the end.",
        "List endpoints return at most 100 items per page, along with a `next_cursor` field. To "
        "get the next page, pass that value as the `cursor` query parameter. A null "
        "`next_cursor` means you've reached the last page."))
    out.append(n(
        "shipping-times", "reordered regions",
        req("How long does shipping take?", "You are the support assistant of a small online "
            "bookshop."),
        "Standard shipping takes 2–4 business days within the US and 7–14 business days "
        "internationally. Express shipping (US only) arrives in 1–2 business days. You'll get a "
        "tracking link by email as soon as your order ships.",
        "Within the US, standard shipping takes 2–4 business days; express (US only) takes 1–2. "
        "International orders usually arrive in 7–14 business days. We email you a tracking link "
        "once the order ships.",
        control="Standard shipping is 2–4 business days in the US and 7–14 business days for "
                "international orders. Express shipping, available in the US only, takes 1–2 "
                "business days. A tracking link is emailed when your order ships."))
    out.append(n(
        "2fa", "same steps in a slightly different order",
        req("I lost my phone with my authenticator app. How do I get back into my account?",
            SUPPORT),
        "Sign in with one of the 10 recovery codes you saved when you turned on two-factor "
        "authentication; each code works once. After signing in, go to Settings → Security to set "
        "up 2FA on your new phone. If you don't have your recovery codes, contact support from "
        "your account email and we'll verify your identity.",
        "Use one of the 10 recovery codes you saved when you enabled two-factor authentication "
        "(each works only once) to sign in. Then open Settings → Security and set up 2FA on your "
        "new phone. If you've lost the recovery codes as well, contact support from your account "
        "email so we can verify your identity."))
    out.append(n(
        "python-venv", "same commands, more explanation",
        req("How do I create a Python virtual environment?", CODER),
        "```bash\npython3 -m venv .venv\nsource .venv/bin/activate\n```\n\nOn Windows, activate it "
        "with `.venv\\Scripts\\activate`. Run `deactivate` to leave it.",
        "```bash\npython3 -m venv .venv\nsource .venv/bin/activate\n```\n\nThe first command "
        "creates the environment in `.venv`; the second activates it (on Windows use "
        "`.venv\\Scripts\\activate`). Type `deactivate` when you're done.",
        control="```bash\npython3 -m venv .venv\nsource .venv/bin/activate   # Windows: "
                ".venv\\Scripts\\activate\n```\n\nLeave the environment with `deactivate`."))
    out.append(n(
        "weather-answer", "answer after a tool result, wording varies",
        req([{"role": "user", "content": "What's the weather in Lisbon?"},
             {"role": "assistant", "content": None, "tool_calls": [
                 {"id": "call_1", "type": "function",
                  "function": {"name": "get_weather", "arguments": "{\"city\":\"Lisbon\"}"}}]},
             {"role": "tool", "tool_call_id": "call_1",
              "content": "{\"temp_c\": 21, \"condition\": \"partly cloudy\", \"wind_kmh\": 14}"}],
            ASSISTANT),
        "It's currently 21 °C and partly cloudy in Lisbon, with a light wind of 14 km/h.",
        "Lisbon is partly cloudy right now at 21 °C, with wind around 14 km/h.",
        control="Right now in Lisbon it's 21 °C and partly cloudy; the wind is 14 km/h."))
    out.append(n(
        "order-status", "answer after a tool result, extra courtesy",
        req([{"role": "user", "content": "Where is my order A-10023?"},
             {"role": "assistant", "content": None, "tool_calls": [
                 {"id": "call_7", "type": "function",
                  "function": {"name": "lookup_order", "arguments": "{\"order_id\":\"A-10023\"}"}}]},
             {"role": "tool", "tool_call_id": "call_7",
              "content": "{\"status\": \"in_transit\", \"carrier\": \"UPS\", \"eta\": \"2024-05-16\"}"}],
            SUPPORT),
        "Your order A-10023 is on its way with UPS and should arrive on 16 May 2024.",
        "Good news — order A-10023 is in transit with UPS. The expected delivery date is 16 May "
        "2024."))
    out.append(n(
        "recipe", "same quantities, different phrasing",
        req("How do I make a simple vinaigrette?", ASSISTANT),
        "Whisk 3 tablespoons of olive oil with 1 tablespoon of vinegar, 1 teaspoon of Dijon "
        "mustard, and a pinch of salt and pepper. Taste and adjust; it keeps for a week in the "
        "fridge.",
        "Whisk together 3 tablespoons olive oil, 1 tablespoon vinegar, 1 teaspoon Dijon mustard "
        "and a pinch each of salt and pepper. Adjust to taste — it keeps in the fridge for about "
        "a week."))
    out.append(n(
        "definition", "same definition, different example",
        req("What is idempotency in APIs?", CODER),
        "An operation is idempotent if doing it several times has the same effect as doing it "
        "once. In HTTP, GET, PUT and DELETE are idempotent, while POST usually isn't — which is "
        "why payment APIs accept an idempotency key so a retried POST doesn't charge twice.",
        "Idempotency means repeating an operation has the same effect as performing it once. GET, "
        "PUT and DELETE are idempotent in HTTP; POST generally isn't, so APIs such as payment "
        "providers let you send an idempotency key to make retries safe.",
        control="An idempotent operation can be repeated without changing the result beyond the "
                "first call. GET, PUT and DELETE are idempotent; POST typically is not, which is "
                "why payment APIs support idempotency keys for safe retries."))
    out.append(n(
        "steps-same", "numbered steps, minor verb changes",
        req("How do I invite a guest to a project?", SUPPORT),
        "1. Open the project and click \"Share\".\n2. Enter the guest's email address.\n3. Choose "
        "\"Guest\" as the role.\n4. Click \"Send invite\".\n\nGuests can only see the projects they "
        "are invited to.",
        "1. Open the project and click \"Share\".\n2. Type the guest's email address.\n3. Select "
        "the \"Guest\" role.\n4. Click \"Send invite\".\n\nGuests only see the projects they've "
        "been invited to.",
        control="1. In the project, click \"Share\".\n2. Enter the email address of your guest.\n3. "
                "Pick \"Guest\" as the role.\n4. Hit \"Send invite\".\n\nA guest can only see "
                "projects they were invited to."))
    out.append(n(
        "steps-bullets", "numbered list sampled as bullets",
        req("How do I connect the Slack integration?", SUPPORT),
        "1. Go to Settings → Integrations → Slack.\n2. Click \"Connect\" and sign in to your Slack "
        "workspace.\n3. Pick the channel for notifications.\n4. Choose which events to post "
        "(task created, completed, commented).",
        "- Go to Settings → Integrations → Slack.\n- Click \"Connect\" and sign in to your Slack "
        "workspace.\n- Pick the channel where notifications should go.\n- Choose the events to "
        "post: task created, completed or commented."))
    out.append(n(
        "yes-answer", "short vs slightly longer yes",
        req("Does Lumen have a mobile app?", SUPPORT),
        "Yes — Lumen has free apps for iOS and Android. Search for \"Lumen Projects\" in the App "
        "Store or Google Play.",
        "Yes! There are free Lumen apps for both iOS and Android; look for \"Lumen Projects\" in "
        "the App Store or on Google Play. You sign in with the same account as on the web."))
    return out
