//! The librdkafka settings every hookgate Kafka client shares (the producer and the
//! dead-letter reader): the brokers, the pass-through properties, and security
//! (`[output.sasl]`, `[output.tls]`), so `replay` reaches the brokers `serve` does.

use rdkafka::config::ClientConfig;

use super::KafkaOutputConfig;

/// A client configuration for `config`, leaving out the pass-through properties
/// named in `skip` (a producer's settings mean nothing to a consumer).
pub fn client_config(config: &KafkaOutputConfig, skip: &[&str]) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    for (k, v) in config.librdkafka.iter() {
        if !skip.contains(&k.as_str()) {
            cfg.set(k, v.to_string());
        }
    }
    cfg.set("bootstrap.servers", &config.brokers)
        .set("security.protocol", config.security_protocol());
    if let Some(sasl) = &config.sasl {
        cfg.set("sasl.mechanism", sasl.mechanism.as_str())
            .set("sasl.username", &sasl.username)
            .set(
                "sasl.password",
                String::from_utf8_lossy(sasl.password.expose()),
            );
    }
    if let Some(tls) = &config.tls {
        let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
        if let Some(ca) = &tls.ca_file {
            cfg.set("ssl.ca.location", path(ca));
        }
        if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
            cfg.set("ssl.certificate.location", path(cert))
                .set("ssl.key.location", path(key));
        }
    }
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::kafka::{SaslConfig, SaslMechanism};

    fn kafka(extra: &str) -> KafkaOutputConfig {
        let text = format!("brokers = \"b:9092\"\n{extra}");
        toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_typed_sections_choose_the_protocol_and_reach_librdkafka() {
        let c = kafka(
            "[sasl]\nmechanism = \"SCRAM-SHA-512\"\nusername = \"svc\"\npassword = \"hunter2-but-longer\"\n\
             [tls]\nca_file = \"/etc/ca.pem\"\n[librdkafka]\n\"ssl.key.password\" = \"pem-pass\"\n",
        );
        assert_eq!(
            c.sasl,
            Some(SaslConfig {
                mechanism: SaslMechanism::ScramSha512,
                username: "svc".into(),
                password: crate::secret::Secret::new("hunter2-but-longer"),
            })
        );
        let cfg = client_config(&c, &[]);
        assert_eq!(cfg.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(cfg.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(cfg.get("sasl.username"), Some("svc"));
        assert_eq!(cfg.get("sasl.password"), Some("hunter2-but-longer"));
        assert_eq!(cfg.get("ssl.ca.location"), Some("/etc/ca.pem"));
        assert_eq!(cfg.get("ssl.certificate.location"), None);
        // Neither the password nor a pass-through key's secret prints.
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("pem-pass"),
            "{shown}"
        );
        assert!(shown.contains("[redacted]"), "{shown}");

        assert_eq!(
            client_config(&kafka("[tls]\n"), &[]).get("security.protocol"),
            Some("ssl")
        );
        assert_eq!(
            client_config(&kafka(""), &[]).get("security.protocol"),
            Some("plaintext")
        );
        let plain = kafka("[sasl]\nmechanism = \"PLAIN\"\nusername = \"u\"\npassword = \"p\"\n");
        assert_eq!(
            client_config(&plain, &[]).get("security.protocol"),
            Some("sasl_plaintext")
        );
    }

    #[test]
    fn half_a_client_certificate_an_unknown_mechanism_or_an_empty_password_are_refused() {
        let e = kafka("[tls]\ncert_file = \"c.pem\"\n").validate().err();
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("needs output.tls.key_file")),
            "{e:?}"
        );
        let e = toml::from_str::<KafkaOutputConfig>(
            "brokers = \"b\"\n[sasl]\nmechanism = \"GSSAPI\"\nusername = \"u\"\npassword = \"p\"\n",
        )
        .err()
        .map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("GSSAPI") && e.contains("SCRAM-SHA-512")),
            "{e:?}"
        );
        let e = kafka("[sasl]\nmechanism = \"PLAIN\"\nusername = \"u\"\npassword = \"\"\n")
            .validate()
            .err();
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("must not be empty")),
            "{e:?}"
        );
    }
}
