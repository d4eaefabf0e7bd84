//! The inspector's pages, rendered on the server with maud (which escapes every
//! value it inserts). No inline script or style: the Content-Security-Policy
//! allows only `/assets/app.js` and `/assets/app.css`.

use maud::{html, Markup, DOCTYPE};

use super::inspector::{Entry, HeldDeadLetter};
use crate::replay::ReplayResult;

/// Outcomes offered by the filter, in the order shown.
pub const OUTCOMES: &[&str] = &[
    "accepted",
    "duplicate",
    "ignored",
    "dead_lettered",
    "rejected",
    "unavailable",
    "responded",
];

fn layout(title: &str, csrf: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · hookgate inspector" }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "hookgate" }
                    span.sub { "inspector" }
                    @if let Some(csrf) = csrf {
                        form.signout method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(csrf);
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub fn login(failed: Option<&str>) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            section.card.signin {
                h1 { "Sign in" }
                p.muted { "Enter the admin token from the gateway's configuration (" code { "[admin] token" } ")." }
                @if let Some(why) = failed {
                    p.error role="alert" { (why) }
                }
                form method="post" action="/login" {
                    label for="token" { "Token" }
                    input #token type="password" name="token" autocomplete="current-password" required autofocus;
                    button.primary type="submit" { "Sign in" }
                }
            }
        },
    )
}

/// The time of day of an RFC 3339 timestamp (`HH:MM:SS.mmm`), for the list.
fn clock(at: &str) -> &str {
    at.split_once('T')
        .map(|(_, t)| t.trim_end_matches('Z'))
        .unwrap_or(at)
}

fn outcome_badge(e: &Entry) -> Markup {
    html! {
        span class={ "badge " (e.outcome) } {
            (e.outcome.replace('_', " "))
            @if let Some(reason) = &e.reason {
                span.reason { (reason) }
            }
        }
    }
}

pub fn row(e: &Entry) -> Markup {
    html! {
        tr data-seq=(e.seq) {
            td.time title=(e.at) { a href={ "/deliveries/" (e.seq) } { (clock(&e.at)) } }
            td { (e.source) }
            td.mono { (e.provider_type.as_deref().unwrap_or("—")) }
            td { (outcome_badge(e)) }
            td.mono { (e.canonical_type.as_deref().unwrap_or("—")) }
            td.mono.id { (e.id.as_deref().map(|id| id.get(..8).unwrap_or(id)).unwrap_or("—")) }
            td.num { (format!("{:.1} ms", e.latency_ms)) }
        }
    }
}

pub struct ListView<'a> {
    pub entries: &'a [std::sync::Arc<Entry>],
    pub sources: &'a [String],
    pub source: Option<&'a str>,
    pub outcome: Option<&'a str>,
    pub csrf: &'a str,
    pub remembered: usize,
}

pub fn list(v: &ListView<'_>) -> Markup {
    layout(
        "Deliveries",
        Some(v.csrf),
        html! {
            section.toolbar {
                h1 { "Recent deliveries" }
                form #filters method="get" action="/" {
                    label { "Source "
                        select name="source" {
                            option value="" selected[v.source.is_none()] { "all" }
                            @for s in v.sources {
                                option value=(s) selected[v.source == Some(s.as_str())] { (s) }
                            }
                        }
                    }
                    label { "Outcome "
                        select name="outcome" {
                            option value="" selected[v.outcome.is_none()] { "all" }
                            @for o in OUTCOMES {
                                option value=(o) selected[v.outcome == Some(*o)] { (o.replace('_', " ")) }
                            }
                        }
                    }
                    noscript { button type="submit" { "Filter" } }
                }
                span #live.live title="New deliveries appear as they arrive" { "live" }
            }
            table.deliveries {
                thead {
                    tr {
                        th { "Time (UTC)" } th { "Source" } th { "Provider event" } th { "Outcome" }
                        th { "Canonical type" } th { "Event id" } th.num { "Latency" }
                    }
                }
                tbody #deliveries {
                    @for e in v.entries { (row(e)) }
                }
            }
            @if v.entries.is_empty() {
                p #empty.muted.empty { "Nothing yet. Deliveries appear here as they arrive." }
            }
            p.muted.small { "The last " (v.remembered) " deliveries of each source (and of all unknown sources together) are kept in memory, within " code { "[admin] max_memory" } "." }
        },
    )
}

fn replay_result(r: &ReplayResult) -> Markup {
    let (class, text) = match r {
        ReplayResult::Replayed { id, ty } => ("ok", format!("Replayed: accepted as {ty} ({id})")),
        ReplayResult::Duplicate { id } => ("ok", format!("Replayed: already delivered ({id})")),
        ReplayResult::Ignored { provider_type } => (
            "ok",
            format!("Replayed: `{provider_type}` is ignored by the mapping now"),
        ),
        ReplayResult::WouldDeliver { event } => ("ok", format!("Would deliver {}", event.ty)),
        ReplayResult::StillFailing { reason, detail } => {
            ("error", format!("Still failing: {reason}: {detail}"))
        }
        ReplayResult::Unverifiable { reason, detail } => {
            ("error", format!("Not verified: {reason}: {detail}"))
        }
        ReplayResult::Unavailable { detail } => {
            ("error", format!("The output cannot take it now: {detail}"))
        }
    };
    html! { p class={ "result " (class) } role="status" { (text) } }
}

pub fn detail(e: &Entry, csrf: &str, captures_bodies: bool) -> Markup {
    let replays = e.replays.lock().map(|r| r.clone()).unwrap_or_default();
    layout(
        &format!("Delivery {}", e.seq),
        Some(csrf),
        html! {
            p { a href="/" { "← All deliveries" } }
            section.card {
                h1 { "Delivery " (e.seq) " " (outcome_badge(e)) }
                dl.summary {
                    dt { "Received" } dd { (e.at) }
                    dt { "Source" } dd { (e.source) }
                    dt { "Provider event" } dd.mono { (e.provider_type.as_deref().unwrap_or("—")) }
                    dt { "HTTP status" } dd { (e.status) }
                    dt { "Canonical type" } dd.mono { (e.canonical_type.as_deref().unwrap_or("—")) }
                    dt { "Id" } dd.mono { (e.id.as_deref().unwrap_or("—")) }
                    dt { "Latency" } dd { (format!("{:.1} ms", e.latency_ms)) }
                }
                @if let Some(held) = &e.dead_letter {
                    div.deadletter {
                        h2 { "Dead letter" }
                        p { strong { (held.record().reason.as_str()) } ": " (held.record().detail) }
                        @for r in &replays { (replay_result(r)) }
                        @match held.replayable() {
                            Ok(_) => form method="post" action={ "/deliveries/" (e.seq) "/replay" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button.primary #replay type="submit" { "Replay" }
                                span.muted { " Verifies it again and maps it with the current mappings." }
                            },
                            Err(bytes) => (replay_elsewhere(held, bytes)),
                        }
                    }
                }
            }
            @if let Some(event) = &e.event {
                section.card {
                    h2 { "Canonical event" }
                    pre.json { (event) }
                }
            }
            section.card {
                h2 { "Headers" }
                @if e.headers.is_empty() {
                    p.muted { "None recorded." }
                } @else {
                    table.headers {
                        @for (k, v) in &e.headers {
                            tr { th.mono { (k) } td.mono { (v) } }
                        }
                    }
                }
                p.muted.small { "Signatures, tokens and credentials are never shown." }
            }
            section.card {
                h2 { "Body" }
                @match (e.body(), captures_bodies) {
                    (Some(body), _) => pre.json { (body) },
                    (None, true) => p.muted { "No body was read (the request was refused before it)." },
                    (None, false) => p.muted { "Not captured: set " code { "capture_bodies = true" } " under " code { "[admin]" } " to keep bodies (they hold personal data)." },
                }
            }
        },
    )
}

/// Why a dead letter has no Replay button, and how to replay it.
fn replay_elsewhere(held: &HeldDeadLetter, bytes: usize) -> Markup {
    let source = &held.record().source;
    html! {
        p.muted.replay-elsewhere {
            "Its body (" (bytes) " bytes) is larger than the inspector keeps whole, so it "
            "cannot be replayed from here. It is whole in the dead-letter output: replay it "
            "with " code { "hookgate replay --config hookgate.toml --from-file dead-letters.ndjson --source " (source) }
            " (or " code { "--from-topic" } " for the Kafka output)."
        }
    }
}

/// The answer to a Replay of a dead letter that is not kept whole.
pub fn too_large_to_replay(e: &Entry, bytes: usize, csrf: &str) -> Markup {
    layout(
        "Not replayed",
        Some(csrf),
        html! {
            p { a href={ "/deliveries/" (e.seq) } { "← Delivery " (e.seq) } }
            section.card {
                h1 { "Not replayed" }
                @if let Some(held) = &e.dead_letter { (replay_elsewhere(held, bytes)) }
            }
        },
    )
}

pub fn not_found() -> Markup {
    layout(
        "Not found",
        None,
        html! { section.card { h1 { "Not found" } p { "That delivery is no longer in memory. " a href="/" { "Back to the list" } } } },
    )
}

/// Escaped HTML of one row, for the live feed (inserted by app.js).
pub fn row_html(e: &Entry) -> String {
    row(e).into_string()
}
