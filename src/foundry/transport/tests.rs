use super::*;

fn cfg() -> TransportConfig {
    TransportConfig {
        max_attempts: 5,
        max_elapsed: Duration::from_secs(30),
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(2),
        ..TransportConfig::default()
    }
}

#[test]
fn the_in_flight_limit_is_at_least_the_executor_parallelism_and_never_below_the_default() {
    let default = TransportConfig::default().max_in_flight;
    assert_eq!(TransportConfig::for_parallelism(1).max_in_flight, default);
    assert_eq!(TransportConfig::for_parallelism(8).max_in_flight, default);
    assert_eq!(TransportConfig::for_parallelism(64).max_in_flight, 64);
    assert_eq!(
        TransportConfig::for_parallelism(64).max_attempts,
        TransportConfig::default().max_attempts,
        "only the in-flight limit differs from the defaults"
    );
}

#[test]
fn refused_connections_give_up_after_a_few_tries_not_the_whole_budget() {
    let not_sent = AttemptOutcome::NotSent("connection refused".into());
    let cfg = TransportConfig::default();
    assert!(matches!(
        decide(&not_sent, IDEM, 2, 2, Duration::ZERO, &cfg, 0.5),
        Decision::Retry(_)
    ));
    assert_eq!(
        decide(&not_sent, IDEM, 3, 3, Duration::ZERO, &cfg, 0.5),
        Decision::GiveUp
    );
    // Busy answers in between are not connection failures: the full budget applies.
    assert!(matches!(
        decide(&status(503), IDEM, 5, 0, Duration::ZERO, &cfg, 0.5),
        Decision::Retry(_)
    ));
}

const IDEM: Idempotency = Idempotency::Idempotent;
const NON: Idempotency = Idempotency::NonIdempotent;

fn status(code: u16) -> AttemptOutcome {
    AttemptOutcome::Status(StatusCode::from_u16(code).unwrap(), None)
}

#[test]
fn transient_statuses_and_connection_failures_are_retried() {
    for code in [429, 500, 502, 503, 504] {
        assert!(
            matches!(
                decide(&status(code), IDEM, 1, 0, Duration::ZERO, &cfg(), 0.5),
                Decision::Retry(_)
            ),
            "{code}"
        );
    }
    let not_sent = AttemptOutcome::NotSent("refused".into());
    assert!(matches!(
        decide(&not_sent, NON, 1, 1, Duration::ZERO, &cfg(), 0.5),
        Decision::Retry(_)
    ));
    for code in [200, 400, 401, 403, 404, 409] {
        assert_eq!(
            decide(&status(code), IDEM, 1, 0, Duration::ZERO, &cfg(), 0.5),
            Decision::Return,
            "{code}"
        );
    }
}

#[test]
fn a_write_that_may_have_happened_is_never_repeated_blindly() {
    let dropped = AttemptOutcome::NoAnswer("connection reset".into());
    assert_eq!(
        decide(&dropped, NON, 1, 0, Duration::ZERO, &cfg(), 0.5),
        Decision::Unknown
    );
    for code in [500, 502, 504] {
        assert_eq!(
            decide(&status(code), NON, 1, 0, Duration::ZERO, &cfg(), 0.5),
            Decision::Unknown,
            "{code}"
        );
    }
    // The server said it did nothing: safe to repeat even a create.
    for code in [429, 503] {
        assert!(
            matches!(
                decide(&status(code), NON, 1, 0, Duration::ZERO, &cfg(), 0.5),
                Decision::Retry(_)
            ),
            "{code}"
        );
    }
    // Reads and idempotent writes are simply repeated.
    assert!(matches!(
        decide(&dropped, IDEM, 1, 0, Duration::ZERO, &cfg(), 0.5),
        Decision::Retry(_)
    ));
}

#[test]
fn attempts_and_total_time_are_bounded() {
    assert_eq!(
        decide(&status(503), IDEM, 5, 0, Duration::ZERO, &cfg(), 0.5),
        Decision::GiveUp
    );
    let asks_too_long =
        AttemptOutcome::Status(StatusCode::TOO_MANY_REQUESTS, Some(Duration::from_secs(31)));
    assert_eq!(
        decide(&asks_too_long, IDEM, 1, 0, Duration::ZERO, &cfg(), 0.5),
        Decision::GiveUp
    );
    assert_eq!(
        decide(
            &status(503),
            IDEM,
            2,
            0,
            Duration::from_secs(30),
            &cfg(),
            0.5
        ),
        Decision::GiveUp
    );
}

#[test]
fn retry_after_replaces_the_computed_backoff() {
    let asks = AttemptOutcome::Status(StatusCode::TOO_MANY_REQUESTS, Some(Duration::from_secs(7)));
    assert_eq!(
        decide(&asks, IDEM, 1, 0, Duration::ZERO, &cfg(), 0.0),
        Decision::Retry(Duration::from_secs(7))
    );
}

#[test]
fn backoff_is_full_jitter_under_a_doubling_cap() {
    let c = cfg();
    assert_eq!(backoff(1, &c, 1.0), Duration::from_millis(100));
    assert_eq!(backoff(3, &c, 1.0), Duration::from_millis(400));
    assert_eq!(backoff(3, &c, 0.5), Duration::from_millis(200));
    assert_eq!(backoff(3, &c, 0.0), Duration::ZERO);
    assert_eq!(backoff(30, &c, 1.0), Duration::from_secs(2));
}

#[test]
fn retry_after_reads_seconds_dates_and_milliseconds() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut h = HeaderMap::new();
    h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
    assert_eq!(retry_after(&h, now), Some(Duration::from_secs(3)));
    let date = httpdate::fmt_http_date(now + Duration::from_secs(5));
    h.insert(RETRY_AFTER, HeaderValue::from_str(&date).unwrap());
    assert_eq!(retry_after(&h, now), Some(Duration::from_secs(5)));
    let past = httpdate::fmt_http_date(now - Duration::from_secs(5));
    h.insert(RETRY_AFTER, HeaderValue::from_str(&past).unwrap());
    assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
    h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
    assert_eq!(retry_after(&h, now), None);
    h.insert("retry-after-ms", HeaderValue::from_static("250"));
    assert_eq!(retry_after(&h, now), Some(Duration::from_millis(250)));
}

#[test]
fn only_loopback_hosts_count_as_local() {
    for url in [
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "http://[::1]:9/x",
        "http://127.3.4.5/",
    ] {
        assert!(is_loopback(&Url::parse(url).unwrap()), "{url}");
    }
    for url in [
        "http://10.0.0.1/",
        "http://example.com/",
        "http://localhost.example.com/",
    ] {
        assert!(!is_loopback(&Url::parse(url).unwrap()), "{url}");
    }
}

#[test]
fn logs_never_show_the_token() {
    let mut h = HeaderMap::new();
    h.insert(
        AUTHORIZATION,
        HeaderValue::from_static("Bearer secret-token"),
    );
    h.insert(
        "foundry-features",
        HeaderValue::from_static("MemoryStores=V1Preview"),
    );
    let text = redacted(&h);
    assert!(!text.contains("secret-token"));
    assert!(text.contains("authorization: <redacted>"));
    assert!(text.contains("foundry-features: MemoryStores=V1Preview"));
}
