"""A second batch written after the differ's heuristics were settled, to check that they generalise
(ids start with `ho-`). Same labelling rules as the other files."""

from generate import PROD_MODEL, ans, calls, case, req
from cases_common import (ANALYST, ASSISTANT, BANK, CALENDAR, CODER, CONVERT, FLIGHTS, GEMINI,
                          HAIKU, HR, LLAMA, MISTRAL, QWEN, STOCK, SUMMARIZER, SUPPORT, TABLE,
                          THERMOSTAT, TICKET, TRANSLATOR, TUTOR, WEATHER)

INSURER = "You are the claims assistant of Harbor Insurance. Answer from the policy documents."
TELCO = "You are the support assistant of Brightline Mobile."
PHARMA = "You are a pharmacy assistant. Give general information and recommend a pharmacist."


def text(category, id, note, request, production, candidate, expected="pass", model=LLAMA,
         control=None, noise=False):
    if noise:
        request = dict(request, temperature=0.7)
        model = PROD_MODEL
    return case(f"ho-{category.replace('_', '-')}-{id}", category, note, request, ans(production),
                ans(candidate, model=model), expected,
                control=None if control is None else ans(control, model=PROD_MODEL))


def paraphrases():
    c = "paraphrase"
    return [
        text(c, "roaming", "roaming prices reworded, '€' before vs after",
             req("How much does roaming cost in the EU?", TELCO),
             "Roaming in the EU is included in all plans at no extra cost: you use your normal "
             "minutes, texts and data. A fair-use limit of 20 GB of data per month applies; above "
             "that, data costs €2 per GB.",
             "There's no extra charge for using your plan anywhere in the EU — calls, texts and "
             "data come out of your usual allowance. Under the fair-use policy you get up to 20 GB "
             "of data a month while roaming, and anything beyond that is billed at 2 € per GB.",
             model=MISTRAL),
        text(c, "claim-deadline", "claim deadline, '60 days' vs 'sixty days' and a reordered clause",
             req("How long do I have to file a claim after water damage?", INSURER),
             "You must report water damage within 60 days of discovering it. Take photos before "
             "cleaning up and keep receipts for any emergency repairs, since they are reimbursed "
             "up to $2,500.",
             "Emergency repairs are reimbursed up to $2,500, so keep the receipts, and photograph "
             "the damage before you clean anything. The claim itself has to be reported within "
             "sixty days of when you discover the damage.", model=HAIKU),
        text(c, "sick-leave", "sick-leave policy, bullets vs prose",
             req("Do I need a doctor's note when I'm sick?", HR),
             "You can take up to 3 consecutive sick days without a doctor's note. From the 4th day "
             "on, send a note to HR. Report every sick day in Workday before 10:00 that morning.",
             "- Up to 3 sick days in a row: no note needed\n- From day 4: send HR a doctor's note\n- "
             "Always log the sick day in Workday by 10:00 the same morning", model=GEMINI),
        text(c, "python-sort", "same code, different explanation",
             req("How do I sort a list of dicts by the 'age' key in Python?", CODER),
             "Use `sorted` with a key function:\n\n```python\npeople_sorted = sorted(people, "
             "key=lambda p: p[\"age\"])\n```\n\nAdd `reverse=True` to sort from oldest to youngest, "
             "or use `operator.itemgetter(\"age\")` instead of the lambda.",
             "```python\nfrom operator import itemgetter\n\npeople_sorted = sorted(people, "
             "key=itemgetter(\"age\"))\n```\n\n`sorted` returns a new list ordered by each dict's "
             "`age`; pass `reverse=True` for descending order. A `lambda p: p[\"age\"]` key works "
             "just as well.", model=QWEN),
        text(c, "sql-dedupe", "same DELETE with a different comment layout",
             req("Delete duplicate emails from users(id, email), keeping the lowest id.", ANALYST),
             "```sql\nDELETE FROM users u\nUSING users d\nWHERE u.email = d.email\n  AND u.id > "
             "d.id;\n```\n\nEach row is deleted if another row with the same email has a smaller "
             "id, so only the lowest id per email survives.",
             "```sql\n-- keep the row with the smallest id for each email\nDELETE FROM users AS u\n"
             "USING users AS d\nWHERE u.email = d.email\n  AND u.id > d.id;\n```", model=MISTRAL),
        text(c, "summary-launch", "product launch summary in other words",
             req("Summarize: Fabrikam will launch its X2 e-bike on 1 April at €2,199. The battery "
                 "lasts 90 km and charges in 4 hours. Pre-orders open on 15 March with a €100 "
                 "deposit.", SUMMARIZER),
             "Fabrikam's X2 e-bike launches on 1 April for €2,199, with a 90 km battery that "
             "charges in 4 hours. Pre-orders start 15 March with a €100 deposit.",
             "The X2 e-bike from Fabrikam goes on sale on 1 April, priced at €2,199. Range is 90 km "
             "per charge and a full charge takes 4 hours. You can pre-order from 15 March by "
             "paying a €100 deposit.", model=HAIKU),
        text(c, "translate-it", "two valid Italian translations",
             req("Translate to Italian: Your appointment is confirmed for Monday at 9:30. Please "
                 "arrive ten minutes early.", TRANSLATOR),
             "Il tuo appuntamento è confermato per lunedì alle 9:30. Ti preghiamo di arrivare "
             "dieci minuti prima.",
             "L'appuntamento è confermato per lunedì alle 9:30. Per favore, arriva con dieci "
             "minuti di anticipo.", model=MISTRAL),
        text(c, "math-percent", "percentage increase computed two ways",
             req("Sales went from 400 to 520 units. What's the percentage increase?", TUTOR),
             "The increase is 520 − 400 = 120 units. 120 ÷ 400 = 0.3, so sales rose by 30%.",
             "Divide the new value by the old: 520 / 400 = 1.3, which is a 30% increase.",
             model=GEMINI),
        text(c, "pharmacy-storage", "insulin storage, reworded with the same temperatures",
             req("How should I store insulin?", PHARMA),
             "Keep unopened insulin in the fridge at 2–8 °C and never let it freeze. Once opened, a "
             "pen or vial can stay at room temperature (below 30 °C) for up to 28 days. Keep it "
             "away from direct sunlight and ask your pharmacist about your specific product.",
             "Unopened insulin belongs in the refrigerator, between 2 and 8 °C — don't freeze it. "
             "After you start using a pen or vial it can be kept at room temperature, under 30 °C, "
             "for a maximum of 28 days, out of direct sunlight. Your pharmacist can confirm the "
             "details for your brand.", model=HAIKU),
        text(c, "telco-esim", "eSIM steps as prose",
             req("How do I activate my eSIM?", TELCO),
             "1. Open the Brightline app and go to SIM → Add eSIM.\n2. Scan the QR code from your "
             "welcome email.\n3. Choose Brightline as your line for mobile data.\n4. Restart your "
             "phone.",
             "In the Brightline app, open SIM and tap Add eSIM, then scan the QR code that came in "
             "your welcome email. Pick Brightline as the line used for mobile data and restart the "
             "phone to finish.", model=QWEN),
        text(c, "bank-limit", "daily limits reworded",
             req("What are my daily card limits?", BANK),
             "Your debit card has a daily ATM withdrawal limit of $1,000 and a daily purchase limit "
             "of $5,000. You can lower either limit in the app; raising them requires a call to "
             "customer service.",
             "Daily limits on your debit card: $1000 in ATM withdrawals and $5000 in purchases. "
             "Both can be reduced from the app, but to increase them you'll need to phone customer "
             "service.", model=LLAMA),
        text(c, "explain-cors", "CORS explained differently",
             req("Why do I get a CORS error when my frontend calls my API?", CODER),
             "The browser blocks the response because your API didn't send an "
             "`Access-Control-Allow-Origin` header that matches your frontend's origin. Configure "
             "the API to return that header (and answer the preflight OPTIONS request); CORS is "
             "enforced by the browser, so curl and server-to-server calls aren't affected.",
             "CORS errors come from the browser: it refuses to hand the response to your frontend "
             "code unless the API replies with an `Access-Control-Allow-Origin` header allowing "
             "your origin. Add that header on the API side and handle the OPTIONS preflight. Tools "
             "like curl don't enforce CORS, which is why the same request works there.",
             model=MISTRAL),
    ]


def noise():
    c = "noise"
    return [
        text(c, "roaming", "same facts, sentence order changed",
             req("How much does roaming cost in the EU?", TELCO),
             "Roaming in the EU is included in all plans at no extra cost: you use your normal "
             "minutes, texts and data. A fair-use limit of 20 GB of data per month applies; above "
             "that, data costs €2 per GB.",
             "EU roaming is included in every plan at no extra cost, so you use your normal "
             "minutes, texts and data. Above the fair-use limit of 20 GB of data per month, data "
             "costs €2 per GB.", "pass", noise=True),
        text(c, "claim", "slightly reworded",
             req("How long do I have to file a claim after water damage?", INSURER),
             "You must report water damage within 60 days of discovering it. Take photos before "
             "cleaning up and keep receipts for any emergency repairs, since they are reimbursed "
             "up to $2,500.",
             "Water damage must be reported within 60 days of discovering it. Photograph the "
             "damage before cleaning up and keep the receipts for emergency repairs, which are "
             "reimbursed up to $2,500.", "pass", noise=True,
             control="Report water damage within 60 days of discovering it. Take photos before you "
                     "clean up, and keep receipts for emergency repairs — they're reimbursed up to "
                     "$2,500."),
        text(c, "sick-leave", "one detail phrased differently",
             req("Do I need a doctor's note when I'm sick?", HR),
             "You can take up to 3 consecutive sick days without a doctor's note. From the 4th day "
             "on, send a note to HR. Report every sick day in Workday before 10:00 that morning.",
             "Up to 3 consecutive sick days don't require a doctor's note. From the 4th day, send "
             "a note to HR. Remember to report each sick day in Workday before 10:00 that "
             "morning.", "pass", noise=True),
        text(c, "cors", "same explanation, shorter",
             req("Why do I get a CORS error when my frontend calls my API?", CODER),
             "The browser blocks the response because your API didn't send an "
             "`Access-Control-Allow-Origin` header that matches your frontend's origin. Configure "
             "the API to return that header (and answer the preflight OPTIONS request); CORS is "
             "enforced by the browser, so curl and server-to-server calls aren't affected.",
             "Your API isn't returning an `Access-Control-Allow-Origin` header matching the "
             "frontend's origin, so the browser blocks the response. Return that header from the "
             "API and answer the OPTIONS preflight. CORS is a browser rule, so curl and "
             "server-to-server calls aren't affected.", "pass", noise=True),
        text(c, "esim", "steps with light rewording",
             req("How do I activate my eSIM?", TELCO),
             "1. Open the Brightline app and go to SIM → Add eSIM.\n2. Scan the QR code from your "
             "welcome email.\n3. Choose Brightline as your line for mobile data.\n4. Restart your "
             "phone.",
             "1. In the Brightline app, go to SIM → Add eSIM.\n2. Scan the QR code in your welcome "
             "email.\n3. Select Brightline as the line for mobile data.\n4. Restart the phone.",
             "pass", noise=True,
             control="1. Open the Brightline app, then SIM → Add eSIM.\n2. Scan the QR code from "
                     "the welcome email.\n3. Set Brightline as your mobile data line.\n4. Restart "
                     "your phone."),
        text(c, "launch", "same summary, different order",
             req("Summarize: Fabrikam will launch its X2 e-bike on 1 April at €2,199. The battery "
                 "lasts 90 km and charges in 4 hours. Pre-orders open on 15 March with a €100 "
                 "deposit.", SUMMARIZER),
             "Fabrikam's X2 e-bike launches on 1 April for €2,199, with a 90 km battery that "
             "charges in 4 hours. Pre-orders start 15 March with a €100 deposit.",
             "Pre-orders for Fabrikam's X2 e-bike open on 15 March (€100 deposit) ahead of the 1 "
             "April launch at €2,199. Its battery offers 90 km of range and charges in 4 hours.",
             "pass", noise=True),
        text(c, "percent", "same working, extra sentence",
             req("Sales went from 400 to 520 units. What's the percentage increase?", TUTOR),
             "The increase is 520 − 400 = 120 units. 120 ÷ 400 = 0.3, so sales rose by 30%.",
             "Sales increased by 520 − 400 = 120 units. Dividing by the original 400 gives 0.3, "
             "i.e. a 30% increase. That's the percentage growth.", "pass", noise=True),
        text(c, "insulin", "one clause merged",
             req("How should I store insulin?", PHARMA),
             "Keep unopened insulin in the fridge at 2–8 °C and never let it freeze. Once opened, a "
             "pen or vial can stay at room temperature (below 30 °C) for up to 28 days. Keep it "
             "away from direct sunlight and ask your pharmacist about your specific product.",
             "Store unopened insulin in the fridge at 2–8 °C and never let it freeze. An opened pen "
             "or vial can be kept at room temperature (below 30 °C) for up to 28 days, away from "
             "direct sunlight. Ask your pharmacist about your specific product.", "pass",
             noise=True),
        text(c, "limits", "bank limits, casual tone",
             req("What are my daily card limits?", BANK),
             "Your debit card has a daily ATM withdrawal limit of $1,000 and a daily purchase limit "
             "of $5,000. You can lower either limit in the app; raising them requires a call to "
             "customer service.",
             "Your debit card allows $1,000 in ATM withdrawals and $5,000 in purchases per day. "
             "You can lower either limit yourself in the app, but to raise them you'll need to "
             "call customer service.", "pass", noise=True),
        text(c, "dedupe", "same query, alias spelled out",
             req("Delete duplicate emails from users(id, email), keeping the lowest id.", ANALYST),
             "```sql\nDELETE FROM users u\nUSING users d\nWHERE u.email = d.email\n  AND u.id > "
             "d.id;\n```\n\nEach row is deleted if another row with the same email has a smaller "
             "id, so only the lowest id per email survives.",
             "```sql\nDELETE FROM users a\nUSING users b\nWHERE a.email = b.email\n  AND a.id > "
             "b.id;\n```\n\nA row is removed whenever another row with the same email has a lower "
             "id, leaving only the lowest id for each email.", "pass", noise=True),
    ]


def regressions():
    out = []
    c = "wrong_number"
    out += [
        text(c, "roaming-cap", "fair-use cap 20 GB → 12 GB",
             req("How much does roaming cost in the EU?", TELCO),
             "Roaming in the EU is included in all plans at no extra cost: you use your normal "
             "minutes, texts and data. A fair-use limit of 20 GB of data per month applies; above "
             "that, data costs €2 per GB.",
             "There's no extra charge for using your plan anywhere in the EU — calls, texts and "
             "data come out of your usual allowance. Under the fair-use policy you get up to 12 GB "
             "of data a month while roaming, and anything beyond that is billed at €2 per GB.",
             "flag", model=MISTRAL),
        text(c, "claim-days", "claim deadline 60 → 30 days",
             req("How long do I have to file a claim after water damage?", INSURER),
             "You must report water damage within 60 days of discovering it. Take photos before "
             "cleaning up and keep receipts for any emergency repairs, since they are reimbursed "
             "up to $2,500.",
             "Emergency repairs are reimbursed up to $2,500, so keep the receipts, and photograph "
             "the damage before you clean anything. The claim itself has to be reported within 30 "
             "days of when you discover the damage.", "flag", model=HAIKU),
        text(c, "launch-price", "price €2,199 → €1,299",
             req("Summarize: Fabrikam will launch its X2 e-bike on 1 April at €2,199. The battery "
                 "lasts 90 km and charges in 4 hours. Pre-orders open on 15 March with a €100 "
                 "deposit.", SUMMARIZER),
             "Fabrikam's X2 e-bike launches on 1 April for €2,199, with a 90 km battery that "
             "charges in 4 hours. Pre-orders start 15 March with a €100 deposit.",
             "The X2 e-bike from Fabrikam goes on sale on 1 April, priced at €1,299. Range is 90 km "
             "per charge and a full charge takes 4 hours. You can pre-order from 15 March by "
             "paying a €100 deposit.", "flag", model=HAIKU),
        text(c, "insulin-days", "opened insulin 28 → 42 days",
             req("How should I store insulin?", PHARMA),
             "Keep unopened insulin in the fridge at 2–8 °C and never let it freeze. Once opened, a "
             "pen or vial can stay at room temperature (below 30 °C) for up to 28 days. Keep it "
             "away from direct sunlight and ask your pharmacist about your specific product.",
             "Unopened insulin belongs in the refrigerator, between 2 and 8 °C — don't freeze it. "
             "After you start using a pen or vial it can be kept at room temperature, under 30 °C, "
             "for a maximum of 42 days, out of direct sunlight. Your pharmacist can confirm the "
             "details for your brand.", "flag", model=HAIKU),
        text(c, "percent-math", "percentage increase computed as 23%",
             req("Sales went from 400 to 520 units. What's the percentage increase?", TUTOR),
             "The increase is 520 − 400 = 120 units. 120 ÷ 400 = 0.3, so sales rose by 30%.",
             "The increase is 120 units, and 120 ÷ 520 ≈ 0.23, so sales rose by about 23%.",
             "flag", model=GEMINI),
    ]
    c = "negation"
    out += [
        text(c, "roaming-extra", "'no extra cost' → 'an extra daily fee'",
             req("Is roaming in the EU included in my plan?", TELCO),
             "Yes. EU roaming is included in all plans at no extra cost; you use your normal "
             "allowance.",
             "No. EU roaming is not included in the plans; it costs an extra daily fee on top of "
             "your normal allowance.", "flag", model=QWEN),
        text(c, "insulin-freeze", "'never let it freeze' → 'it can be frozen'",
             req("Can I keep insulin in the freezer?", PHARMA),
             "No — never freeze insulin. Frozen insulin loses its effect and must be thrown away, "
             "even after it thaws. Keep unopened insulin in the fridge at 2–8 °C.",
             "Yes, insulin can be frozen to make it last longer; once it thaws it works as usual. "
             "Keep unopened insulin in the fridge at 2–8 °C.", "flag", model=LLAMA),
        text(c, "cors-curl", "'curl isn't affected' → 'curl is affected'",
             req("Will CORS also block my curl requests?", CODER),
             "No. CORS is enforced by browsers only, so curl and server-to-server requests are not "
             "affected.",
             "Yes. CORS applies to every HTTP client, so curl and server-to-server requests are "
             "affected too.", "flag", model=MISTRAL),
        text(c, "claim-cleanup", "'don't throw away damaged items' → 'throw them away'",
             req("Should I throw away damaged furniture before the adjuster visits?", INSURER),
             "Don't throw away damaged items before the adjuster has seen them. Move them somewhere "
             "dry and take photos; disposing of them early can reduce what we can reimburse.",
             "You can throw away damaged items before the adjuster has seen them, as long as you "
             "take photos first; disposing of them early does not affect what we reimburse.",
             "flag", model=GEMINI),
        text(c, "sick-note", "'without a doctor's note' → 'always need a note'",
             req("Do I need a doctor's note for a single sick day?", HR),
             "No. You can take up to 3 consecutive sick days without a doctor's note; just report "
             "them in Workday before 10:00.",
             "Yes. You always need a doctor's note for a sick day; report it in Workday before "
             "10:00 as well.", "flag", model=HAIKU),
    ]
    c = "dropped_step"
    out += [
        text(c, "esim-qr", "eSIM activation without scanning the QR code",
             req("How do I activate my eSIM?", TELCO),
             "1. Open the Brightline app and go to SIM → Add eSIM.\n2. Scan the QR code from your "
             "welcome email.\n3. Choose Brightline as your line for mobile data.\n4. Restart your "
             "phone.",
             "1. In the Brightline app, open SIM and tap Add eSIM.\n2. Pick Brightline as the line "
             "used for mobile data.\n3. Restart the phone.", "flag", model=QWEN),
        text(c, "claim-photos", "claim procedure without the photos",
             req("What do I do after a burst pipe?", INSURER),
             "1. Shut off the water at the main valve.\n2. Photograph all the damage before "
             "cleaning up.\n3. Arrange emergency repairs and keep the receipts.\n4. File the claim "
             "in the Harbor app within 60 days.\n5. Keep damaged items until the adjuster has seen "
             "them.",
             "1. Turn off the main water valve.\n2. Get emergency repairs done and hold on to the "
             "receipts.\n3. Submit your claim in the Harbor app within 60 days.\n4. Don't dispose "
             "of damaged items until the adjuster has inspected them.", "flag", model=MISTRAL),
        text(c, "offboarding", "offboarding checklist without revoking access",
             req("What's the checklist when an employee leaves?", HR),
             "1. Set the last working day in Workday.\n2. Revoke SSO access at 17:00 on the last "
             "day.\n3. Collect the laptop and badge.\n4. Transfer ownership of their documents to "
             "the manager.\n5. Send the exit survey.",
             "1. Enter the final working day in Workday.\n2. Get the laptop and badge back.\n3. "
             "Hand over their documents to the manager.\n4. Send them the exit survey.", "flag",
             model=GEMINI),
        text(c, "insulin-injection", "injection steps without priming the pen",
             req("How do I use an insulin pen?", PHARMA),
             "1. Wash your hands and attach a new needle.\n2. Prime the pen with 2 units to remove "
             "air bubbles.\n3. Dial your dose.\n4. Inject into the fatty tissue of your belly or "
             "thigh and hold for 10 seconds.\n5. Remove and dispose of the needle safely.",
             "1. Wash your hands and put on a new needle.\n2. Dial the dose you need.\n3. Inject "
             "into the fatty tissue of your belly or thigh and hold for 10 seconds.\n4. Remove the "
             "needle and dispose of it safely.", "flag", model=HAIKU),
        text(c, "release", "release checklist without tagging",
             req("How do we cut a release?", "You answer from the engineering handbook."),
             "1. Merge the release branch into main.\n2. Update CHANGELOG.md.\n3. Tag the commit "
             "with the version, e.g. `git tag v2.4.0`.\n4. Push the tag to trigger the release "
             "pipeline.\n5. Announce the release in #releases.",
             "1. Merge the release branch into main.\n2. Update CHANGELOG.md.\n3. Push to trigger "
             "the release pipeline.\n4. Announce it in #releases.", "flag", model=LLAMA),
    ]
    return out


def tools():
    out = []
    c = "wrong_tool_argument"
    out += [
        case("ho-wrong-tool-argument-stock", c, "ticker AAPL → APPL",
             req("What's Apple trading at?", ASSISTANT, tools=[STOCK]),
             calls(("get_stock_price", {"symbol": "AAPL"})),
             calls(("get_stock_price", {"symbol": "APPL"}), model=LLAMA), "flag"),
        case("ho-wrong-tool-argument-convert", c, "converts the wrong direction",
             req("How much is 250 US dollars in euros?", ASSISTANT, tools=[CONVERT]),
             calls(("convert_currency", {"amount": 250, "from": "USD", "to": "EUR"})),
             calls(("convert_currency", {"amount": 250, "from": "EUR", "to": "USD"}),
                   model=MISTRAL), "flag"),
        case("ho-wrong-tool-argument-party", c, "party of 6 booked for 4",
             req("Book Luigi's for six people on 2024-06-15 at 19:30.", ASSISTANT, tools=[TABLE]),
             calls(("book_table", {"restaurant": "Luigi's", "date": "2024-06-15", "time": "19:30",
                                   "party_size": 6})),
             calls(("book_table", {"restaurant": "Luigi's", "date": "2024-06-15", "time": "19:30",
                                   "party_size": 4}), model=GEMINI), "flag"),
        case("ho-wrong-tool-argument-mode", c, "heating requested, cooling sent",
             req("It's freezing in the bedroom, heat it to 20.", "You control the user's smart "
                 "home through the tools.", tools=[THERMOSTAT]),
             calls(("set_thermostat", {"room": "bedroom", "temperature": 20, "mode": "heat"})),
             calls(("set_thermostat", {"room": "bedroom", "temperature": 20, "mode": "cool"}),
                   model=QWEN), "flag"),
        case("ho-wrong-tool-argument-duration", c, "1 hour meeting booked as 30 minutes",
             req("Book a one-hour 'Budget review' on 2024-06-12 at 14:00 Berlin time.", ASSISTANT,
                 tools=[CALENDAR]),
             calls(("create_event", {"title": "Budget review", "start": "2024-06-12T14:00:00",
                                     "duration_minutes": 60, "timezone": "Europe/Berlin"})),
             calls(("create_event", {"title": "Budget review", "start": "2024-06-12T14:00:00",
                                     "duration_minutes": 30, "timezone": "Europe/Berlin"}),
                   model=HAIKU), "flag"),
    ]
    c = "paraphrase"
    out += [
        case("ho-paraphrase-tool-title", c, "event title worded differently",
             req("Put a 45 minute call with the Contoso team on 2024-06-13 at 10:00 New York time "
                 "in my calendar.", ASSISTANT, tools=[CALENDAR]),
             calls(("create_event", {"title": "Call with the Contoso team",
                                     "start": "2024-06-13T10:00:00", "duration_minutes": 45,
                                     "timezone": "America/New_York"})),
             calls(("create_event", {"title": "Contoso team call",
                                     "start": "2024-06-13T10:00:00", "duration_minutes": 45,
                                     "timezone": "America/New_York"}), model=MISTRAL), "pass"),
        case("ho-paraphrase-tool-ticket", c, "same ticket, description reworded",
             req("File a medium-priority bug: CSV export drops the 'due date' column for tasks "
                 "without an assignee.", "You are the Lumen support agent.", tools=[TICKET]),
             calls(("create_ticket", {"title": "CSV export drops due date for unassigned tasks",
                                      "priority": "medium", "component": "web",
                                      "description": "When a task has no assignee, the CSV export "
                                                     "leaves its due date column empty."})),
             calls(("create_ticket", {"title": "Due date missing in CSV export (unassigned tasks)",
                                      "priority": "medium", "component": "web",
                                      "description": "The CSV export omits the due date column "
                                                     "for tasks that have no assignee."}),
                   model=QWEN), "pass"),
    ]
    return out


def cases():
    return paraphrases() + noise() + regressions() + tools()
