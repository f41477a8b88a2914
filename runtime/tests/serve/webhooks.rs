//! Signed webhooks: the signature is checked, a message starts one run even when sent again
//! (across a restart), and a hook can answer with the run's output.

use super::*;

/// The Standard Webhooks headers of message `id` with `body`, signed now under `secret`.
fn signed(secret: &str, id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    sluice::trigger::webhook::headers(secret, id, body)
        .expect("a whsec_ secret")
        .to_vec()
}

impl Http {
    /// `POST /hooks/NAME` with `body` and `headers`.
    fn hook(&self, name: &str, body: &[u8], headers: &[(&str, String)]) -> (u16, Value) {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.send(
            "POST",
            &format!("/hooks/{name}"),
            Some(body.to_vec()),
            &headers,
        )
    }
}

/// A webhook-triggered workflow greeting `input.user`.
fn greet_hook(name: &str, respond: bool) -> String {
    format!(
        r#"
version: 1
name: {name}
trigger: {{ type: webhook, respond_with_output: {respond} }}
run_as: Read Only
steps:
  - id: shape
    uses: transform
    with: {{ greeting: "hello {{{{ input.user }}}}" }}
output: ${{steps.shape.output}}
"#
    )
}

#[test]
fn webhooks_need_the_right_signature_and_can_answer_with_the_output() {
    let s = Sluice::new();
    let admin = token(&s, "admin");
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    let hook = greet_hook;
    let (status, v) = api.post("/api/v1/workflows", &hook("greet", true));
    assert_eq!(status, 201, "{v}");
    let secret = v["webhook_secret"]
        .as_str()
        .expect("the signing secret, once")
        .to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(
        api.get("/api/v1/workflows/greet")
            .1
            .get("webhook_secret")
            .is_none()
    );
    let body = br#"{"user": "jsmith"}"#;
    let anon = Http::new(&server.url, None);

    let wrong = "whsec_c2VjcmV0LWtleS1vZi1hbm90aGVyLXdvcmtmbG93IQ==";
    let mut unsigned = signed(&secret, "m0", body);
    unsigned.retain(|(k, _)| *k != "webhook-signature");
    for headers in [
        vec![],
        unsigned,
        signed(&secret, "m0", body)
            .into_iter()
            .map(|(k, v)| match k {
                "webhook-signature" => (k, "v1,AAAA".to_owned()),
                _ => (k, v),
            })
            .collect(),
        signed(wrong, "m0", body),
    ] {
        let (status, v) = anon.hook("greet", body, &headers);
        assert_eq!(status, 401, "{v}");
        assert_eq!(v["error"]["code"], "BAD_SIGNATURE", "{v}");
    }
    assert!(
        api.runs_of("greet").is_empty(),
        "no run for a bad signature"
    );

    let (status, v) = anon.hook("greet", body, &signed(&secret, "m1", body));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v, json!({"greeting": "hello jsmith"}));
    assert_eq!(api.runs_of("greet").len(), 1, "exactly one run");
    // A tampered body with a signature of the original is refused.
    let (status, _) = anon.hook(
        "greet",
        br#"{"user": "root"}"#,
        &signed(&secret, "m2", body),
    );
    assert_eq!(status, 401);
    assert_eq!(api.runs_of("greet").len(), 1);
    // A new version answers at once; a disabled workflow answers as a bad signature does;
    // enabled again, it answers (the service keeps decoded workflows only until the next
    // change).
    let (status, v) = api.put(
        "/api/v1/workflows/greet",
        &hook("greet", true).replace("hello", "welcome"),
    );
    assert_eq!(status, 200, "{v}");
    let call = |id: &str| anon.hook("greet", body, &signed(&secret, id, body));
    assert_eq!(call("m3"), (200, json!({"greeting": "welcome jsmith"})));
    assert_eq!(api.post("/api/v1/workflows/greet/disable", "").0, 200);
    assert_eq!(call("m4").0, 401);
    assert_eq!(api.post("/api/v1/workflows/greet/enable", "").0, 200);
    assert_eq!(call("m5").0, 200);
    assert_eq!(api.runs_of("greet").len(), 3);

    // Accept-and-return mode: 202 with the run id.
    let (_, v) = api.post("/api/v1/workflows", &hook("greet-async", false));
    let secret2 = v["webhook_secret"].as_str().unwrap().to_owned();
    let (status, v) = anon.hook("greet-async", body, &signed(&secret2, "a1", body));
    assert_eq!(status, 202, "{v}");
    let done = api.finished(v["run_id"].as_str().unwrap());
    assert_eq!(done["run"]["output"], json!({"greeting": "hello jsmith"}));
    assert_eq!(done["run"]["trigger"]["webhook_id"], "a1");

    // Rotation: the old secret stops working.
    let (status, v) = api.post("/api/v1/workflows/greet-async/webhook-secret", "");
    assert_eq!(status, 200);
    assert_ne!(v["webhook_secret"].as_str().unwrap(), secret2);
    assert_eq!(
        anon.hook("greet-async", body, &signed(&secret2, "a2", body))
            .0,
        401
    );
    assert_eq!(
        api.post("/api/v1/workflows/greet/webhook-secret", "").0,
        200
    );
    assert_eq!(
        anon.hook("nope", body, &signed(&secret2, "a3", body)).0,
        401
    );
    server.stop();
}

// ---- Webhook replay protection and the HTTP listener's limits ----

#[test]
fn a_signed_webhook_message_starts_one_run_even_when_sent_again_after_a_restart() {
    let s = Sluice::new();
    let admin = token(&s, "admin");
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    let (status, v) = api.post("/api/v1/workflows", &greet_hook("echo", false));
    assert_eq!(status, 201, "{v}");
    let secret = v["webhook_secret"].as_str().unwrap().to_owned();
    let manual = "version: 1\nname: by-hand\ntrigger: { type: manual }\nrun_as: Read Only\n\
                  steps:\n  - id: a\n    uses: transform\n    with: { a: 1 }\n";
    assert_eq!(api.post("/api/v1/workflows", manual).0, 201);
    let anon = Http::new(&server.url, None);
    let body = br#"{"user": "jsmith"}"#;

    // A captured message sent again starts nothing.
    let captured = signed(&secret, "msg_1", body);
    let (status, v) = anon.hook("echo", body, &captured);
    assert_eq!(status, 202, "{v}");
    let (status, v) = anon.hook("echo", body, &captured);
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["error"]["code"], "WEBHOOK_REPLAYED", "{v}");
    assert_eq!(api.runs_of("echo").len(), 1);

    // Several signatures (a sender rotating keys): one right one is enough.
    let mut rotating = signed(&secret, "msg_2", body);
    rotating[2].1 = format!("v1,bm90IHRoaXMgb25l {}", rotating[2].1);
    assert_eq!(anon.hook("echo", body, &rotating).0, 202);

    // Signed right but outside the 5 minute tolerance, either way.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for ts in [now - 301, now + 301] {
        let sig = sluice::trigger::webhook::sign(&secret, "msg_3", ts, body).unwrap();
        let headers = [
            ("webhook-id", "msg_3".to_owned()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", sig),
        ];
        let (status, v) = anon.hook("echo", body, &headers);
        assert_eq!(status, 401, "{v}");
        assert_eq!(
            v["error"]["code"], "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE",
            "{v}"
        );
    }

    // A name with no webhook workflow gets the bad signature's answer, word for word.
    let bad = anon.hook("echo", body, &signed(&secret, "msg_4", b"{}"));
    assert_eq!(bad.0, 401, "{}", bad.1);
    for name in ["no-such-workflow", "by-hand"] {
        assert_eq!(anon.hook(name, body, &captured), bad, "{name}");
        assert_eq!(anon.hook(name, body, &[]), bad, "{name}");
    }
    assert_eq!(api.runs_of("echo").len(), 2);
    server.stop();

    // The ids outlive the process: after a restart the captured message still starts
    // nothing, and a new one does.
    let server = Server::start(&s, &[]);
    let api = Http::new(&server.url, Some(&admin));
    let anon = Http::new(&server.url, None);
    let (status, v) = anon.hook("echo", body, &captured);
    assert_eq!(status, 409, "{v}");
    assert_eq!(
        anon.hook("echo", body, &signed(&secret, "msg_5", body)).0,
        202
    );
    assert_eq!(api.runs_of("echo").len(), 3);
    server.stop();
}
