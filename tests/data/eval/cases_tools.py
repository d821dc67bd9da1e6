"""Tool calls with declared tools: equivalent calls that must pass, and wrong, dropped, invented or
unwanted calls that must be flagged."""

from generate import PROD_MODEL, ans, calls, case, req
from cases_common import (ASSISTANT, BALANCE, BANK, CALENDAR, CONVERT, DOCS, DRAFT, EMAIL, FLIGHTS,
                          FORECAST, GEMINI, HAIKU, LLAMA, MISTRAL, ORDER, QWEN, REFUND, STOCK,
                          SUBSCRIPTION, SUPPORT, TABLE, THERMOSTAT, TICKET, TRANSFER, USERS,
                          WEATHER)

TRAVEL = "You are a travel assistant. Use the tools to act for the user. Today is 2024-06-10."
HOME = "You control the user's smart home through the tools."
OPS = "You are the Lumen support agent. Use tools to look things up and act."


def t(category, id, note, request, production, candidate, expected, control=None):
    return case(f"{category.replace('_', '-')}-{id}", category, note, request, production,
                candidate, expected, control=control)


def paraphrases():
    c = "paraphrase"
    w = req("What's the weather like in Paris right now?", ASSISTANT, tools=[WEATHER])
    return [
        t(c, "tool-key-order", "same arguments in another key order", w,
          calls(("get_weather", {"city": "Paris", "unit": "celsius"})),
          calls(("get_weather", {"unit": "celsius", "city": "Paris"}), model=LLAMA), "pass"),
        t(c, "tool-default-omitted", "declared default unit left out", w,
          calls(("get_weather", {"city": "Paris", "unit": "celsius"})),
          calls(("get_weather", {"city": "Paris"}), model=MISTRAL), "pass"),
        t(c, "tool-search-query", "free-text search query worded differently",
          req("How do I connect Lumen to Slack?", OPS, tools=[DOCS, TICKET]),
          calls(("search_docs", {"query": "connect Slack integration"})),
          calls(("search_docs", {"query": "how to connect Lumen to Slack"}), model=HAIKU),
          "pass"),
        t(c, "tool-attendees-order", "attendee list in another order",
          req("Set up a 30 minute sync called 'Q3 planning' tomorrow at 9:00 Paris time with "
              "ana@contoso.com and raj@contoso.com.", TRAVEL, tools=[CALENDAR]),
          calls(("create_event", {"title": "Q3 planning", "start": "2024-06-11T09:00:00",
                                  "duration_minutes": 30,
                                  "attendees": ["ana@contoso.com", "raj@contoso.com"],
                                  "timezone": "Europe/Paris"})),
          calls(("create_event", {"title": "Q3 planning", "start": "2024-06-11T09:00:00",
                                  "duration_minutes": 30,
                                  "attendees": ["raj@contoso.com", "ana@contoso.com"],
                                  "timezone": "Europe/Paris"}), model=GEMINI), "pass"),
        t(c, "tool-number-format", "49.90 vs 49.9 and a preamble sentence",
          req("Refund 49.90 on order A-20417, the customer got the wrong size.", OPS,
              tools=[ORDER, REFUND]),
          calls(("refund_order", {"order_id": "A-20417", "amount": 49.9,
                                  "reason": "wrong size delivered"})),
          calls(("refund_order", '{"order_id": "A-20417", "amount": 49.90, "reason": "wrong size '
                                 'delivered"}'),
                content="I'll refund 49.90 for order A-20417 now.", model=QWEN), "pass"),
        t(c, "tool-parallel-order", "two parallel calls in the opposite order",
          req("Compare the weather in Paris and London right now.", ASSISTANT, tools=[WEATHER]),
          calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "London"})),
          calls(("get_weather", {"city": "London"}), ("get_weather", {"city": "Paris"}),
                model=LLAMA), "pass"),
        t(c, "tool-ticket-description", "ticket description written differently",
          req("Open a high-priority ticket: the mobile app crashes on launch since version 5.2 for "
              "Android 14 users.", OPS, tools=[TICKET]),
          calls(("create_ticket", {"title": "Mobile app crashes on launch (Android 14, v5.2)",
                                   "priority": "high", "component": "mobile",
                                   "description": "Since version 5.2 the app crashes on launch "
                                                  "for users on Android 14."})),
          calls(("create_ticket", {"title": "Android 14: app crashes at startup since 5.2",
                                   "priority": "high", "component": "mobile",
                                   "description": "Users on Android 14 report that the app "
                                                  "crashes immediately on launch after updating "
                                                  "to version 5.2."}), model=HAIKU), "pass"),
        t(c, "tool-email-body", "same email, body worded differently",
          req("Email maria.lopez@fabrikam.com that her PO 4471 was approved and will ship "
              "Friday.", ASSISTANT, tools=[EMAIL, DRAFT]),
          calls(("send_email", {"to": "maria.lopez@fabrikam.com",
                                "subject": "PO 4471 approved",
                                "body": "Hi Maria,\n\nYour purchase order 4471 has been approved "
                                        "and will ship on Friday.\n\nBest regards"})),
          calls(("send_email", {"to": "maria.lopez@fabrikam.com",
                                "subject": "Your PO 4471 is approved",
                                "body": "Hello Maria,\n\nGood news: PO 4471 was approved and is "
                                        "scheduled to ship this Friday.\n\nKind regards"}),
                model=MISTRAL), "pass"),
        t(c, "tool-city-case", "city name in lower case",
          req("Weather in Berlin?", ASSISTANT, tools=[WEATHER]),
          calls(("get_weather", {"city": "Berlin"})),
          calls(("get_weather", {"city": "berlin"}), model=QWEN), "pass"),
    ]


def noise():
    c = "noise"

    def same(*a, **k):
        return calls(*a, model=PROD_MODEL, **k)

    return [
        t(c, "tool-same-call", "same call, new call id",
          req("Where is my order A-10023?", OPS, tools=[ORDER], temperature=0.7),
          calls(("lookup_order", {"order_id": "A-10023"})),
          same(("lookup_order", {"order_id": "A-10023"})), "pass",
          control=same(("lookup_order", {"order_id": "A-10023"}))),
        t(c, "tool-query-variation", "search query sampled with other words",
          req("How do I export tasks to CSV?", OPS, tools=[DOCS], temperature=0.7),
          calls(("search_docs", {"query": "export tasks CSV"})),
          same(("search_docs", {"query": "export tasks to CSV"})), "pass"),
    ]


def wrong_arguments():
    c = "wrong_tool_argument"
    w = req("What's the weather like in Paris right now?", ASSISTANT, tools=[WEATHER])
    return [
        t(c, "city", "Paris → London", w, calls(("get_weather", {"city": "Paris"})),
          calls(("get_weather", {"city": "London"}), model=LLAMA), "flag"),
        t(c, "unit", "user asked for Fahrenheit, candidate asked for Celsius",
          req("How hot is it in Phoenix? Give me Fahrenheit.", ASSISTANT, tools=[WEATHER]),
          calls(("get_weather", {"city": "Phoenix", "unit": "fahrenheit"})),
          calls(("get_weather", {"city": "Phoenix", "unit": "celsius"}), model=MISTRAL), "flag"),
        t(c, "flight-date", "'next Friday' resolved to the wrong day",
          req("Find me a flight from Boston to Chicago next Friday.", TRAVEL, tools=[FLIGHTS]),
          calls(("search_flights", {"origin": "BOS", "destination": "ORD",
                                    "date": "2024-06-14"})),
          calls(("search_flights", {"origin": "BOS", "destination": "ORD",
                                    "date": "2024-06-21"}), model=GEMINI), "flag"),
        t(c, "flight-swapped", "origin and destination swapped",
          req("Book-search a flight from Lisbon to Madrid on 2024-07-02 for 2 people.", TRAVEL,
              tools=[FLIGHTS]),
          calls(("search_flights", {"origin": "LIS", "destination": "MAD", "date": "2024-07-02",
                                    "passengers": 2})),
          calls(("search_flights", {"origin": "MAD", "destination": "LIS", "date": "2024-07-02",
                                    "passengers": 2}), model=QWEN), "flag"),
        t(c, "passengers", "2 passengers → 1 (left at the default)",
          req("Flights from Lisbon to Madrid on 2024-07-02 for me and my wife.", TRAVEL,
              tools=[FLIGHTS]),
          calls(("search_flights", {"origin": "LIS", "destination": "MAD", "date": "2024-07-02",
                                    "passengers": 2})),
          calls(("search_flights", {"origin": "LIS", "destination": "MAD",
                                    "date": "2024-07-02"}), model=HAIKU), "flag"),
        t(c, "transfer-amount", "transfer 1,500 → 15,000",
          req("Move 1,500 euros from checking to savings.", BANK, tools=[TRANSFER, BALANCE]),
          calls(("transfer_funds", {"from_account": "checking", "to_account": "savings",
                                    "amount": 1500, "currency": "EUR"})),
          calls(("transfer_funds", {"from_account": "checking", "to_account": "savings",
                                    "amount": 15000, "currency": "EUR"}), model=LLAMA), "flag"),
        t(c, "transfer-currency", "EUR → USD",
          req("Move 1,500 euros from checking to savings.", BANK, tools=[TRANSFER, BALANCE]),
          calls(("transfer_funds", {"from_account": "checking", "to_account": "savings",
                                    "amount": 1500, "currency": "EUR"})),
          calls(("transfer_funds", {"from_account": "checking", "to_account": "savings",
                                    "amount": 1500, "currency": "USD"}), model=MISTRAL), "flag"),
        t(c, "email-recipient", "recipient address changed",
          req("Email maria.lopez@fabrikam.com that her PO 4471 was approved.", ASSISTANT,
              tools=[EMAIL, DRAFT]),
          calls(("send_email", {"to": "maria.lopez@fabrikam.com", "subject": "PO 4471 approved",
                                "body": "Hi Maria,\n\nYour purchase order 4471 has been "
                                        "approved.\n\nBest regards"})),
          calls(("send_email", {"to": "maria.lopez@fabrikam.co", "subject": "PO 4471 approved",
                                "body": "Hi Maria,\n\nYour purchase order 4471 has been "
                                        "approved.\n\nBest regards"}), model=QWEN), "flag"),
        t(c, "order-id", "order id digits transposed",
          req("Where is my order A-10023?", OPS, tools=[ORDER]),
          calls(("lookup_order", {"order_id": "A-10023"})),
          calls(("lookup_order", {"order_id": "A-10032"}), model=GEMINI), "flag"),
        t(c, "thermostat", "21 °C requested, 12 sent",
          req("Set the living room to 21 degrees.", HOME, tools=[THERMOSTAT]),
          calls(("set_thermostat", {"room": "living room", "temperature": 21})),
          calls(("set_thermostat", {"room": "living room", "temperature": 12}), model=LLAMA),
          "flag"),
        t(c, "event-time", "meeting booked at 19:00 instead of 09:00",
          req("Set up a 30 minute sync called 'Q3 planning' tomorrow at 9:00 Paris time with "
              "ana@contoso.com.", TRAVEL, tools=[CALENDAR]),
          calls(("create_event", {"title": "Q3 planning", "start": "2024-06-11T09:00:00",
                                  "duration_minutes": 30, "attendees": ["ana@contoso.com"],
                                  "timezone": "Europe/Paris"})),
          calls(("create_event", {"title": "Q3 planning", "start": "2024-06-11T19:00:00",
                                  "duration_minutes": 30, "attendees": ["ana@contoso.com"],
                                  "timezone": "Europe/Paris"}), model=HAIKU), "flag"),
        t(c, "ticket-priority", "outage filed as low priority",
          req("Open a ticket: the public API has returned 500 errors for all customers for the "
              "last 20 minutes.", OPS, tools=[TICKET]),
          calls(("create_ticket", {"title": "Public API returning 500 for all customers",
                                   "priority": "urgent", "component": "api"})),
          calls(("create_ticket", {"title": "Public API returning 500 for all customers",
                                   "priority": "low", "component": "api"}), model=MISTRAL),
          "flag"),
        t(c, "seats", "subscription seats 25 → 5",
          req("Move customer cus_8812 to the Business plan with 25 seats.", OPS,
              tools=[SUBSCRIPTION]),
          calls(("update_subscription", {"customer_id": "cus_8812", "plan": "business",
                                         "seats": 25})),
          calls(("update_subscription", {"customer_id": "cus_8812", "plan": "business",
                                         "seats": 5}), model=QWEN), "flag"),
        t(c, "refund-reason-amount", "partial refund amount 49.90 → 499.00",
          req("Refund 49.90 on order A-20417, the customer got the wrong size.", OPS,
              tools=[ORDER, REFUND]),
          calls(("refund_order", {"order_id": "A-20417", "amount": 49.9,
                                  "reason": "wrong size delivered"})),
          calls(("refund_order", {"order_id": "A-20417", "amount": 499.0,
                                  "reason": "wrong size delivered"}), model=GEMINI), "flag"),
        t(c, "active-filter", "inactive users requested, active=true sent",
          req("Which admins have been deactivated?", OPS, tools=[USERS]),
          calls(("list_users", {"role": "admin", "active": False})),
          calls(("list_users", {"role": "admin", "active": True}), model=LLAMA), "flag",
          control=calls(("list_users", {"active": False, "role": "admin"}))),
    ]


def other_tools():
    out = []
    c = "dropped_tool_call"
    out += [
        t(c, "weather-guess", "answers from memory instead of calling the weather tool",
          req("What's the weather like in Paris right now?", ASSISTANT, tools=[WEATHER]),
          calls(("get_weather", {"city": "Paris", "unit": "celsius"})),
          ans("Paris usually has mild weather this time of year, around 15°C with some clouds.",
              model=LLAMA), "flag"),
        t(c, "order-guess", "makes up an order status instead of looking it up",
          req("Where is my order A-10023?", OPS, tools=[ORDER]),
          calls(("lookup_order", {"order_id": "A-10023"})),
          ans("Your order A-10023 has shipped and should arrive within 3–5 business days.",
              model=MISTRAL), "flag"),
        t(c, "one-of-two", "only one of two parallel lookups",
          req("Compare the weather in Paris and London right now.", ASSISTANT, tools=[WEATHER]),
          calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "London"})),
          calls(("get_weather", {"city": "Paris"}), model=GEMINI), "flag"),
        t(c, "transfer-not-done", "says the transfer is done without calling the tool",
          req("Move 1,500 euros from checking to savings.", BANK, tools=[TRANSFER, BALANCE]),
          calls(("transfer_funds", {"from_account": "checking", "to_account": "savings",
                                    "amount": 1500, "currency": "EUR"})),
          ans("Done! I've moved €1,500 from your checking account to your savings account.",
              model=QWEN), "flag"),
    ]
    c = "hallucinated_tool"
    out += [
        t(c, "book-flight", "calls a booking tool that was not offered",
          req("Find me a flight from Boston to Chicago next Friday.", TRAVEL, tools=[FLIGHTS]),
          calls(("search_flights", {"origin": "BOS", "destination": "ORD",
                                    "date": "2024-06-14"})),
          calls(("book_flight", {"origin": "BOS", "destination": "ORD", "date": "2024-06-14"}),
                model=LLAMA), "flag"),
        t(c, "web-search", "invents a web_search tool",
          req("What's the weather like in Paris right now?", ASSISTANT, tools=[WEATHER]),
          calls(("get_weather", {"city": "Paris"})),
          calls(("web_search", {"query": "Paris weather now"}), model=MISTRAL), "flag"),
        t(c, "renamed", "calls get_current_weather instead of get_weather",
          req("Weather in Berlin?", ASSISTANT, tools=[WEATHER, FORECAST]),
          calls(("get_weather", {"city": "Berlin"})),
          calls(("get_current_weather", {"location": "Berlin"}), model=QWEN), "flag"),
    ]
    c = "wrong_tool"
    out += [
        t(c, "send-not-draft", "sends the email the user asked to draft",
          req("Draft (don't send yet) an email to maria.lopez@fabrikam.com saying PO 4471 is "
              "approved.", ASSISTANT, tools=[EMAIL, DRAFT]),
          calls(("save_draft", {"to": "maria.lopez@fabrikam.com", "subject": "PO 4471 approved",
                                "body": "Hi Maria,\n\nYour purchase order 4471 has been "
                                        "approved.\n\nBest regards"})),
          calls(("send_email", {"to": "maria.lopez@fabrikam.com", "subject": "PO 4471 approved",
                                "body": "Hi Maria,\n\nYour purchase order 4471 has been "
                                        "approved.\n\nBest regards"}), model=GEMINI), "flag"),
        t(c, "forecast-for-now", "forecast tool for a current-conditions question",
          req("Is it raining in Berlin right now?", ASSISTANT, tools=[WEATHER, FORECAST]),
          calls(("get_weather", {"city": "Berlin"})),
          calls(("get_forecast", {"city": "Berlin", "days": 1}), model=HAIKU), "flag"),
        t(c, "balance-not-transfer", "checks a balance instead of transferring",
          req("Move 1,500 euros from checking to savings.", BANK, tools=[TRANSFER, BALANCE]),
          calls(("transfer_funds", {"from_account": "checking", "to_account": "savings",
                                    "amount": 1500, "currency": "EUR"})),
          calls(("get_balance", {"account": "checking"}), model=MISTRAL), "flag"),
    ]
    c = "unwanted_tool_call"
    out += [
        t(c, "sends-without-asking", "sends an email when the user only asked for wording",
          req("How should I phrase an email telling my landlord the heating is broken?",
              ASSISTANT, tools=[EMAIL, DRAFT]),
          ans("Keep it short and factual: \"Hi Mr. Novak, the heating in flat 3B stopped working "
              "on Monday and the radiators are cold. Could you arrange a repair this week? I'm "
              "home after 5 pm. Thanks, Lea.\"", model=PROD_MODEL),
          calls(("send_email", {"to": "landlord@example.com", "subject": "Broken heating",
                                "body": "Hi, the heating in my flat is broken. Please fix it."}),
                model=LLAMA), "flag"),
        t(c, "guessed-city", "calls the tool with a guessed city instead of asking",
          req("What's the weather like today?", ASSISTANT, tools=[WEATHER]),
          ans("Which city would you like the weather for?"),
          calls(("get_weather", {"city": "New York"}), model=QWEN), "flag"),
    ]
    return out


def cases():
    return paraphrases() + noise() + wrong_arguments() + other_tools()
