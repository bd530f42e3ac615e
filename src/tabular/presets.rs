//! Built-in column mappings for the default exports of common service-desk tools.
//!
//! A preset is a starting point: every part of it can be overridden by the `tables:` entry that
//! names it (docs/records.md lists the presets, their columns and where the names come from).
//! Column names are matched exactly as the tool writes them in the header row.

/// One built-in mapping.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub name: &'static str,
    pub tool: &'static str,
    /// The record kind the export holds, when the tool's table says it.
    pub kind: Option<&'static str>,
    /// Field <- column.
    pub fields: &'static [(&'static str, &'static str)],
    /// Fields read as dates (converted to YYYY-MM-DD in the SMS's time zone).
    pub dates: &'static [&'static str],
    /// A `strftime`-style format for the date columns; `None` reads ISO 8601 forms.
    pub date_format: Option<&'static str>,
    /// Field separator of a `.csv` export.
    pub delimiter: u8,
}

/// ServiceNow list exports (List v2 "Export > CSV", or `<table>.do?CSV`) write the column
/// (element) names of the table in the header row, and date-times as `YYYY-MM-DD HH:MM:SS` in
/// the exporting user's time zone.
const SN_DATES: &[&str] = &["date", "resolved", "closed"];

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "servicenow-incident",
        tool: "ServiceNow (incident table)",
        kind: Some("incident"),
        fields: &[
            ("id", "number"),
            ("date", "opened_at"),
            ("title", "short_description"),
            ("status", "state"),
            ("priority", "priority"),
            ("service", "business_service"),
            ("resolved", "resolved_at"),
            ("closed", "closed_at"),
        ],
        dates: SN_DATES,
        date_format: None,
        delimiter: b',',
    },
    Preset {
        name: "servicenow-change_request",
        tool: "ServiceNow (change_request table)",
        kind: Some("change"),
        fields: &[
            ("id", "number"),
            ("date", "opened_at"),
            ("title", "short_description"),
            ("status", "state"),
            ("priority", "priority"),
            ("change_type", "type"),
            ("implemented", "end_date"),
            ("closed", "closed_at"),
        ],
        dates: &["date", "implemented", "closed"],
        date_format: None,
        delimiter: b',',
    },
    Preset {
        name: "servicenow-sc_req_item",
        tool: "ServiceNow (sc_req_item table, requested items)",
        kind: Some("service-request"),
        fields: &[
            ("id", "number"),
            ("date", "opened_at"),
            ("title", "short_description"),
            ("status", "state"),
            ("priority", "priority"),
            ("service", "cat_item"),
            ("closed", "closed_at"),
        ],
        dates: &["date", "closed"],
        date_format: None,
        delimiter: b',',
    },
    Preset {
        name: "servicenow-problem",
        tool: "ServiceNow (problem table)",
        kind: Some("problem"),
        fields: &[
            ("id", "number"),
            ("date", "opened_at"),
            ("title", "short_description"),
            ("status", "state"),
            ("priority", "priority"),
            ("resolved", "resolved_at"),
            ("closed", "closed_at"),
        ],
        dates: SN_DATES,
        date_format: None,
        delimiter: b',',
    },
    // Jira (Service Management) "Export > CSV (all fields)": the header row holds the field
    // labels, dates in the default `dd/MMM/yy h:mm a` form (e.g. `05/Jan/26 9:12 AM`).
    Preset {
        name: "jira-service-management",
        tool: "Jira Service Management (issue search, Export CSV)",
        kind: None,
        fields: &[
            ("id", "Issue key"),
            ("date", "Created"),
            ("title", "Summary"),
            ("status", "Status"),
            ("priority", "Priority"),
            ("request_type", "Issue Type"),
            ("resolved", "Resolved"),
            ("due", "Due date"),
        ],
        dates: &["date", "resolved", "due"],
        date_format: Some("%d/%b/%y %-I:%M %p"),
        delimiter: b',',
    },
    // GLPI search results "Export > CSV": `;`-separated, the column labels of the ticket list.
    Preset {
        name: "glpi-ticket",
        tool: "GLPI (Assistance > Tickets, search export CSV)",
        kind: None,
        fields: &[
            ("id", "ID"),
            ("date", "Opening date"),
            ("title", "Title"),
            ("status", "Status"),
            ("priority", "Priority"),
            ("category", "Category"),
            ("due", "Time to resolve"),
            ("closed", "Closing date"),
        ],
        dates: &["date", "due", "closed"],
        date_format: None,
        delimiter: b';',
    },
    // Zammad tickets through its REST API (`/api/v1/tickets?expand=true`) saved as JSON or JSON
    // lines: attribute names, ISO 8601 UTC timestamps.
    Preset {
        name: "zammad-ticket",
        tool: "Zammad (tickets API, expanded, as JSON / JSON lines)",
        kind: None,
        fields: &[
            ("id", "number"),
            ("date", "created_at"),
            ("title", "title"),
            ("status", "state"),
            ("priority", "priority"),
            ("group", "group"),
            ("closed", "close_at"),
        ],
        dates: &["date", "closed"],
        date_format: None,
        delimiter: b',',
    },
];

pub fn get(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    PRESETS.iter().map(|p| p.name)
}
