//! Traces end to end with real processes: `hookgate serve` exports its delivery
//! spans to a real OTLP receiver (the `fake-opentelemetry-collector` gRPC server,
//! and a small http/protobuf one below), the record on a real Kafka topic (Tansu)
//! carries the same trace, an incoming `traceparent` is continued and a malformed
//! one ignored, the log lines name the trace, and a collector that is away costs
//! no delivery.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_opentelemetry_collector::{ExportedSpan, FakeCollectorServer};
use prost::Message as _;

mod common;
use common::broker::{consume, free_port, Broker};
use common::server::{get, post_delivery, Server};
use common::*;

const EVENTS: &str = "webhooks.events";
const DEAD: &str = "webhooks.dead-letter";
const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Exports every 100 ms instead of every 5 s (read by the SDK in the child).
fn fast_export() {
    std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "100");
}

fn config(bootstrap: &str, telemetry: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:8080\"\n{}\n[output]\nkind = \"kafka\"\nbrokers = \"{bootstrap}\"\n\
         topic = \"{EVENTS}\"\ndead_letter_topic = \"{DEAD}\"\n\n[telemetry.otlp]\n{telemetry}\n",
        all_providers_config()
    )
}

fn broker() -> Broker {
    let b = Broker::memory();
    b.create_topic(EVENTS, 1);
    b.create_topic(DEAD, 1);
    b
}

/// Posts the sahut fixture `case` with `extra` headers (the body changed when
/// `tamper`): the status and the answer.
fn deliver(
    port: u16,
    case: &str,
    extra: &[(&str, &str)],
    tamper: bool,
) -> (u16, serde_json::Value) {
    let c = fixture_case("sahut", case);
    let mut headers = c.headers;
    for (k, v) in extra {
        headers.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    let mut body = c.body.to_vec();
    if tamper {
        body.push(b' ');
    }
    post_delivery(
        port,
        &hookgate::loadgen::Delivery {
            path: path_for("sahut"),
            headers,
            body: body.into(),
        },
    )
}

/// `00-<trace>-<span>-<flags>` → (trace, span).
fn ids(traceparent: &str) -> (String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    (parts[1].to_owned(), parts[2].to_owned())
}

fn attr<'a>(span: &'a ExportedSpan, key: &str) -> &'a str {
    span.attributes.get(key).map_or("", String::as_str)
}

/// The attribute's string value, as the fake collector prints it (`StringValue("x")`).
fn has(span: &ExportedSpan, key: &str, value: &str) -> bool {
    attr(span, key).contains(&format!("{value:?}"))
        || attr(span, key).contains(&format!("({value})"))
}

fn find<'a>(spans: &'a [ExportedSpan], trace: &str, name: &str) -> &'a ExportedSpan {
    spans
        .iter()
        .find(|s| s.trace_id == trace && s.name == name)
        .unwrap_or_else(|| {
            let names: Vec<_> = spans.iter().map(|s| (&s.trace_id, &s.name)).collect();
            panic!("no span {name} in trace {trace}: {names:?}")
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_is_followed_by_its_trace_id_from_the_request_to_the_kafka_record() {
    fast_export();
    let mut collector = FakeCollectorServer::start().await.unwrap();
    let broker = broker();
    let dir = tempfile::tempdir().unwrap();
    let telemetry = format!(
        "endpoint = \"{}\"\nprotocol = \"grpc\"\nsample_ratio = 1.0",
        collector.endpoint()
    );
    let mut server = Server::start(dir.path(), &config(&broker.bootstrap(), &telemetry), "json");
    let port = server.port;

    // A valid traceparent is continued; a malformed one (uppercase hex) and none
    // start new traces; a bad signature is refused in a trace of its own.
    let continued = tokio::task::spawn_blocking(move || {
        let a = deliver(
            port,
            "message-created-incoming",
            &[
                ("traceparent", PARENT),
                ("tracestate", "rojo=00f067aa0ba902b7"),
            ],
            false,
        );
        let b = deliver(
            port,
            "contact-created",
            &[("traceparent", &PARENT.to_uppercase())],
            false,
        );
        let c = deliver(port, "conversation-created", &[], false);
        let d = deliver(port, "message-created-outgoing-image", &[], true);
        [a, b, c, d]
    })
    .await
    .unwrap();
    for (status, body) in &continued[..3] {
        assert_eq!(*status, 200, "{body}");
    }
    assert_eq!(continued[3].0, 401, "{}", continued[3].1);

    let records = tokio::task::spawn_blocking({
        let bootstrap = broker.bootstrap();
        move || consume(&bootstrap, EVENTS, 1, 3, Duration::from_secs(30))
    })
    .await
    .unwrap();
    assert_eq!(records.len(), 3);
    let by_id: BTreeMap<String, _> = records
        .iter()
        .map(|r| (r.json()["id"].as_str().unwrap().to_owned(), r))
        .collect();
    let record_of = |answer: &serde_json::Value| by_id[answer["id"].as_str().unwrap()];

    // SIGTERM flushes the spans still queued.
    server.signal("-TERM");
    assert!(server.wait_exit(Duration::from_secs(20)).success());
    let spans = collector.exported_spans(24, Duration::from_secs(20)).await;

    let (parent_trace, parent_span) = ids(PARENT);
    let first = record_of(&continued[0].1);
    let header = first.header("traceparent").unwrap();
    let (trace, produce_id) = ids(header);
    assert_eq!(trace, parent_trace, "the incoming trace is continued");
    // The structured value carries the same context (CloudEvents Distributed Tracing).
    assert_eq!(first.json()["traceparent"], header);
    assert_eq!(first.header("tracestate"), Some("rojo=00f067aa0ba902b7"));
    assert_eq!(first.json()["tracestate"], "rojo=00f067aa0ba902b7");

    let delivery = find(&spans, &trace, "POST /webhooks/{source}");
    assert_eq!(
        delivery.parent_span_id, parent_span,
        "parent = the caller's span"
    );
    assert_eq!(delivery.kind, "SPAN_KIND_SERVER");
    assert!(has(delivery, "http.request.method", "POST"));
    assert!(has(delivery, "url.path", "/webhooks/sahut"));
    assert!(has(delivery, "hookgate.source", "sahut"));
    assert!(has(delivery, "hookgate.provider", "sahut"));
    assert!(
        has(delivery, "server.address", "x"),
        "{:?}",
        delivery.attributes
    );
    assert!(attr(delivery, "http.response.status_code").contains("200"));
    assert!(has(
        delivery,
        "cloudevents.event_id",
        continued[0].1["id"].as_str().unwrap()
    ));
    for stage in ["verify", "map", "validate", "dedup"] {
        let s = find(&spans, &trace, stage);
        assert_eq!(
            s.parent_span_id, delivery.span_id,
            "{stage} is a child of the delivery"
        );
    }
    let produce = find(&spans, &trace, "produce");
    assert_eq!(
        produce.span_id, produce_id,
        "the record carries the produce span"
    );
    assert_eq!(produce.parent_span_id, delivery.span_id);
    assert_eq!(produce.kind, "SPAN_KIND_PRODUCER");
    assert!(has(produce, "messaging.system", "kafka"));
    assert!(has(produce, "messaging.destination.name", EVENTS));
    assert!(has(produce, "messaging.operation.type", "send"));

    // The malformed traceparent was not trusted, not even its trace id.
    for answer in [&continued[1].1, &continued[2].1] {
        let (t, _) = ids(record_of(answer).header("traceparent").unwrap());
        assert_ne!(t, parent_trace);
        assert_ne!(t, parent_trace.to_uppercase());
        let root = find(&spans, &t, "POST /webhooks/{source}");
        assert_eq!(
            root.parent_span_id, "",
            "a new trace starts at the delivery"
        );
    }

    // The refused one: its reason on the spans, its log line naming its trace.
    let refused_log = server
        .logs()
        .into_iter()
        .find(|l| l.contains("delivery rejected"))
        .expect("a log line for the refused delivery");
    let line: serde_json::Value = serde_json::from_str(&refused_log).unwrap();
    let logged_trace = line["span"]["trace_id"].as_str().unwrap().to_owned();
    let refused = find(&spans, &logged_trace, "POST /webhooks/{source}");
    assert_eq!(
        line["span"]["span_id"].as_str(),
        Some(refused.span_id.as_str())
    );
    assert!(attr(refused, "http.response.status_code").contains("401"));
    assert!(
        has(refused, "error.type", "signature_mismatch"),
        "{:?}",
        refused.attributes
    );
    let verify = find(&spans, &logged_trace, "verify");
    let status = verify.status.as_ref().unwrap();
    assert_eq!(
        (status.code.as_str(), status.message.as_str()),
        ("STATUS_CODE_ERROR", "signature_mismatch")
    );
    // Never a header value or a body on a span.
    let secret = fixture_case("sahut", "message-created-incoming");
    for s in &spans {
        for v in s.attributes.values() {
            for (_, hv) in secret.headers.iter() {
                let hv = hv.to_str().unwrap();
                assert!(
                    hv.len() < 8 || !v.contains(hv),
                    "{} carries a header value: {v}",
                    s.name
                );
            }
            assert!(!v.contains("\"content\""), "{} carries a body", s.name);
        }
    }
}

/// An OTLP http/protobuf receiver: decodes every `ExportTraceServiceRequest`,
/// and keeps the spans and the request headers.
#[derive(Clone, Default)]
struct HttpCollector {
    spans: Arc<Mutex<Vec<opentelemetry_proto::tonic::trace::v1::Span>>>,
    headers: Arc<Mutex<Vec<http::HeaderMap>>>,
}

impl HttpCollector {
    async fn start(&self) -> u16 {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        let me = self.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |headers: http::HeaderMap, body: bytes::Bytes| {
                let me = me.clone();
                async move {
                    let req = ExportTraceServiceRequest::decode(body).unwrap();
                    let spans = req
                        .resource_spans
                        .into_iter()
                        .flat_map(|r| r.scope_spans)
                        .flat_map(|s| s.spans);
                    me.spans.lock().unwrap().extend(spans);
                    me.headers.lock().unwrap().push(headers);
                    (
                        [("content-type", "application/x-protobuf")],
                        Vec::<u8>::new(),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        port
    }

    fn spans(&self) -> Vec<opentelemetry_proto::tonic::trace::v1::Span> {
        self.spans.lock().unwrap().clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_export_sends_the_headers_and_the_sampled_spans() {
    fast_export();
    let collector = HttpCollector::default();
    let port = collector.start().await;
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.ndjson");
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:8080\"\n{}\n[output]\nkind = \"file\"\npath = \"{}\"\n\
         dead_letter_path = \"{}\"\n\n[telemetry.otlp]\nendpoint = \"http://127.0.0.1:{port}\"\n\
         headers = {{ x-api-key = \"k-0123456789\" }}\nsample_ratio = 0.0\n",
        all_providers_config(),
        events.display(),
        dir.path().join("dead.ndjson").display()
    );
    let server = Server::start(dir.path(), &text, "human");
    let p = server.port;
    let answers = tokio::task::spawn_blocking(move || {
        [
            // sampled by its parent whatever the ratio says
            deliver(
                p,
                "message-created-incoming",
                &[("traceparent", PARENT)],
                false,
            ),
            // ratio 0: not sampled, not exported, yet traced on the record
            deliver(p, "contact-created", &[], false),
            // dead-lettered, in the caller's unsampled trace
            deliver(
                p,
                "unknown-event-type",
                &[("traceparent", &PARENT.replace("-01", "-00"))],
                false,
            ),
        ]
    })
    .await
    .unwrap();
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    let written = read_lines(&events);
    assert_eq!(written.len(), 2);
    let (parent_trace, _) = ids(PARENT);
    assert_eq!(
        ids(written[0]["traceparent"].as_str().unwrap()).0,
        parent_trace
    );
    assert!(written[0]["traceparent"].as_str().unwrap().ends_with("-01"));
    let unsampled = written[1]["traceparent"].as_str().unwrap();
    assert!(unsampled.ends_with("-00"), "{unsampled}");
    let dead = read_lines(&dir.path().join("dead.ndjson"));
    assert_eq!(
        ids(dead[0]["traceparent"].as_str().unwrap()).0,
        parent_trace
    );

    let spans = wait_for(Duration::from_secs(20), "the sampled spans", || {
        let s = collector.spans();
        (s.iter().any(|s| s.name == "produce")).then_some(s)
    });
    let exported: Vec<String> = spans.iter().map(|s| hex(&s.trace_id)).collect();
    assert!(
        exported.iter().all(|t| *t == parent_trace),
        "only the sampled trace: {exported:?}"
    );
    assert!(spans.iter().any(|s| s.name == "POST /webhooks/{source}"));
    let headers = collector.headers.lock().unwrap().clone();
    assert!(headers
        .iter()
        .all(|h| h.get("x-api-key").is_some_and(|v| v == "k-0123456789")));
    assert!(headers.iter().all(|h| h
        .get("content-type")
        .is_some_and(|v| v == "application/x-protobuf")));
    assert!(
        server.logs().iter().all(|l| !l.contains("k-0123456789")),
        "the key is never logged"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_away_costs_no_delivery_and_its_drops_are_counted() {
    fast_export();
    let broker = broker();
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens there: every export fails at once.
    let telemetry = format!(
        "endpoint = \"http://127.0.0.1:{}\"\nprotocol = \"grpc\"\ntimeout = \"1s\"",
        free_port()
    );
    let server = Server::start(
        dir.path(),
        &config(&broker.bootstrap(), &telemetry),
        "human",
    );
    let port = server.port;
    let cases = [
        "message-created-incoming",
        "contact-created",
        "contact-updated",
        "conversation-created",
        "conversation-updated",
        "conversation-resolved",
    ];
    let slowest = tokio::task::spawn_blocking(move || {
        let mut slowest = Duration::ZERO;
        for case in cases {
            let started = Instant::now();
            let (status, body) = deliver(port, case, &[], false);
            slowest = slowest.max(started.elapsed());
            assert_eq!(status, 200, "{case}: {body}");
        }
        slowest
    })
    .await
    .unwrap();
    assert!(
        slowest < Duration::from_secs(1),
        "a delivery took {slowest:?}"
    );
    let records = tokio::task::spawn_blocking({
        let bootstrap = broker.bootstrap();
        move || consume(&bootstrap, EVENTS, 1, cases.len(), Duration::from_secs(30))
    })
    .await
    .unwrap();
    assert_eq!(records.len(), cases.len());
    assert!(records.iter().all(|r| r.header("traceparent").is_some()));
    let dropped = wait_for(Duration::from_secs(20), "dropped spans counted", || {
        let (_, text) = get(port, "/metrics");
        metric(
            &text,
            "hookgate_trace_spans_dropped_total{reason=\"export_failed\"}",
        )
        .filter(|n| *n >= 1.0)
    });
    assert!(dropped >= 1.0);
    let (_, text) = get(port, "/metrics");
    assert_eq!(
        metric(
            &text,
            "hookgate_trace_spans_dropped_total{reason=\"queue_full\"}"
        ),
        Some(0.0)
    );
    server.wait_log(
        "cannot export spans to the OTLP collector",
        Duration::from_secs(5),
    );
}
