//! The key reader's and the signatures' tests: certificates, one-line PEM, the
//! providers' published vectors (Freshchat's via nyaruka/courier, SendGrid's SDK
//! vector) and a sign-verify round trip.

use super::*;

// Self-signed test certificates made with `openssl req -x509` (RSA 2048, whose
// modulus starts 0xd38d, and P-256, whose point starts 04c7b9).
pub const RSA_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIDETCCAfmgAwIBAgIUaAma++9ieCh4iiqbQ6lQVnhOI4IwDQYJKoZIhvcNAQEL
BQAwGDEWMBQGA1UEAwwNaG9va2dhdGUtdGVzdDAeFw0yNjEyMDMwOTA2NTlaFw0z
NjExMzAwOTA2NTlaMBgxFjAUBgNVBAMMDWhvb2tnYXRlLXRlc3QwggEiMA0GCSqG
SIb3DQEBAQUAA4IBDwAwggEKAoIBAQDTjSBkLdomiQ9DagSiQyBpa0fRcVK6JNgS
ug5bgRRFvESQTt8L9jkVnPIjeYfUjipKk64gF7iH9RZdw5mbXwBvnwlueKAvM9iG
6Q5/1WAMdPAe9mk0i3nYeK7fM94hBJ6oGbVQ5E8EE/SNHU4OPuSOK69VFLbaEOaM
BBYetQCQh3vIg0lhbW3KyyaDJHFSYH7cR3t4rjy4VaecwFdFRUY0lKqRsrTo20Ko
xYqdfx73Jt5T+k5ziR90EWmcSJRR1YPfdqxJIjncsfV99GzQEV8dQy7+IUrG7iXc
1cB88FwPMLVNLJ3bZ0fZskqT8lLmJtM/fNGvQfkwOuuwX6c7b9O7AgMBAAGjUzBR
MB0GA1UdDgQWBBROQba7z8XoqzsrEoMw/4pv8EvwKDAfBgNVHSMEGDAWgBROQba7
z8XoqzsrEoMw/4pv8EvwKDAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUA
A4IBAQCiWAkhSKIi+ATjRRfiDBV4glZvBTKcH8xHYmybIj9bQGof7zG2bvSFHXTt
8mFjCKGcc3cHCQExzynu+uKNuvoxjoaNPvb6I1Xtpfe/6DEBiQljFfUWvzgSfRR8
Iv6JBDYhAK1MV2DX6YUhKVkDV8MnLVUMyS/vZgoiI0Gz4JYUd8ZjJ2TGTCplpQMr
qGKJ2CGjgUmCiEAHkWvwgTf/LknOEoZ672yW0QzY1rtiKgluWSzbTxIzQJos94Iz
Dl8h/Jc4Je2zgcAeCELalRHDVd0wld9FMqqndUfGfVnP2hPcs5I5qtHa2iMTH96E
MGC8u+jXKvVexZOquChbR49XDVph
-----END CERTIFICATE-----";
pub const EC_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBgTCCASegAwIBAgIUJUqYXfMPt4ZEtnVCk/zsam2jIF0wCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLaG9va2dhdGUtZWMwHhcNMjYxMjAzMDkwNzAwWhcNMzYxMTMw
MDkwNzAwWjAWMRQwEgYDVQQDDAtob29rZ2F0ZS1lYzBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABMe5aXrBkl3A1ruxdJgpQ8S4IWFdoqExrvL+7z6WyJ2jFj20G2kn
rcXQm6kwhK5ge1AaK7zbA+l22izFflpKWPOjUzBRMB0GA1UdDgQWBBToQazUZBQ7
GXDAe4FMf8eKZeW6yTAfBgNVHSMEGDAWgBToQazUZBQ7GXDAe4FMf8eKZeW6yTAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIGB1u0qi405JbMFRdY2N
EJelt+PkV4mQLhqpXkz1kixiAiEA9yFHAZqFPmX93aGGqKY5zqp14RxzVe9PUFPA
JWloOr4=
-----END CERTIFICATE-----";

/// nyaruka/courier `handlers/freshchat/handler_test.go`: a Freshchat key as the
/// Freshchat admin shows it, one line, labelled `RSA PUBLIC KEY`.
pub const FRESHCHAT_KEY: &str = "-----BEGIN RSA PUBLIC KEY----- MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuGJLF4hTTtxWogT6dNkGf3CEgLAR2mGJzlds5cNbrHFoJNFnmVhkRYGzLYxx4EtDiezNCZVHfyMI2AKuNSQW2fEdDatVIG+q3Zr/X9eeDl8kQOGy804J/fgCYDrN8RQu0n5Dh1inv4puca0wb29SCvoAwrWb33ehDBIvv6+rUKBdjtv2xTV65kNiVDo5VRCaYRVeE10osxeONgw55HVY4nczuxnR+dmc2282de6WHe5LXtr0ZBdJ8yttFOLIluZ/sNM5DIWZBkIWQhyT581tbA7bTpsIbrT/IMBlmioIILw8WGtI7zcmNkjU5dnq5HnlVKEDhj/Ug/dLiyno8+Vp7QIDAQAB -----END RSA PUBLIC KEY-----";
pub const FRESHCHAT_SIGNATURE: &str = "AhrmypOSWoewHG6LmIRuWjxyokuMDmPklrSU9p0gpUNjdSRCJzvpL6rjuTi5poV/ZLzWRWNM7X9yWjT5m9YFPshYrvigcd1ph4Ot2xmaJGYoUNJHijQccE6oDtDIp6i/8oLRafHgObQnGukZWPbP9OE5EiKz/VcsMP0Wv7hawI/sfIviM0w+6fNOKXWi0jDBH9ap1mj5CqOUOojni7OD5iYmIrjV/h33dyNmbvAta9E+trzcEhYqxfHIN4Z8R2FsatfRHWicoQ4PE5cQ8+UONVya8qr85nQ9w8N7Ql7yNg9fEViYG4/W/JnGEbPPEf8WrYtKzoVyuupDz4mVHdfKWg==";
pub const FRESHCHAT_BODY: &str = r#"{"actor":{"actor_type":"user","actor_id":"882f3926-b292-414b-a411-96380db373cd"},"action":"message_create","action_time":"2019-06-21T17:43:20.875Z","data":{"message":{"message_parts":[{"text":{"content":"Test 2"}}],"app_id":"55b190fa-5d3c-45c4-bc49-74ddcfcf53d7","actor_id":"882f3926-b292-414b-a411-96380db373cd","id":"7a454fde-c720-4c97-a61d-0ffe70449eb6","channel_id":"c8fddfaf-622a-4a0e-b060-4f3ccbeab606","conversation_id":"c327498e-f713-481e-8d83-0603e03d2521","message_type":"normal","actor_type":"user","created_time":"2019-06-21T17:43:20.866Z"}}}"#;

/// sendgrid-python `test/unit/test_eventwebhook.py` (the same vector is in the
/// other SendGrid SDKs): base64 DER key, signature over timestamp + payload.
pub const SENDGRID_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";
pub const SENDGRID_SIGNATURE: &str = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=";
pub const SENDGRID_TIMESTAMP: &str = "1600112502";
pub const SENDGRID_PAYLOAD: &str = "[{\"email\":\"hello@world.com\",\"event\":\"dropped\",\"reason\":\"Bounced Address\",\"sg_event_id\":\"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA\",\"sg_message_id\":\"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0\",\"smtp-id\":\"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>\",\"timestamp\":1600112492}]\r\n";

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap_or_default()
}

#[test]
fn a_certificate_yields_its_subjects_key() {
    let Ok(key) = AsymmetricKey::parse(RSA_CERT) else {
        panic!("{:?}", AsymmetricKey::parse(RSA_CERT));
    };
    let (n, e) = key.rsa_components().unwrap_or_default();
    assert_eq!(
        (n.len(), &n[..2], e),
        (256, &[0xd3u8, 0x8d][..], vec![1, 0, 1])
    );
    let point = AsymmetricKey::parse(EC_CERT)
        .ok()
        .and_then(|k| k.ec_point())
        .unwrap_or_default();
    assert_eq!((point.len(), &point[..3]), (65, &[0x04, 0xc7, 0xb9][..]));
}

#[test]
fn freshchats_published_vector_verifies_and_a_changed_body_does_not() {
    let key = AsymmetricKey::parse(FRESHCHAT_KEY);
    assert!(matches!(key, Ok(AsymmetricKey::Rsa(_))), "{key:?}");
    let key = key.unwrap_or_else(|_| unreachable!());
    let sig = b64(FRESHCHAT_SIGNATURE);
    assert!(key.verify(FRESHCHAT_BODY.as_bytes(), &sig));
    assert!(!key.verify(FRESHCHAT_BODY.replace("Test 2", "Test 3").as_bytes(), &sig));
}

#[test]
fn sendgrids_published_vector_verifies_and_a_changed_timestamp_does_not() {
    let key = AsymmetricKey::parse(SENDGRID_KEY);
    assert!(matches!(key, Ok(AsymmetricKey::EcP256(_))), "{key:?}");
    let key = key.unwrap_or_else(|_| unreachable!());
    let sig = b64(SENDGRID_SIGNATURE);
    let signed = format!("{SENDGRID_TIMESTAMP}{SENDGRID_PAYLOAD}");
    assert!(key.verify(signed.as_bytes(), &sig));
    assert!(!key.verify(format!("1600112503{SENDGRID_PAYLOAD}").as_bytes(), &sig));
    // The SDK's own "bad signature" case.
    let bad = b64("MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0=");
    assert!(!key.verify(signed.as_bytes(), &bad));
}

#[test]
fn signing_round_trips_for_both_kinds() {
    // The fixtures' throwaway keys, their public halves derived here.
    let rsa_pem = include_str!("../../fixtures/keys/fixture-rsa.pem");
    let ec_pem = include_str!("../../fixtures/keys/fixture-ec.pem");
    let rsa_public =
        rsa::RsaPrivateKey::from_pkcs1_pem(rsa_pem).map(|k| AsymmetricKey::Rsa(k.to_public_key()));
    let ec_public = p256::ecdsa::SigningKey::from_pkcs8_pem(ec_pem)
        .map(|k| AsymmetricKey::EcP256(*k.verifying_key()));
    for (private, public) in [(rsa_pem, rsa_public.ok()), (ec_pem, ec_public.ok())] {
        let key = public.unwrap_or_else(|| panic!("{private}"));
        let sig = sign_pem(private, b"1700000000{}").unwrap_or_default();
        assert!(key.verify(b"1700000000{}", &sig));
        assert!(!key.verify(b"1700000001{}", &sig));
    }
}

#[test]
fn garbage_short_keys_and_other_labels_are_refused() {
    assert!(AsymmetricKey::parse("not a key").is_err());
    assert!(
        AsymmetricKey::parse("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
            .is_err_and(|e| e.contains("not a public key"))
    );
    assert!(
        AsymmetricKey::parse("-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----").is_err()
    );
    // RSA 1024, from `openssl genrsa 1024`.
    let short = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCmLwi3I3gwX5FYwbHELRqesSyECAvtAhZAQOUnLOto2ZGmOB8ui0jAXzDF+q4WIiO4B6zmEwy9wjg5Yt0QzxcFQVXOCOw6Ff2gKmV2h8kzWiH2167vR3AMpKPXK3CqNR+WUqYdsBKdN70u2ZpayEQY9OZJ94rnniotsQc4ZmAJ3wIDAQAB";
    assert!(
        AsymmetricKey::parse(short).is_err_and(|e| e.contains("too short")),
        "{:?}",
        AsymmetricKey::parse(short)
    );
}
