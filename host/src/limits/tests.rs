use super::*;
use crate::identity::User;

fn user(login: &str) -> Caller {
    Caller {
        user: Some(User {
            login: login.into(),
            display_name: login.into(),
            profile_pic_url: None,
        }),
        ..Caller::default()
    }
}

#[test]
fn per_caller_share_then_total() {
    let admission = Admission::new(3, 2, 2);
    assert_eq!(admission.in_flight(), 0);
    let a1 = admission.admit(&share_key(&user("a"))).unwrap();
    let _a2 = admission.admit(&share_key(&user("a"))).unwrap();
    assert_eq!(admission.in_flight(), 2);
    assert_eq!(
        admission.admit(&share_key(&user("a"))).err(),
        Some(Refused::CallerBusy)
    );
    let _b1 = admission.admit(&share_key(&user("b"))).unwrap();
    assert_eq!(
        admission.admit(&share_key(&user("c"))).err(),
        Some(Refused::Busy)
    );
    assert_eq!(admission.in_flight(), 3, "refusals take no place");
    drop(a1);
    assert_eq!(admission.in_flight(), 2);
    assert!(
        admission.admit(&share_key(&user("a"))).is_ok(),
        "a slot and a share freed"
    );
}

fn tagged(peer: Option<&str>, capabilities: serde_json::Value) -> Caller {
    Caller {
        capabilities: serde_json::from_value(capabilities).unwrap(),
        peer: peer.map(|p| p.parse().unwrap()),
        ..Caller::default()
    }
}

#[test]
fn share_keys() {
    struct Case {
        name: &'static str,
        a: Caller,
        b: Caller,
        same: bool,
    }
    let grant = |role: &str| serde_json::json!({"example.com/cap/x": [{"role": role}]});
    let cases = [
        Case {
            name: "same device, same grants",
            a: tagged(Some("100.64.0.1"), grant("ci")),
            b: tagged(Some("100.64.0.1"), grant("ci")),
            same: true,
        },
        Case {
            name: "same names, different grants",
            a: tagged(Some("100.64.0.1"), grant("ci")),
            b: tagged(Some("100.64.0.1"), grant("admin")),
            same: false,
        },
        Case {
            name: "same grants, different devices",
            a: tagged(Some("100.64.0.1"), grant("ci")),
            b: tagged(Some("100.64.0.2"), grant("ci")),
            same: false,
        },
        Case {
            name: "same grants, address known or not",
            a: tagged(Some("100.64.0.1"), grant("ci")),
            b: tagged(None, grant("ci")),
            same: false,
        },
        Case {
            name: "key order inside a grant does not matter",
            a: tagged(
                None,
                serde_json::from_str(r#"{"c/x":[{"a":1,"b":2}]}"#).unwrap(),
            ),
            b: tagged(
                None,
                serde_json::from_str(r#"{"c/x":[{"b":2,"a":1}]}"#).unwrap(),
            ),
            same: true,
        },
        Case {
            name: "a user is its login, wherever it connects from",
            a: user("a@b"),
            b: Caller {
                peer: Some("100.64.0.9".parse().unwrap()),
                ..user("a@b")
            },
            same: true,
        },
        Case {
            name: "a user is not a tagged device",
            a: user("a@b"),
            b: tagged(None, grant("ci")),
            same: false,
        },
    ];
    for case in cases {
        assert_eq!(
            share_key(&case.a) == share_key(&case.b),
            case.same,
            "{}: {} vs {}",
            case.name,
            share_key(&case.a),
            share_key(&case.b)
        );
    }
    assert_eq!(share_key(&Caller::default()), "anonymous");
    assert_eq!(share_key(&user("a@b")), "user:a@b");
    assert!(share_key(&tagged(Some("100.64.0.1"), grant("ci"))).starts_with("tagged:100.64.0.1:"));
}

#[test]
fn tagged_devices_have_separate_shares() {
    let admission = Admission::new(10, 1, 1);
    let ci = tagged(
        Some("100.64.0.1"),
        serde_json::json!({"c/x": [{"role": "ci"}]}),
    );
    let _held = admission.admit(&share_key(&ci)).unwrap();
    assert_eq!(
        admission.admit(&share_key(&ci)).err(),
        Some(Refused::CallerBusy)
    );
    let other = tagged(
        Some("100.64.0.2"),
        serde_json::json!({"c/x": [{"role": "ci"}]}),
    );
    assert!(admission.admit(&share_key(&other)).is_ok());
}

#[test]
fn budget_per_caller_then_total_and_given_back() {
    let budget = Budget::new(300, 200);
    let mut a = budget.reservation(&share_key(&user("a")));
    a.grow(150).unwrap();
    assert_eq!(a.grow(51), Err(Refused::CallerBusy), "a is over its share");
    let mut b = budget.reservation(&share_key(&user("b")));
    b.grow(100).unwrap();
    let mut c = budget.reservation(&share_key(&user("c")));
    assert_eq!(c.grow(51), Err(Refused::Busy), "the total is spent");
    c.grow(50).unwrap();
    drop(a);
    let mut a = budget.reservation(&share_key(&user("a")));
    a.grow(150).unwrap();
    drop((a, b, c));
    budget
        .reservation(&share_key(&user("d")))
        .grow(300)
        .unwrap_err();
    budget
        .reservation(&share_key(&user("d")))
        .grow(200)
        .unwrap();
}

#[test]
fn caller_share_is_at_least_one_body() {
    assert_eq!(Budget::caller_share(64 << 20, 1 << 20, 32, 128), 16 << 20);
    assert_eq!(Budget::caller_share(4 << 20, 1 << 20, 1, 128), 1 << 20);
    assert_eq!(Budget::caller_share(1 << 20, 1 << 20, 128, 128), 1 << 20);
}

#[test]
fn busy_slots_are_per_caller() {
    let admission = Admission::new(8, 8, 2);
    let a1 = admission.admit(&share_key(&user("a"))).unwrap();
    let a2 = admission.admit(&share_key(&user("a"))).unwrap();
    let b1 = admission.admit(&share_key(&user("b"))).unwrap();
    assert!(Arc::ptr_eq(&a1.busy_slots(), &a2.busy_slots()));
    assert!(!Arc::ptr_eq(&a1.busy_slots(), &b1.busy_slots()));
    let held = a1.busy_slots().try_acquire_many_owned(2).unwrap();
    assert!(
        a2.busy_slots().try_acquire_owned().is_err(),
        "a's are taken"
    );
    assert!(b1.busy_slots().try_acquire_owned().is_ok(), "b has its own");
    drop((a1, a2));
    drop(held);
    let again = admission.admit(&share_key(&user("a"))).unwrap();
    assert_eq!(again.busy_slots().available_permits(), 2, "a fresh share");
}
