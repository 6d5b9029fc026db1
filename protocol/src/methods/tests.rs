use serde_json::json;

use super::*;

#[test]
fn names_and_request_methods_are_unique() {
    for (i, spec) in METHODS.iter().enumerate() {
        assert_eq!(lookup(spec.name), Some(spec), "{} appears twice", spec.name);
        for other in &METHODS[i + 1..] {
            assert_ne!(spec.kind, other.kind, "{} and {}", spec.name, other.name);
        }
    }
    assert_eq!(lookup("logging/setLevel"), None);
    assert_eq!(lookup("resources/subscribe"), None);
    assert_eq!(
        lookup("TOOLS/LIST"),
        None,
        "method names are case-sensitive"
    );
}

#[test]
fn which_eras_have_what() {
    let has = |name: &str, era| lookup(name).is_some_and(|spec| spec.eras.include(era));
    for (name, legacy, modern) in [
        ("initialize", true, false),
        ("ping", true, false),
        ("server/discover", false, true),
        ("tools/call", true, true),
        ("completion/complete", true, true),
        ("notifications/initialized", true, false),
        ("notifications/cancelled", true, true),
    ] {
        assert_eq!(has(name, Era::Legacy), legacy, "{name}");
        assert_eq!(has(name, Era::Modern), modern, "{name}");
    }
}

#[test]
fn capabilities_caching_and_targets() {
    let spec = |name| lookup(name).copied().unwrap();
    assert_eq!(spec("initialize").needs, None);
    assert_eq!(spec("tools/list").needs, Some(Capability::Tools));
    assert_eq!(
        spec("resources/templates/list").needs,
        Some(Capability::Resources)
    );
    assert_eq!(spec("prompts/get").needs, Some(Capability::Prompts));
    assert_eq!(
        spec("completion/complete").needs.map(Capability::name),
        Some("completions")
    );
    let cacheable: Vec<&str> = METHODS
        .iter()
        .filter(|spec| spec.cacheable)
        .map(|spec| spec.name)
        .collect();
    assert_eq!(
        cacheable,
        [
            "server/discover",
            "tools/list",
            "resources/list",
            "resources/templates/list",
            "resources/read",
            "prompts/list"
        ]
    );
    let targets: Vec<(&str, &str)> = METHODS
        .iter()
        .filter_map(|spec| Some((spec.name, spec.target?.field())))
        .collect();
    assert_eq!(
        targets,
        [
            ("tools/call", "name"),
            ("resources/read", "uri"),
            ("prompts/get", "name")
        ]
    );
    assert!(
        METHODS
            .iter()
            .all(|spec| spec.request().is_some() || spec.target.is_none())
    );
}

#[test]
fn reads_the_target_from_params() {
    let call = lookup("tools/call").unwrap();
    let read = lookup("resources/read").unwrap();
    let list = lookup("tools/list").unwrap();
    let params = json!({"name": "greet", "uri": "test://doc"});
    assert_eq!(call.target_in(Some(&params)), Some("greet"));
    assert_eq!(read.target_in(Some(&params)), Some("test://doc"));
    assert_eq!(list.target_in(Some(&params)), None);
    assert_eq!(call.target_in(Some(&json!({"name": 5}))), None);
    assert_eq!(call.target_in(Some(&json!("greet"))), None);
    assert_eq!(call.target_in(None), None);
    assert_eq!(call.request(), Some(Method::ToolsCall));
    assert_eq!(lookup("notifications/cancelled").unwrap().request(), None);
}
