//! The demo's catalogue of realistic requests, with production's answer and each candidate's.

use serde_json::{json, Value};

/// How a fake provider answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persona {
    /// The "production" model: the reference answers.
    Production,
    /// A candidate that answers like production, with light rewording.
    Faithful,
    /// A candidate with realistic regressions: broken JSON, dropped tool call, refusal, truncation,
    /// wrong tool argument, heavy paraphrase.
    Regressing,
}

/// What a fake model answers: text and/or one tool call, and why it stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<'a> {
    pub content: Option<&'a str>,
    pub tool_call: Option<(&'a str, &'a str)>,
    pub finish_reason: &'a str,
}

const fn text(content: &'static str) -> Answer<'static> {
    Answer {
        content: Some(content),
        tool_call: None,
        finish_reason: "stop",
    }
}

const fn tool(name: &'static str, arguments: &'static str) -> Answer<'static> {
    Answer {
        content: None,
        tool_call: Some((name, arguments)),
        finish_reason: "tool_calls",
    }
}

/// One demo request kind.
pub struct Scenario {
    pub name: &'static str,
    pub team: &'static str,
    pub feature: &'static str,
    pub prompt: &'static str,
    /// Extra request fields (tools, response_format, ...).
    pub extra: fn() -> Value,
    pub production: Answer<'static>,
    pub faithful: Answer<'static>,
    pub regressing: Answer<'static>,
}

fn none() -> Value {
    json!({})
}

fn json_mode() -> Value {
    json!({"response_format": {"type": "json_object"}})
}

fn weather_tools() -> Value {
    json!({"tools": [{"type": "function", "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
        }, "required": ["city"]}
    }}]})
}

fn order_tools() -> Value {
    json!({"tools": [{"type": "function", "function": {
        "name": "lookup_order",
        "description": "Find an order by its id",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}
    }}]})
}

/// Every scenario, in the order the demo sends them.
pub fn all() -> &'static [Scenario] {
    SCENARIOS
}

static SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "invoice_extraction",
        team: "finance",
        feature: "invoice-parser",
        prompt: "Extract invoice_number, total, currency and due_date as JSON from: Invoice INV-2024-0117, total due EUR 1,249.50 by 15 March 2024.",
        extra: json_mode,
        production: text(r#"{"invoice_number": "INV-2024-0117", "total": 1249.5, "currency": "EUR", "due_date": "2024-03-15"}"#),
        faithful: text(r#"{"currency": "EUR", "due_date": "2024-03-15", "invoice_number": "INV-2024-0117", "total": 1249.50}"#),
        regressing: text(r#"{"invoice_number": "INV-2024-0117", "total": 1249.5, "currency": "EUR", "due_date": "2024-03-"#),
    },
    Scenario {
        name: "weather_tool",
        team: "assistant",
        feature: "tools",
        prompt: "What's the weather like in Paris right now?",
        extra: weather_tools,
        production: tool("get_weather", r#"{"city": "Paris", "unit": "celsius"}"#),
        faithful: tool("get_weather", r#"{"unit": "celsius", "city": "Paris"}"#),
        regressing: text("Paris usually has mild weather this time of year, around 15°C with some clouds."),
    },
    Scenario {
        name: "password_reset",
        team: "support",
        feature: "helpdesk",
        prompt: "How do I reset my account password?",
        extra: none,
        production: text("To reset your password: 1. Open Settings → Security. 2. Click \"Reset password\". 3. Follow the link we email you within 10 minutes. The link expires after 24 hours."),
        faithful: text("To reset your password: 1. Go to Settings → Security. 2. Click \"Reset password\". 3. Follow the link we email you within 10 minutes. The link is valid for 24 hours."),
        regressing: text("I'm sorry, but I can't help with account security requests."),
    },
    Scenario {
        name: "release_summary",
        team: "docs",
        feature: "summaries",
        prompt: "Summarize the 4.2 release notes: new SSO support, 30% faster search, dark mode, and removal of the legacy v1 API.",
        extra: none,
        production: text("Release 4.2 adds single sign-on, makes search about 30% faster and introduces dark mode. Note that the legacy v1 API has been removed, so integrations still using it must migrate to v2."),
        faithful: text("Release 4.2 adds single sign-on, makes search roughly 30% faster and introduces dark mode. The legacy v1 API has been removed, so integrations still using it must migrate to v2."),
        regressing: Answer {
            content: Some("Release 4.2 adds single sign-on, makes search about 30% faster and"),
            tool_call: None,
            finish_reason: "length",
        },
    },
    Scenario {
        name: "tcp_vs_udp",
        team: "docs",
        feature: "explainers",
        prompt: "In two sentences, what is the difference between TCP and UDP?",
        extra: none,
        production: text("TCP is connection-oriented and guarantees ordered, reliable delivery with retransmission and congestion control. UDP is connectionless and sends datagrams without delivery or ordering guarantees, trading reliability for lower latency."),
        faithful: text("TCP is connection-oriented and guarantees reliable, ordered delivery using retransmission and congestion control. UDP is connectionless and sends datagrams with no delivery or ordering guarantees, trading reliability for lower latency."),
        regressing: text("Think of TCP as a phone call where both sides confirm every word, while UDP is like shouting across a room: quick, but nobody checks whether the message arrived."),
    },
    Scenario {
        name: "translate_fr",
        team: "assistant",
        feature: "translation",
        prompt: "Translate to French: The meeting has been moved to Thursday at 10am.",
        extra: none,
        production: text("La réunion a été déplacée à jeudi à 10 h."),
        faithful: text("La réunion a été déplacée à jeudi à 10 h."),
        regressing: text("La réunion a été déplacée à jeudi à 10 h."),
    },
    Scenario {
        name: "sentiment",
        team: "support",
        feature: "triage",
        prompt: "Classify the sentiment of this review as positive, negative or neutral: \"Setup took five minutes and support answered within the hour. Love it.\"",
        extra: none,
        production: text("positive"),
        faithful: text("positive"),
        regressing: text("positive"),
    },
    Scenario {
        name: "order_lookup",
        team: "support",
        feature: "tools",
        prompt: "Where is my order A-10023?",
        extra: order_tools,
        production: tool("lookup_order", r#"{"order_id": "A-10023"}"#),
        faithful: tool("lookup_order", r#"{"order_id": "A-10023"}"#),
        regressing: tool("lookup_order", r#"{"order_id": "A-10032"}"#),
    },
    Scenario {
        name: "sql_query",
        team: "analytics",
        feature: "sql-assist",
        prompt: "Write a SQL query returning the 5 customers with the highest total order amount from orders(customer_id, amount).",
        extra: none,
        production: text("```sql\nSELECT customer_id, SUM(amount) AS total\nFROM orders\nGROUP BY customer_id\nORDER BY total DESC\nLIMIT 5;\n```"),
        faithful: text("```sql\nSELECT customer_id, SUM(amount) AS total\nFROM orders\nGROUP BY customer_id\nORDER BY total DESC\nLIMIT 5;\n```"),
        regressing: text("```sql\nSELECT customer_id, SUM(amount) AS total\nFROM orders\nGROUP BY customer_id\nORDER BY total DESC\nLIMIT 5;\n```"),
    },
    Scenario {
        name: "refund_policy",
        team: "support",
        feature: "helpdesk",
        prompt: "Can I get a refund 20 days after purchase?",
        extra: none,
        production: text("Yes. Purchases can be refunded within 30 days, so a refund 20 days after purchase is possible. Request it from Orders → Refund."),
        faithful: text("Yes. Purchases can be refunded within 30 days, so a refund 20 days after purchase is possible. You can request it from Orders → Refund."),
        regressing: text("Yes. Purchases can be refunded within 30 days, so a refund 20 days after purchase is possible. Request it from Orders → Refund."),
    },
];

/// Find the scenario whose prompt is `prompt`.
pub fn find(prompt: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.prompt == prompt)
}

impl Scenario {
    /// The answer a persona gives.
    pub fn answer(&self, persona: Persona) -> &Answer<'static> {
        match persona {
            Persona::Production => &self.production,
            Persona::Faithful => &self.faithful,
            Persona::Regressing => &self.regressing,
        }
    }

    /// The chat request a client sends for this scenario.
    pub fn request(&self, model: &str) -> Value {
        let mut body = json!({
            "model": model,
            "messages": [
                {"role": "system", "content": "You are a concise, accurate assistant."},
                {"role": "user", "content": self.prompt}
            ],
            "temperature": 0
        });
        if let (Some(obj), Value::Object(extra)) = (body.as_object_mut(), (self.extra)()) {
            obj.extend(extra);
        }
        body
    }
}
