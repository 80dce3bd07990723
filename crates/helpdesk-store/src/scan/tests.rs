use super::*;

fn addr(s: &str) -> Result<ScannerAddr, ScannerAddrError> {
    s.parse()
}

#[test]
fn a_tcp_address_parses_and_displays_back() {
    let parsed = addr("clamd:127.0.0.1:3310").unwrap();
    assert_eq!(
        parsed.0,
        Endpoint::Tcp {
            host: "127.0.0.1".into(),
            port: 3310
        }
    );
    assert_eq!(parsed.to_string(), "clamd:127.0.0.1:3310");
    assert_eq!(
        addr("clamd:scanner.internal:3310").unwrap().to_string(),
        "clamd:scanner.internal:3310"
    );
}

#[test]
fn an_ipv6_host_goes_in_brackets() {
    let parsed = addr("clamd:[::1]:3310").unwrap();
    assert_eq!(
        parsed.0,
        Endpoint::Tcp {
            host: "::1".into(),
            port: 3310
        }
    );
    assert_eq!(parsed.to_string(), "clamd:[::1]:3310");
    let error = addr("clamd:::1:3310").unwrap_err().to_string();
    assert!(error.contains("brackets"), "{error}");
}

#[test]
fn a_unix_socket_address_parses_and_displays_back() {
    let parsed = addr("clamd:/run/clamav/clamd.ctl").unwrap();
    assert_eq!(parsed.0, Endpoint::Unix("/run/clamav/clamd.ctl".into()));
    assert_eq!(parsed.to_string(), "clamd:/run/clamav/clamd.ctl");
}

#[test]
fn a_bad_address_is_refused_naming_the_accepted_forms() {
    for bad in [
        "127.0.0.1:3310",
        "tcp:127.0.0.1:3310",
        "clamd:",
        "clamd:localhost",
        "clamd::3310",
        "clamd:localhost:0",
        "clamd:localhost:65536",
        "clamd:localhost:port",
        "clamd:relative/clamd.sock",
        "clamd:[::1:3310",
    ] {
        let error = addr(bad).unwrap_err().to_string();
        assert!(
            error.contains("clamd:HOST:PORT") && error.contains("clamd:/absolute/path"),
            "{bad}: {error}"
        );
        assert!(error.contains(&format!("{bad:?}")), "{bad}: {error}");
    }
}

#[test]
fn an_ok_reply_is_clean() {
    assert_eq!(parse_reply("stream: OK"), Reply::Clean);
    assert_eq!(verdict(Reply::Clean, 1).unwrap(), Verdict::Clean);
}

#[test]
fn a_found_reply_names_the_signature() {
    assert_eq!(
        parse_reply("stream: Win.Test.EICAR_HDB-1 FOUND"),
        Reply::Found("Win.Test.EICAR_HDB-1".into())
    );
    assert_eq!(
        verdict(
            parse_reply("stream: Helpdesk.Test.EICAR.UNOFFICIAL FOUND"),
            1
        )
        .unwrap(),
        Verdict::Infected {
            signature: "Helpdesk.Test.EICAR.UNOFFICIAL".into()
        }
    );
}

#[test]
fn extended_detection_info_is_not_part_of_the_signature() {
    assert_eq!(
        parse_reply("stream: Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68) FOUND"),
        Reply::Found("Win.Test.EICAR_HDB-1".into())
    );
    // Parentheses that are not hash:size stay in the name.
    assert_eq!(
        parse_reply("stream: Odd(Name) FOUND"),
        Reply::Found("Odd(Name)".into())
    );
}

#[test]
fn the_size_limit_reply_is_clamds_refusal() {
    let reply = parse_reply("INSTREAM size limit exceeded. ERROR");
    assert_eq!(reply, Reply::SizeLimit);
    assert!(matches!(
        verdict(reply, 42),
        Err(ScanError::ClamdLimit { told: 42 })
    ));
}

#[test]
fn an_error_reply_is_a_protocol_error_with_clamds_words() {
    let reply = parse_reply("stream: Can't allocate memory ERROR");
    assert_eq!(reply, Reply::Error("stream: Can't allocate memory".into()));
    let error = verdict(reply, 1).unwrap_err();
    assert!(error.is_unavailable());
    assert!(
        error.to_string().contains("Can't allocate memory"),
        "{error}"
    );
}

#[test]
fn anything_else_is_no_verdict() {
    for odd in ["", "PONG", "stream: ", "stream:  FOUND", "UNKNOWN COMMAND"] {
        assert!(
            matches!(parse_reply(odd), Reply::Unexpected(_)),
            "{odd:?}: {:?}",
            parse_reply(odd)
        );
    }
}

#[test]
fn size_refusals_are_about_the_file_not_clamd() {
    assert!(!ScanError::TooLarge { max: 1 }.is_unavailable());
    assert!(!ScanError::ClamdLimit { told: 1 }.is_unavailable());
    assert!(ScanError::Timeout(DEFAULT_TIMEOUT).is_unavailable());
}
