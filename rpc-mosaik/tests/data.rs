//! mosaik's per-step data ([`InputData`], [`OutputRequest`], [`OutputData`]) and the other
//! types, against the JSON mosaik sends and reads: every field kept, unknown ones too, and
//! what malformed data gets.

use rpc_mosaik::rpc_core::Codec;
use rpc_mosaik::*;
use serde_json::json;

/// Decodes with the codec mosaik's connection uses.
fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
    Codec::json()
        .decode(json.as_bytes())
        .map_err(|e| e.to_string())
}

#[test]
fn inputs_decode_in_mosaiks_order_with_every_value() {
    let inputs: InputData = decode(
        r#"{"B": {"x": {"S-0.a": 1, "S-0.b": 2.5}, "y": {"S-0.a": "text"}},
            "A": {"x": {"S-1.c": null}},
            "C": {}}"#,
    )
    .unwrap();
    assert_eq!(inputs.len(), 3);
    let flat: Vec<(&str, &str, &str, Value)> = inputs
        .inputs()
        .map(|i| (i.eid, i.attr, i.src, i.value.clone()))
        .collect();
    assert_eq!(
        flat,
        [
            ("B", "x", "S-0.a", Value::from(1)),
            ("B", "x", "S-0.b", Value::from(2.5)),
            ("B", "y", "S-0.a", Value::from("text")),
            ("A", "x", "S-1.c", Value::Nil),
        ]
    );
    let b = inputs.get("B").unwrap();
    assert_eq!(b.eid(), "B");
    assert_eq!(b.attrs().map(|a| a.name()).collect::<Vec<_>>(), ["x", "y"]);
    assert_eq!(b.get("x").unwrap().len(), 2);
    assert_eq!(b.get("x").unwrap().get("S-0.b"), Some(&Value::from(2.5)));
    assert_eq!(inputs.get("C").unwrap().attrs().len(), 0);
    assert!(inputs.get("D").is_none());
    // Sums keep the number type; values of another type are left out.
    assert_eq!(inputs.sum::<f64>("B", "x"), Some(3.5));
    assert_eq!(
        inputs.sum::<i64>("B", "x"),
        Some(1),
        "2.5 is not an integer"
    );
    assert_eq!(inputs.sum::<i64>("B", "y"), None);
    assert_eq!(sum_inputs::<u8>(&inputs, "A", "x"), None);
    // Back to the same JSON.
    let again = serde_json::to_value(&inputs).unwrap();
    assert_eq!(
        again,
        json!({"B": {"x": {"S-0.a": 1, "S-0.b": 2.5}, "y": {"S-0.a": "text"}},
               "A": {"x": {"S-1.c": null}}, "C": {}})
    );
}

#[test]
fn an_entity_sent_twice_is_kept_twice_and_found_first() {
    let inputs: InputData =
        decode(r#"{"A": {"x": {"s": 1}}, "B": {"x": {"s": 2}}, "A": {"x": {"s": 3}}}"#).unwrap();
    assert_eq!(inputs.len(), 3);
    assert_eq!(inputs.sum::<i64>("A", "x"), Some(1));
    assert_eq!(inputs.iter().filter(|e| e.eid() == "A").count(), 2);
}

#[test]
fn malformed_inputs_say_what_was_expected() {
    let e = decode::<InputData>(r#"[1, 2]"#).unwrap_err();
    assert!(e.contains("mosaik's inputs"), "{e}");
    let e = decode::<InputData>(r#"{"A": [1]}"#).unwrap_err();
    assert!(e.contains("a map of attributes"), "{e}");
    let e = decode::<InputData>(r#"{"A": {"x": 5}}"#).unwrap_err();
    assert!(e.contains("a map of source full ids to values"), "{e}");
    let e = decode::<OutputRequest>(r#"{"A": "x"}"#).unwrap_err();
    assert!(e.contains("a list of attribute names"), "{e}");
    let e = decode::<OutputRequest>(r#"{"A": [1]}"#).unwrap_err();
    assert!(e.contains("a string"), "{e}");
}

#[test]
fn many_look_ups_use_one_index() {
    let n = 5000;
    let mut text = String::from("{");
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!("\"E_{i}\": {{\"in\": {{\"K-0.K_0\": {i}}}}}"));
    }
    text.push('}');
    let inputs: InputData = decode(&text).unwrap();
    for i in (0..n).rev() {
        assert_eq!(inputs.sum::<i64>(&format!("E_{i}"), "in"), Some(i));
    }
    assert!(inputs.get("E_5000").is_none());
}

#[test]
fn inputs_built_by_insert_group_by_entity_and_attribute() {
    let mut inputs = InputData::new();
    inputs.insert("A", "x", "s1", 1);
    inputs.insert("B", "x", "s1", 2);
    inputs.insert("A", "y", "s1", 3);
    inputs.insert("A", "x", "s2", 4);
    inputs.insert("A", "x", "s1", 5); // replaces
    let json = serde_json::to_value(&inputs).unwrap();
    assert_eq!(
        json,
        json!({"A": {"x": {"s1": 5, "s2": 4}, "y": {"s1": 3}}, "B": {"x": {"s1": 2}}})
    );
    let decoded: InputData = decode(&json.to_string()).unwrap();
    assert_eq!(decoded, inputs);
}

#[test]
fn outputs_group_by_entity_however_they_are_inserted() {
    let mut out = OutputData::new();
    out.insert("A", "x", 1);
    out.insert("B", "x", 2);
    out.insert("A", "y", 3); // A again, after B
    out.insert("B", "x", 4); // replaces
    out.time = Some(7);
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({"A": {"x": 1, "y": 3}, "B": {"x": 4}, "time": 7})
    );
    let text = serde_json::to_string(&out).unwrap();
    assert!(
        text.find("\"A\"") < text.find("\"B\"") && text.matches("\"A\"").count() == 1,
        "{text}"
    );
    assert_eq!(out.get("A", "y"), Some(&Value::from(3)));
    assert_eq!(out.len(), 2);
    let back: OutputData = decode(&text).unwrap();
    assert_eq!(back, out);
    // An integer stays an integer, and NaN is written as Python writes it.
    let mut out = OutputData::new();
    out.insert("C", "n", 105_i64);
    out.insert("C", "f", f64::NAN);
    let bytes = Codec::json().encode(&out).unwrap();
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        r#"{"C": {"n": 105, "f": NaN}}"#
    );
}

#[test]
fn output_requests_keep_mosaiks_order() {
    let req: OutputRequest = decode(r#"{"B": ["y", "x"], "A": [], "C": ["x"]}"#).unwrap();
    let got: Vec<(&str, Vec<&str>)> = req.iter().map(|(e, a)| (e, a.collect())).collect();
    assert_eq!(
        got,
        [("B", vec!["y", "x"]), ("A", vec![]), ("C", vec!["x"])]
    );
    assert_eq!((req.len(), req.attr_count()), (3, 3));
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"B": ["y", "x"], "A": [], "C": ["x"]})
    );
}

#[test]
fn related_entities_keep_the_simulator_and_unknown_fields() {
    // What mosaik 3.6 and 3.7 send for get_related_entities(), plus a field of a future one.
    let graph: EntityGraph = decode(
        r#"{"nodes": {"Grid-0.Bus_0": {"sid": "Grid-0", "type": "Bus", "voltage_level": "mv"},
                      "PV-0.PV_0": {"sid": "PV-0", "type": "PV"}},
            "edges": [["Grid-0.Bus_0", "PV-0.PV_0", {"weight": 1}]],
            "version": 2}"#,
    )
    .unwrap();
    let bus = &graph.nodes["Grid-0.Bus_0"];
    assert_eq!(
        (bus.sid.as_deref(), bus.model.as_str()),
        (Some("Grid-0"), "Bus")
    );
    assert_eq!(bus.extra["voltage_level"], Value::from("mv"));
    assert_eq!(graph.edges[0].2["weight"], Value::from(1));
    assert_eq!(graph.extra["version"], Value::from(2));
    assert_eq!(
        serde_json::to_value(&graph).unwrap(),
        json!({"nodes": {"Grid-0.Bus_0": {"sid": "Grid-0", "type": "Bus", "voltage_level": "mv"},
                         "PV-0.PV_0": {"sid": "PV-0", "type": "PV"}},
               "edges": [["Grid-0.Bus_0", "PV-0.PV_0", {"weight": 1}]],
               "version": 2})
    );
    // An older mosaik's node without a sid.
    let spec: EntitySpec = decode(r#"{"type": "PV"}"#).unwrap();
    assert_eq!(spec.sid, None);
    let e = decode::<EntitySpec>(r#"{"sid": "PV-0"}"#).unwrap_err();
    assert!(e.contains("type"), "{e}");
}

#[test]
fn meta_and_create_results_keep_unknown_fields() {
    let meta: Meta = decode(
        r#"{"api_version": "3.0", "type": "hybrid", "set_events": true,
            "models": {"M": {"public": true, "params": [], "attrs": ["a"], "trigger": ["a"], "doc": "x"}}}"#,
    )
    .unwrap();
    assert_eq!(meta.sim_type, SimType::Hybrid);
    assert_eq!(meta.extra["set_events"], Value::from(true));
    assert_eq!(meta.models["M"].extra["doc"], Value::from("x"));
    let json = serde_json::to_value(&meta).unwrap();
    assert_eq!(json["set_events"], json!(true));
    assert_eq!(json["models"]["M"]["doc"], json!("x"));
    let created: CreateResult =
        decode(r#"{"eid": "e", "type": "M", "rel": ["f"], "extra_info": {"k": 1}, "tag": 3}"#)
            .unwrap();
    assert_eq!(created.extra["tag"], Value::from(3));
    assert_eq!(
        serde_json::to_value(&created).unwrap(),
        json!({"eid": "e", "type": "M", "rel": ["f"], "extra_info": {"k": 1}, "tag": 3})
    );
}

#[test]
fn params_parse_into_a_struct_with_pythons_wording() {
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct P {
        n: u32,
        #[serde(default)]
        name: Option<String>,
    }
    let ok: P = Params::from_iter([("n", 3)]).parse().unwrap();
    assert_eq!(ok.n, 3);
    let e = Params::new().parse::<P>().unwrap_err();
    assert_eq!(
        (e.kind(), e.message()),
        ("TypeError", "missing required parameter 'n'")
    );
    let e = Params::from_iter([("n", Value::from(3)), ("colour", Value::from("red"))])
        .parse::<P>()
        .unwrap_err();
    assert_eq!(e.message(), "got an unexpected keyword argument 'colour'");
    let e = Params::from_iter([("n", -1)]).parse::<P>().unwrap_err();
    assert_eq!(
        e.message(),
        "parameter 'n': invalid value: integer `-1`, expected u32"
    );
}
