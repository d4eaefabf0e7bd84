//! `[telemetry]`: where spans are exported (`[telemetry.otlp]`), checked at load
//! time. Off unless the section is given.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::secret::Secret;

/// `[telemetry]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Traces over OTLP: without it no span is made and no trace context is
    /// accepted or written.
    #[serde(default)]
    pub otlp: Option<OtlpConfig>,
}

/// The OTLP wire protocols hookgate speaks.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub enum Protocol {
    #[default]
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    #[serde(rename = "grpc")]
    Grpc,
}

/// `[telemetry.otlp]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// The collector: `http://host:4318` (http/protobuf: `/v1/traces` is added to
    /// a URL without a path) or `http://host:4317` (grpc).
    pub endpoint: String,
    #[serde(default)]
    pub protocol: Protocol,
    /// Sent with every export (an API key, say): never printed.
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// The share of new traces recorded and exported (parent-based: a request
    /// whose `traceparent` says sampled is recorded whatever this says).
    #[serde(default = "OtlpConfig::default_ratio")]
    pub sample_ratio: f64,
    /// How long one export may take before it is given up (its spans counted as dropped).
    #[serde(default = "OtlpConfig::default_timeout", with = "humantime_serde")]
    pub timeout: std::time::Duration,
}

impl OtlpConfig {
    fn default_ratio() -> f64 {
        1.0
    }

    fn default_timeout() -> std::time::Duration {
        std::time::Duration::from_secs(5)
    }

    /// The URL spans are sent to: for http/protobuf, `/v1/traces` on an endpoint
    /// given without a path (as `OTEL_EXPORTER_OTLP_ENDPOINT` is read).
    pub fn traces_url(&self) -> String {
        let base = self.endpoint.trim_end_matches('/');
        let has_path = base
            .split_once("://")
            .is_some_and(|(_, rest)| rest.contains('/'));
        match self.protocol {
            Protocol::HttpProtobuf if !has_path => format!("{base}/v1/traces"),
            _ => self.endpoint.clone(),
        }
    }
}

impl TelemetryConfig {
    pub fn validate(&self) -> Result<(), String> {
        let Some(otlp) = &self.otlp else {
            return Ok(());
        };
        let url: http::Uri = otlp
            .endpoint
            .parse()
            .map_err(|e| format!("telemetry.otlp.endpoint `{}`: {e}", otlp.endpoint))?;
        match (url.scheme_str(), otlp.protocol) {
            (Some("http"), _) | (Some("https"), Protocol::HttpProtobuf) => {}
            (Some("https"), Protocol::Grpc) => {
                return Err(
                    "telemetry.otlp.endpoint: grpc is sent in plain text (to a local collector); \
                     use protocol = \"http/protobuf\" for an https endpoint"
                        .to_owned(),
                )
            }
            _ => {
                return Err(format!(
                    "telemetry.otlp.endpoint `{}` is not an http:// or https:// URL",
                    otlp.endpoint
                ))
            }
        }
        if url.host().is_none() {
            return Err(format!(
                "telemetry.otlp.endpoint `{}` names no host",
                otlp.endpoint
            ));
        }
        if !(0.0..=1.0).contains(&otlp.sample_ratio) {
            return Err(format!(
                "telemetry.otlp.sample_ratio is {}; it must be within 0.0..=1.0",
                otlp.sample_ratio
            ));
        }
        if otlp.timeout.is_zero() {
            return Err("telemetry.otlp.timeout must be more than 0".to_owned());
        }
        for (name, value) in &otlp.headers {
            http::HeaderName::try_from(name.as_str())
                .map_err(|_| format!("telemetry.otlp.headers: `{name}` is not a header name"))?;
            let text = std::str::from_utf8(value.expose()).unwrap_or("\n");
            http::HeaderValue::from_str(text)
                .map_err(|_| format!("telemetry.otlp.headers.{name}: not a valid header value"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TelemetryConfig, String> {
        let c: TelemetryConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate().map(|()| c)
    }

    #[test]
    fn off_unless_given_and_defaults_when_given() {
        assert_eq!(parse(""), Ok(TelemetryConfig::default()));
        let c = parse("[otlp]\nendpoint = \"http://127.0.0.1:4318\"").unwrap_or_default();
        let otlp = c.otlp.unwrap_or_else(|| panic!("otlp"));
        assert_eq!(otlp.protocol, Protocol::HttpProtobuf);
        assert_eq!(otlp.sample_ratio, 1.0);
        assert_eq!(otlp.traces_url(), "http://127.0.0.1:4318/v1/traces");
    }

    #[test]
    fn the_traces_path_is_added_only_to_a_bare_http_endpoint() {
        let url = |endpoint: &str, protocol| {
            OtlpConfig {
                endpoint: endpoint.to_owned(),
                protocol,
                headers: BTreeMap::new(),
                sample_ratio: 1.0,
                timeout: OtlpConfig::default_timeout(),
            }
            .traces_url()
        };
        assert_eq!(
            url("https://otlp.example/", Protocol::HttpProtobuf),
            "https://otlp.example/v1/traces"
        );
        assert_eq!(
            url(
                "https://otlp.example/custom/v1/traces",
                Protocol::HttpProtobuf
            ),
            "https://otlp.example/custom/v1/traces"
        );
        assert_eq!(url("http://c:4317", Protocol::Grpc), "http://c:4317");
    }

    #[test]
    fn bad_values_are_refused_naming_the_key() {
        let refused = |body: &str, word: &str| {
            let e = parse(&format!("[otlp]\n{body}")).err().unwrap_or_default();
            assert!(e.contains(word), "{body}: {e}");
        };
        refused(
            "endpoint = \"http://c:4318\"\nsample_ratio = 1.5",
            "sample_ratio",
        );
        refused("endpoint = \"c:4318\"", "telemetry.otlp.endpoint");
        refused(
            "endpoint = \"https://c:4317\"\nprotocol = \"grpc\"",
            "http/protobuf",
        );
        refused(
            "endpoint = \"http://c\"\nheaders = { \"bad name\" = \"x\" }",
            "telemetry.otlp.headers",
        );
        refused("endpoint = \"http://c\"\nprotocol = \"json\"", "protocol");
    }

    #[test]
    fn header_values_never_print() {
        let c = parse("[otlp]\nendpoint = \"http://c\"\nheaders = { x-api-key = \"k-123456\" }")
            .unwrap_or_default();
        let shown = format!("{c:?}");
        assert!(
            shown.contains("x-api-key") && !shown.contains("k-123456"),
            "{shown}"
        );
    }
}
