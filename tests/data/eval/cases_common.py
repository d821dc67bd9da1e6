"""Shared system prompts, tool declarations and candidate model names for the case files."""

LLAMA = "llama-3.3-70b-versatile"
HAIKU = "claude-3-5-haiku-20241022"
MISTRAL = "mistral-small-2501"
GEMINI = "gemini-2.0-flash"
QWEN = "qwen2.5-72b-instruct"

SUPPORT = ("You are the support assistant for Lumen, a project-management SaaS. Answer from the "
           "help-center articles, concisely and accurately.")
BANK = ("You are the virtual assistant of Northwind Bank. Be precise about fees, limits and "
        "deadlines.")
HR = "You answer employee questions using the Acme Corp employee handbook."
CODER = "You are a senior software engineer. Answer with working code and a short explanation."
ANALYST = "You write PostgreSQL for the analytics team. Return the query in a ```sql block."
SUMMARIZER = "Summarize the text for a busy executive. Keep every figure that matters."
TRANSLATOR = "You are a professional translator. Output only the translation."
CLASSIFIER = ("Classify the customer message. Answer with exactly one label from: billing, "
              "technical, account, shipping, other.")
EXTRACTOR = "Extract the requested fields and answer with a single JSON object, nothing else."
TUTOR = "You are a patient math tutor. Show the key steps and give the final answer."
ASSISTANT = "You are a helpful assistant."


def fn(name, description, properties, required=()):
    """A function tool declaration (JSON schema parameters)."""
    return {"name": name, "description": description,
            "parameters": {"type": "object", "properties": properties,
                           "required": list(required)}}


WEATHER = fn("get_weather", "Current weather for a city",
             {"city": {"type": "string", "description": "City name"},
              "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"}},
             ["city"])
FORECAST = fn("get_forecast", "Daily forecast for a city",
              {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 10}},
              ["city", "days"])
FLIGHTS = fn("search_flights", "Search one-way flights",
             {"origin": {"type": "string", "description": "IATA code"},
              "destination": {"type": "string", "description": "IATA code"},
              "date": {"type": "string", "format": "date"},
              "passengers": {"type": "integer", "default": 1},
              "cabin": {"type": "string", "enum": ["economy", "premium_economy", "business", "first"],
                        "default": "economy"}},
             ["origin", "destination", "date"])
CALENDAR = fn("create_event", "Create a calendar event",
              {"title": {"type": "string"},
               "start": {"type": "string", "format": "date-time"},
               "duration_minutes": {"type": "integer"},
               "attendees": {"type": "array", "items": {"type": "string", "format": "email"}},
               "timezone": {"type": "string", "description": "IANA time zone"}},
              ["title", "start", "duration_minutes"])
EMAIL = fn("send_email", "Send an email on the user's behalf",
           {"to": {"type": "string", "format": "email"}, "subject": {"type": "string"},
            "body": {"type": "string"}},
           ["to", "subject", "body"])
DRAFT = fn("save_draft", "Save an email draft without sending it",
           {"to": {"type": "string", "format": "email"}, "subject": {"type": "string"},
            "body": {"type": "string"}},
           ["to", "subject", "body"])
TRANSFER = fn("transfer_funds", "Move money between the user's accounts",
              {"from_account": {"type": "string"}, "to_account": {"type": "string"},
               "amount": {"type": "number"},
               "currency": {"type": "string", "enum": ["USD", "EUR", "GBP"]}},
              ["from_account", "to_account", "amount", "currency"])
BALANCE = fn("get_balance", "Balance of one of the user's accounts",
             {"account": {"type": "string"}}, ["account"])
ORDER = fn("lookup_order", "Find an order by its id", {"order_id": {"type": "string"}},
           ["order_id"])
REFUND = fn("refund_order", "Refund all or part of an order",
            {"order_id": {"type": "string"}, "amount": {"type": "number"},
             "reason": {"type": "string"}},
            ["order_id", "amount"])
DOCS = fn("search_docs", "Full-text search over the help center",
          {"query": {"type": "string"}, "limit": {"type": "integer", "default": 5}}, ["query"])
TICKET = fn("create_ticket", "Open a support ticket",
            {"title": {"type": "string"},
             "priority": {"type": "string", "enum": ["low", "medium", "high", "urgent"]},
             "component": {"type": "string", "enum": ["web", "mobile", "api", "billing"]},
             "description": {"type": "string"}},
            ["title", "priority"])
THERMOSTAT = fn("set_thermostat", "Set a room's target temperature",
                {"room": {"type": "string"}, "temperature": {"type": "number"},
                 "mode": {"type": "string", "enum": ["heat", "cool", "auto"]}},
                ["room", "temperature"])
STOCK = fn("get_stock_price", "Latest price of a listed stock", {"symbol": {"type": "string"}},
           ["symbol"])
TABLE = fn("book_table", "Book a restaurant table",
           {"restaurant": {"type": "string"}, "date": {"type": "string", "format": "date"},
            "time": {"type": "string", "description": "HH:MM, 24h"},
            "party_size": {"type": "integer"}},
           ["restaurant", "date", "time", "party_size"])
CONVERT = fn("convert_currency", "Convert an amount between currencies",
             {"amount": {"type": "number"}, "from": {"type": "string"}, "to": {"type": "string"}},
             ["amount", "from", "to"])
SUBSCRIPTION = fn("update_subscription", "Change a customer's plan",
                  {"customer_id": {"type": "string"},
                   "plan": {"type": "string", "enum": ["free", "team", "business", "enterprise"]},
                   "seats": {"type": "integer"}},
                  ["customer_id", "plan"])
USERS = fn("list_users", "List workspace members",
           {"role": {"type": "string", "enum": ["admin", "member", "guest"]},
            "active": {"type": "boolean"},
            "sort": {"type": "string", "enum": ["asc", "desc"], "default": "asc"}})
