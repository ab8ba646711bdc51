//! Codecs: byte-exact against frames captured from real aiomas 2.0.1 peers, and their edges.

use rpc_core::wire::codec::MessageKind;
use rpc_core::{Codec, CodecError, Custom, NoKwargs, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::unhex;

const VECTORS: &str = include_str!("../../data/vectors.json");

/// Stands in for aiomas's proxy serializer, which takes typeid 0 on an RPC connection.
struct ProxyTypeSlot;

fn codec_for(name: &str) -> Codec {
    match name {
        "MsgPack" => Codec::msgpack().register::<ProxyTypeSlot>(),
        "JSON" => Codec::json().register::<ProxyTypeSlot>(),
        other => panic!("unknown codec {other}"),
    }
}

/// Every captured frame that has a hex string decodes into values and encodes back to the very
/// same bytes, header included.
#[test]
fn every_captured_frame_round_trips_byte_exact() {
    let doc: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
    let mut checked = 0;
    for scenario in doc["scenarios"].as_array().unwrap() {
        let codec = codec_for(scenario["codec"].as_str().unwrap());
        for frame in scenario["frames"].as_array().unwrap() {
            let Some(hex) = frame["hex"].as_str() else {
                continue;
            };
            let bytes = unhex(hex);
            let (header, payload) = bytes.split_at(4);
            assert_eq!(
                u32::from_be_bytes(header.try_into().unwrap()) as usize,
                payload.len()
            );
            let msg = codec.decode_message(payload).unwrap();
            let id = msg.id.as_u64().expect("aiomas's ids are integers from 0");
            let out = codec.encode_message(msg.kind, id, &msg.content).unwrap();
            assert_eq!(
                &out[..],
                payload,
                "scenario {} frame {}",
                scenario["name"],
                frame["decoded"]
            );
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} frames checked");
}

fn encode(codec: &Codec, kind: MessageKind, id: u64, content: &impl serde::Serialize) -> Vec<u8> {
    codec.encode_message(kind, id, content).unwrap()
}

#[test]
fn typed_request_matches_aiomas_msgpack() {
    let c = Codec::msgpack();
    assert_eq!(
        encode(&c, MessageKind::Request, 0, &("add", (1, 2), NoKwargs)),
        unhex("93000093a361646492010280")
    );
    #[derive(serde::Serialize)]
    struct Ab {
        a: i64,
        b: i64,
    }
    assert_eq!(
        encode(
            &c,
            MessageKind::Request,
            0,
            &("sub/mul", Vec::<i64>::new(), Ab { a: 3, b: 4 })
        ),
        unhex("93000093a77375622f6d756c9082a16103a16204")
    );
    assert_eq!(encode(&c, MessageKind::Result, 0, &3), unhex("93010003"));
}

#[test]
fn typed_request_matches_aiomas_json() {
    let c = Codec::json();
    assert_eq!(
        encode(&c, MessageKind::Request, 0, &("add", (1, 2), NoKwargs)),
        br#"[0, 0, ["add", [1, 2], {}]]"#
    );
    assert_eq!(
        encode(&c, MessageKind::Error, 7, &"ValueError: x\n"),
        br#"[2, 7, "ValueError: x\n"]"#
    );
}

#[test]
fn msgpack_uses_the_smallest_int_forms_and_float64() {
    let c = Codec::msgpack();
    let cases: &[(Value, &str)] = &[
        (Value::Int(0), "00"),
        (Value::Int(127), "7f"),
        (Value::Int(128), "cc80"),
        (Value::Int(255), "ccff"),
        (Value::Int(256), "cd0100"),
        (Value::Int(65536), "ce00010000"),
        (Value::Int(1 << 40), "cf0000010000000000"),
        (Value::UInt(u64::MAX), "cfffffffffffffffff"),
        (Value::Int(-1), "ff"),
        (Value::Int(-32), "e0"),
        (Value::Int(-33), "d0df"),
        (Value::Int(-200), "d1ff38"),
        (Value::Int(-40000), "d2ffff63c0"),
        (Value::Int(i64::MIN), "d38000000000000000"),
        (Value::Float(1.5), "cb3ff8000000000000"),
        (Value::Str("ü".into()), "a2c3bc"),
        (Value::Bin(vec![0, 1]), "c4020001"),
        (Value::Nil, "c0"),
        (Value::Bool(true), "c3"),
    ];
    for (v, hex) in cases {
        assert_eq!(c.encode(v).unwrap(), unhex(hex), "{v:?}");
        assert_eq!(&c.decode::<Value>(&unhex(hex)).unwrap(), v, "{hex}");
    }
    // A 32-character str takes str8, as Python writes it.
    assert_eq!(c.encode(&"x".repeat(32)).unwrap()[..2], [0xd9, 32]);
}

#[test]
fn msgpack_accepts_wider_than_needed_forms() {
    let c = Codec::msgpack();
    assert_eq!(
        c.decode::<Value>(&unhex("ce00000007")).unwrap(),
        Value::Int(7)
    );
    assert_eq!(
        c.decode::<Value>(&unhex("dc000101")).unwrap(),
        Value::Array(vec![Value::Int(1)])
    );
    assert_eq!(
        c.decode::<Value>(&unhex("de0001a16101")).unwrap(),
        Value::Map(vec![(Value::Str("a".into()), Value::Int(1))])
    );
}

#[test]
fn maps_keep_wire_order_and_any_key_type() {
    let c = Codec::msgpack();
    let v = Value::Map(vec![
        (Value::Str("z".into()), Value::Int(1)),
        (Value::Int(3), Value::Int(2)),
        (Value::Str("a".into()), Value::Int(3)),
    ]);
    let bytes = c.encode(&v).unwrap();
    assert_eq!(bytes, unhex("83a17a010302a16103"));
    assert_eq!(c.decode::<Value>(&bytes).unwrap(), v);
}

#[test]
fn json_writes_what_python_json_dumps_writes() {
    let c = Codec::json();
    let s = |v: &Value| String::from_utf8(c.encode(v).unwrap()).unwrap();
    assert_eq!(s(&Value::Str("ü".into())), r#""\u00fc""#);
    assert_eq!(s(&Value::Str("😀".into())), r#""\ud83d\ude00""#);
    assert_eq!(
        s(&Value::Str("\u{1}\u{7f}\"\\\n/".into())),
        r#""\u0001\u007f\"\\\n/""#
    );
    let floats = [
        (1.0, "1.0"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (-0.0, "-0.0"),
        (1e16, "1e+16"),
        (1.5e-5, "1.5e-05"),
        (1e-4, "0.0001"),
        (123456789.0, "123456789.0"),
        (1e15, "1000000000000000.0"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "Infinity"),
        (f64::NEG_INFINITY, "-Infinity"),
    ];
    for (f, want) in floats {
        assert_eq!(s(&Value::Float(f)), want, "{f}");
    }
    let map = Value::Map(vec![
        (
            Value::Str("b".into()),
            Value::Array(vec![Value::Int(1), Value::Nil, Value::Bool(true)]),
        ),
        (Value::Str("a".into()), Value::Map(vec![])),
    ]);
    assert_eq!(s(&map), r#"{"b": [1, null, true], "a": {}}"#);
}

#[test]
fn json_cannot_carry_bytes() {
    let err = Codec::json().encode(&Value::Bin(vec![1])).unwrap_err();
    assert_eq!(err, CodecError::BytesInJson);
}

#[test]
fn json_decodes_compact_input_too() {
    let v: Value = Codec::json().decode(br#"[0,0,["add",[1,2],{}]]"#).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Point {
    x: i64,
    y: i64,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Label(String);

#[test]
fn custom_types_travel_in_the_type_envelope_by_registration_order() {
    let c = Codec::msgpack().register::<Label>().register::<Point>();
    assert_eq!(c.typeid_of::<Label>(), Some(0));
    assert_eq!(c.typeid_of::<Point>(), Some(1));
    assert_eq!(c.proxy_typeid(), 2);
    let bytes = c.encode(&Custom(Point { x: 1, y: -2 })).unwrap();
    // {"__type__": [1, {"x": 1, "y": -2}]}
    assert_eq!(bytes, unhex("81a85f5f747970655f5f920182a17801a179fe"));
    assert_eq!(
        c.decode::<Custom<Point>>(&bytes).unwrap().0,
        Point { x: 1, y: -2 }
    );
    // Seen as a dynamic value, a known envelope is an ordinary map.
    assert!(c.decode::<Value>(&bytes).unwrap().get("__type__").is_some());
}

#[test]
fn unknown_typeid_is_an_error_that_names_it() {
    let c = Codec::json().register::<Point>();
    let err = c.decode::<Value>(br#"{"__type__": [5, "x"]}"#).unwrap_err();
    assert!(err.to_string().contains("unknown type id 5"), "{err}");
    let err = c
        .decode::<Custom<Point>>(br#"{"__type__": [5, {"x": 1, "y": 2}]}"#)
        .unwrap_err();
    assert!(err.to_string().contains("type id 5"), "{err}");
}

#[test]
fn unregistered_custom_type_cannot_be_encoded() {
    let err = Codec::msgpack()
        .encode(&Custom(Point { x: 1, y: 2 }))
        .unwrap_err();
    assert!(err.to_string().contains("not registered"), "{err}");
}

#[test]
#[should_panic(expected = "already registered")]
fn registering_a_type_twice_panics() {
    let _ = Codec::msgpack().register::<Point>().register::<Point>();
}

#[test]
fn deeply_nested_values_are_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let mut mp = vec![0x91u8; depth];
    mp.push(0xc0);
    let err = Codec::msgpack().decode::<Value>(&mp).unwrap_err();
    assert!(matches!(err, CodecError::TooDeep { .. }), "{err}");

    let json = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let err = Codec::json().decode::<Value>(json.as_bytes()).unwrap_err();
    assert!(matches!(err, CodecError::TooDeep { .. }), "{err}");

    // Within the limit is fine.
    let mut ok = vec![0x91u8; 100];
    ok.push(0xc0);
    assert!(Codec::msgpack().decode::<Value>(&ok).is_ok());
}

#[test]
fn truncated_and_invalid_msgpack_are_errors() {
    let c = Codec::msgpack();
    assert!(c.decode::<Value>(&unhex("92")).is_err());
    assert!(c.decode::<Value>(&unhex("c1")).is_err());
    assert!(c.decode::<Value>(&unhex("a5616263")).is_err());
    // An array claiming 4 billion items in 5 bytes is refused before anything is reserved.
    assert!(c.decode::<Value>(&unhex("ddffffffff")).is_err());
    assert!(c.decode::<Value>(&unhex("0101")).is_err(), "trailing bytes");
}

#[test]
fn decode_message_rejects_what_is_not_type_id_content() {
    let c = Codec::msgpack();
    for (hex, want) in [
        ("c0", "expected an array [type, id, content], got nil"),
        ("9200", "got 2 elements"),
        ("940000c0c0", "got 4 elements"),
        ("93a1780000", "message type must be an int"),
        ("930000c0c0", "trailing bytes"),
        ("930300c0", "unknown message type 3"),
    ] {
        let err = c.decode_message(&unhex(hex)).unwrap_err();
        assert!(
            matches!(err, CodecError::InvalidMessage(_)),
            "{hex}: {err:?}"
        );
        assert!(err.to_string().contains(want), "{hex}: {err}");
    }
    let msg = c
        .decode_message(&unhex("9300cf0000000100000005c0"))
        .unwrap();
    assert_eq!(msg.kind, MessageKind::Request);
    assert_eq!(msg.id.as_u64(), Some((1 << 32) + 5));
    assert_eq!(msg.content, Value::Nil);
}

/// Takes its arguments straight from the request as the server cuts it, each decoded on its own.
#[rpc_core::service]
struct Scaler;

#[rpc_core::service]
impl Scaler {
    #[expose]
    fn scale(&self, x: f64, y: i64, by: f64) -> String {
        format!("{x:?} {y} {by:?}")
    }
}

#[tokio::test]
async fn json_reads_the_bare_nan_and_infinity_python_writes() {
    let c = Codec::json();
    let v: Value = c
        .decode(br#"[NaN, -Infinity, Infinity, "NaN", "Infinity \"NaN\"", 1, {"k": NaN}]"#)
        .unwrap();
    let items = v.as_array().unwrap();
    assert!(items[0].as_f64().unwrap().is_nan());
    assert_eq!(items[1], Value::Float(f64::NEG_INFINITY));
    assert_eq!(items[2], Value::Float(f64::INFINITY));
    assert_eq!(items[3], Value::from("NaN"), "strings are left alone");
    assert_eq!(items[4], Value::from("Infinity \"NaN\""));
    assert_eq!(items[5], Value::Int(1));
    assert!(items[6].get("k").unwrap().as_f64().unwrap().is_nan());
    // Typed, too, and in a whole message.
    let (x, y): (f64, i64) = c.decode(b"[Infinity, 7]").unwrap();
    assert_eq!((x, y), (f64::INFINITY, 7));
    let payload = br#"[0, 3, ["scale", [NaN, 2], {"by": -Infinity}]]"#;
    let msg = c.decode_message(payload).unwrap();
    assert_eq!((msg.kind, msg.id.as_u64()), (MessageKind::Request, Some(3)));
    let call = msg.content.as_array().unwrap();
    assert_eq!(call[0], Value::from("scale"));
    let args = call[1].as_array().unwrap();
    assert!(args[0].as_f64().unwrap().is_nan());
    assert_eq!(args[1], Value::Int(2));
    assert_eq!(call[2].get("by"), Some(&Value::Float(f64::NEG_INFINITY)));
    // And inside a request that a server cuts into its arguments.
    let (a, mut b) = tokio::io::duplex(1 << 16);
    let _server = rpc_core::Connection::builder()
        .codec(Codec::json())
        .serve(rpc_core::Router::new(Scaler))
        .open(a, "python");
    b.write_all(&(payload.len() as u32).to_be_bytes())
        .await
        .unwrap();
    b.write_all(payload).await.unwrap();
    let mut len = [0; 4];
    b.read_exact(&mut len).await.unwrap();
    let mut reply = vec![0; u32::from_be_bytes(len) as usize];
    b.read_exact(&mut reply).await.unwrap();
    assert_eq!(String::from_utf8(reply).unwrap(), r#"[1, 3, "NaN 2 -inf"]"#);
    // Still an error: garbage that merely contains the letters.
    assert!(c.decode::<Value>(b"[NaNa]").is_err());
    assert!(c.decode::<Value>(b"[Infinit]").is_err());
}

/// Typed `f32`/`f64` NaN and infinities are written as Python writes them, at any depth, and
/// as map keys (`json.dumps({float("nan"): 1})` is `{"NaN": 1}`); a `None` stays `null`.
#[test]
fn json_writes_typed_non_finite_floats_as_python_does() {
    let c = Codec::json();
    let s = |b: Vec<u8>| String::from_utf8(b).unwrap();
    assert_eq!(s(c.encode(&f64::NAN).unwrap()), "NaN");
    assert_eq!(
        s(c.encode(&vec![1.5, f64::NEG_INFINITY]).unwrap()),
        "[1.5, -Infinity]"
    );
    assert_eq!(
        s(c.encode(&(Some(f32::INFINITY), None::<f64>, [f64::NAN]))
            .unwrap()),
        "[Infinity, null, [NaN]]"
    );
    let keyed = std::collections::BTreeMap::from([(OrdF(f64::NAN), 1)]);
    assert_eq!(s(c.encode(&keyed).unwrap()), r#"{"NaN": 1}"#);
    // msgpack carries them as float64, unchanged.
    let back: Vec<f64> = Codec::msgpack()
        .decode(&Codec::msgpack().encode(&vec![f64::NEG_INFINITY]).unwrap())
        .unwrap();
    assert_eq!(back, [f64::NEG_INFINITY]);
}

/// A float as a map key (only for the test above).
#[derive(PartialEq, serde::Serialize)]
struct OrdF(f64);
impl Eq for OrdF {}
impl PartialOrd for OrdF {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrdF {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Where two shortest strings round-trip and the double lies halfway, Python's repr takes the
/// even one; so do we.
#[test]
fn json_floats_break_ties_to_even_as_python_repr_does() {
    let c = Codec::json();
    // The double is exactly -82247559806759.625; ...62 and ...63 both read back as it.
    let tie = -82247559806759.62f64;
    assert_eq!(tie.to_bits(), (-82247559806759.63f64).to_bits());
    assert_eq!(c.encode(&tie).unwrap(), &b"-82247559806759.62"[..]);
    let x: f64 = c.decode(b"2e-28").unwrap();
    assert_eq!(x, 2e-28);
}

/// Integers beyond 64 bits are kept exactly in a `Value` (up to 128 bits), written back with
/// every digit by the JSON codec, refused by msgpack, and refused (never rounded) beyond 128 bits.
#[test]
fn big_integers_in_values() {
    let c = Codec::json();
    let v: Value = c
        .decode(b"[1208925819614629174706176, -1267650600228229401496703205376]")
        .unwrap();
    assert_eq!(
        v,
        Value::Array(vec![Value::BigInt(1 << 80), Value::BigInt(-(1 << 100))])
    );
    assert_eq!(v.as_array().unwrap()[0].as_i128(), Some(1 << 80));
    assert_eq!(
        c.encode(&v).unwrap(),
        &b"[1208925819614629174706176, -1267650600228229401496703205376]"[..]
    );
    // Normalised: what fits in 64 bits is never a BigInt.
    assert_eq!(Value::from(5i128), Value::Int(5));
    assert_eq!(Value::from(i128::from(u64::MAX)), Value::UInt(u64::MAX));
    let err = c
        .decode::<Value>(b"170141183460469231731687303715884105728")
        .unwrap_err();
    assert!(err.to_string().contains("beyond 128 bits"), "{err}");
    let err = c
        .decode::<Value>(b"1000000000000000000000000000000000000000000")
        .unwrap_err();
    assert!(err.to_string().contains("128 bits"), "{err}");
    let err = Codec::msgpack()
        .encode(&Value::BigInt(1 << 80))
        .unwrap_err();
    assert!(matches!(err, CodecError::Encode(_)), "{err:?}");
    assert!(err.to_string().contains("beyond 64 bits"), "{err}");
}

/// `Value` is a plain serde value: serde_json on its own writes NaN as `null` (its own rule)
/// and reads back what it wrote; nothing of the JSON codec's way of writing leaks into it.
#[test]
fn values_behave_under_plain_serde_json() {
    let v = Value::Array(vec![
        Value::Float(f64::NAN),
        Value::Float(1.5),
        Value::BigInt(1 << 80),
    ]);
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        "[null,1.5,1208925819614629174706176]"
    );
    let small = Value::Array(vec![Value::Float(f64::INFINITY), Value::Int(3)]);
    assert_eq!(
        serde_json::to_value(&small).unwrap(),
        serde_json::json!([null, 3])
    );
    let back: Value = serde_json::from_str(&serde_json::to_string(&small).unwrap()).unwrap();
    assert_eq!(back, Value::Array(vec![Value::Nil, Value::Int(3)]));
    // serde_json's own Value has no integer beyond 64 bits: it says so.
    assert!(serde_json::to_value(Value::BigInt(1 << 80)).is_err());
}

/// Converts itself through a `Value` while being converted from one.
#[derive(Debug, PartialEq)]
struct ConvertsInside(i64);

impl<'de> serde::Deserialize<'de> for ConvertsInside {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = <Value as serde::Deserialize>::deserialize(d)?;
        v.deserialize_into::<i64>()
            .map(ConvertsInside)
            .map_err(serde::de::Error::custom)
    }
}

/// Conversions of dynamic values reuse one buffer per thread; one nested in another gets its own.
#[test]
fn a_value_conversion_nested_in_another_works() {
    let v = Value::Array(vec![Value::Int(7), Value::Int(8)]);
    let got: Vec<ConvertsInside> = v.deserialize_into().unwrap();
    assert_eq!(got, vec![ConvertsInside(7), ConvertsInside(8)]);
    // And the buffer is whole again afterwards.
    assert_eq!(Value::Int(9).deserialize_into::<i64>().unwrap(), 9);
}

// ---------------------------------------------------------------------------------------------
// Value, converted directly: the same bytes as the value it came from, in both codecs

mod value_mirrors_the_codecs {
    use std::collections::BTreeMap;
    use std::net::IpAddr;

    use rpc_core::{ByteBuf, Codec, Custom, Value};
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    enum External {
        Unit,
        Newtype(i32),
        Tuple(u8, String),
        Struct { a: Option<i64>, b: Vec<f64> },
    }

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    #[serde(tag = "type")]
    enum Internal {
        A { x: i64 },
        B { s: String, f: f64 },
        C,
    }

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    #[serde(tag = "t", content = "c")]
    enum Adjacent {
        A(i64),
        B(String, bool),
        C,
    }

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    #[serde(untagged)]
    enum Untagged {
        Flag(bool),
        Text(String),
        List(Vec<i64>),
    }

    #[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
    struct UnitStruct;

    #[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
    struct Meters(f64);

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    struct Point {
        x: i64,
        y: i64,
    }

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    struct Record {
        id: u64,
        small: i8,
        wide: i128,
        uwide: u128,
        single: f32,
        double: f64,
        flag: bool,
        letter: char,
        name: String,
        data: Option<ByteBuf>,
        shapes: Vec<External>,
        by_name: BTreeMap<String, Internal>,
        by_number: BTreeMap<i32, Adjacent>,
        pair: (u16, Untagged),
        unit: (),
        unit_struct: UnitStruct,
        length: Meters,
        addr: IpAddr,
        point: Option<Custom<Point>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        maybe: Option<String>,
        nested: Vec<Vec<Option<i64>>>,
        child: Option<Box<Record>>,
        #[serde(flatten)]
        extra: BTreeMap<String, i64>,
    }

    fn float(rng: &mut fastrand::Rng) -> f64 {
        match rng.u8(0..10) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => -0.0,
            4 => f64::from(rng.i32(..)),
            _ => f64::from_bits(rng.u64(..)),
        }
    }

    fn text(rng: &mut fastrand::Rng) -> String {
        let pool = [
            "",
            "a",
            "grüße",
            "日本語",
            "quote\"back\\slash",
            "\u{1F600}",
            "\u{7f}\n\t",
        ];
        (0..rng.usize(0..4))
            .map(|_| pool[rng.usize(..pool.len())])
            .collect()
    }

    fn int128(rng: &mut fastrand::Rng) -> i128 {
        match rng.u8(0..4) {
            0 => i128::from(rng.i64(..)),
            1 => i128::from(rng.u64(..)),
            2 => rng.i128(..),
            _ => i128::from(rng.i8(..)),
        }
    }

    fn record(rng: &mut fastrand::Rng, depth: u32, bytes: bool) -> Record {
        let external = |rng: &mut fastrand::Rng| match rng.u8(0..4) {
            0 => External::Unit,
            1 => External::Newtype(rng.i32(..)),
            2 => External::Tuple(rng.u8(..), text(rng)),
            _ => External::Struct {
                a: rng.bool().then(|| rng.i64(..)),
                b: (0..rng.usize(0..3)).map(|_| float(rng)).collect(),
            },
        };
        Record {
            id: rng.u64(..),
            small: rng.i8(..),
            wide: int128(rng),
            uwide: int128(rng).unsigned_abs(),
            single: f32::from_bits(rng.u32(..)),
            double: float(rng),
            flag: rng.bool(),
            letter: rng.char(..),
            name: text(rng),
            data: (bytes && rng.bool()).then(|| ByteBuf::from(vec![rng.u8(..); rng.usize(0..300)])),
            shapes: (0..rng.usize(0..4)).map(|_| external(rng)).collect(),
            by_name: (0..rng.usize(0..3))
                .map(|i| {
                    let v = match rng.u8(0..3) {
                        0 => Internal::A { x: rng.i64(..) },
                        1 => Internal::B {
                            s: text(rng),
                            f: float(rng),
                        },
                        _ => Internal::C,
                    };
                    (format!("k{i}"), v)
                })
                .collect(),
            by_number: (0..rng.usize(0..3))
                .map(|_| {
                    let v = match rng.u8(0..3) {
                        0 => Adjacent::A(rng.i64(..)),
                        1 => Adjacent::B(text(rng), rng.bool()),
                        _ => Adjacent::C,
                    };
                    (rng.i32(..), v)
                })
                .collect(),
            pair: (
                rng.u16(..),
                match rng.u8(0..3) {
                    0 => Untagged::Flag(rng.bool()),
                    1 => Untagged::Text(text(rng)),
                    _ => Untagged::List((0..rng.usize(0..3)).map(|_| rng.i64(..)).collect()),
                },
            ),
            unit: (),
            unit_struct: UnitStruct,
            length: Meters(float(rng)),
            addr: if rng.bool() {
                IpAddr::from(rng.u32(..).to_be_bytes())
            } else {
                IpAddr::from(rng.u128(..).to_be_bytes())
            },
            point: rng.bool().then(|| {
                Custom(Point {
                    x: rng.i64(..),
                    y: rng.i64(..),
                })
            }),
            maybe: rng.bool().then(|| text(rng)),
            nested: (0..rng.usize(0..3))
                .map(|_| {
                    (0..rng.usize(0..3))
                        .map(|_| rng.bool().then(|| rng.i64(..)))
                        .collect()
                })
                .collect(),
            child: (depth > 0 && rng.bool()).then(|| Box::new(record(rng, depth - 1, bytes))),
            extra: (0..rng.usize(0..3))
                .map(|i| (format!("extra{i}"), rng.i64(..)))
                .collect(),
        }
    }

    /// What encoding gave: the bytes, or the error's words.
    fn encoded<T: Serialize>(codec: &Codec, value: &T) -> Result<Vec<u8>, String> {
        codec.encode(value).map_err(|e| e.to_string())
    }

    /// For any value of a rich type (every enum representation, options, unit structs,
    /// newtypes, bytes, 128-bit integers, NaN and infinities, flattened fields, a registered
    /// custom type, a human-readable-dependent `IpAddr`), its `Value` encodes to exactly the
    /// bytes the value encodes to, or fails with the same words; and it converts back into a
    /// value that encodes the same again.
    #[test]
    fn a_value_and_its_value_encode_alike_and_convert_back() {
        let mut rng = fastrand::Rng::with_seed(0x5eed_0f7a_1e00);
        let mut compared = [0usize; 2];
        for round in 0..3_000 {
            for (c, codec) in [Codec::msgpack(), Codec::json()].into_iter().enumerate() {
                let codec = codec.register::<Point>();
                // JSON cannot carry bytes (the error is compared below too, now and then).
                let bytes = c == 0 || round % 50 == 0;
                let t = record(&mut rng, 2, bytes);
                let direct = encoded(&codec, &t);
                let v = codec.to_value(&t).unwrap();
                assert_eq!(encoded(&codec, &v), direct, "{codec:?}: {t:#?}\n{v}");
                let Ok(bytes) = direct else { continue };
                compared[c] += 1;
                let back: Record = codec.from_value(&v).unwrap();
                assert_eq!(
                    encoded(&codec, &back),
                    Ok(bytes.clone()),
                    "{codec:?}: {t:#?}"
                );
                // ... and the Value decoded from the bytes is the same Value.
                let decoded: Value = codec.decode(&bytes).unwrap();
                assert_eq!(
                    encoded(&codec, &decoded),
                    Ok(bytes),
                    "{codec:?}: {decoded} against {v}"
                );
            }
        }
        // Most rounds encode (the others hold an integer beyond 64 bits in MsgPack).
        assert!(compared[0] > 500 && compared[1] > 1_500, "{compared:?}");
    }

    #[test]
    fn integers_of_128_bits_are_msgpack_ints_when_they_fit_and_an_error_when_not() {
        let mp = Codec::msgpack();
        assert_eq!(mp.encode(&5i128).unwrap(), [0x05]);
        assert_eq!(mp.encode(&-5i128).unwrap(), [0xfb]);
        assert_eq!(mp.encode(&200u128).unwrap(), [0xcc, 200]);
        assert_eq!(
            mp.encode(&i128::from(i64::MIN)).unwrap(),
            [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            mp.encode(&u128::from(u64::MAX)).unwrap(),
            [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        for too_wide in [1i128 << 64, -(1i128 << 63) - 1, i128::MAX] {
            let err = mp.encode(&too_wide).unwrap_err();
            assert!(
                matches!(&err, CodecError::Encode(m) if m.contains(&too_wide.to_string()) && m.contains("beyond 64 bits")),
                "{err}"
            );
        }
        // Decoded back from the ints Python writes.
        assert_eq!(mp.decode::<i128>(&[0xfb]).unwrap(), -5);
        assert_eq!(
            mp.decode::<u128>(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
                .unwrap(),
            u128::from(u64::MAX)
        );
        // JSON: every digit, both ways.
        let json = Codec::json();
        assert_eq!(
            json.encode(&(1i128 << 100)).unwrap(),
            b"1267650600228229401496703205376"
        );
        assert_eq!(
            json.decode::<i128>(b"-1267650600228229401496703205376")
                .unwrap(),
            -(1 << 100)
        );
        assert_eq!(
            json.decode::<u128>(b"340282366920938463463374607431768211455")
                .unwrap(),
            u128::MAX
        );
    }

    #[test]
    fn a_value_holds_128_bit_integers_exactly() {
        let big = Value::from_serialize(&(1i128 << 100)).unwrap();
        assert_eq!(big, Value::BigInt(1 << 100));
        assert_eq!(big.deserialize_into::<i128>().unwrap(), 1 << 100);
        assert_eq!(
            Value::BigInt(-(1 << 100))
                .deserialize_into::<i128>()
                .unwrap(),
            -(1 << 100)
        );
        assert_eq!(Value::from_serialize(&5i128).unwrap(), Value::Int(5));
        assert_eq!(
            Value::from_serialize(&u128::from(u64::MAX)).unwrap(),
            Value::UInt(u64::MAX)
        );
        assert_eq!(
            Value::UInt(u64::MAX).deserialize_into::<u128>().unwrap(),
            u128::from(u64::MAX)
        );
        // Above i128::MAX a Value cannot hold it and says so; a u128 can.
        let err = Value::from_serialize(&u128::MAX).unwrap_err();
        assert!(matches!(err, CodecError::IntTooLarge(_)), "{err}");
        // Too big for the target type: serde's words.
        let err = Value::BigInt(1 << 100)
            .deserialize_into::<i64>()
            .unwrap_err();
        assert!(err.to_string().contains("expected i64"), "{err}");
        let err = Value::Int(-1).deserialize_into::<u128>().unwrap_err();
        assert!(err.to_string().contains("expected u128"), "{err}");
    }

    #[test]
    fn deserialize_into_borrows_strings_and_bytes_from_the_value() {
        let v = Value::Array(vec![Value::from("eggs"), Value::Bin(vec![1, 2, 3])]);
        let (s, b): (&str, &[u8]) = v.deserialize_into().unwrap();
        assert_eq!((s, b), ("eggs", &[1u8, 2, 3][..]));
        assert!(std::ptr::eq(
            s.as_ptr(),
            v.as_array().unwrap()[0].as_str().unwrap().as_ptr()
        ));
    }

    #[test]
    fn what_does_not_fit_gets_serdes_words() {
        let cases: [(Value, &str); 5] = [
            (Value::from("x"), "invalid type: string \"x\", expected i64"),
            (Value::Int(300), "invalid value: integer `300`, expected u8"),
            (Value::Nil, "invalid type: unit value, expected a string"),
            (Value::Map(vec![]), "a map of one entry"),
            (Value::Float(1.5), "expected a variant name"),
        ];
        let errors = [
            Value::from("x").deserialize_into::<i64>().unwrap_err(),
            cases[1].0.deserialize_into::<u8>().unwrap_err(),
            cases[2].0.deserialize_into::<String>().unwrap_err(),
            cases[3].0.deserialize_into::<External>().unwrap_err(),
            cases[4].0.deserialize_into::<External>().unwrap_err(),
        ];
        for ((_, want), got) in cases.iter().zip(errors) {
            assert!(
                matches!(&got, CodecError::Decode(m) if m.contains(want)),
                "{got} should say {want}"
            );
        }
    }

    use rpc_core::CodecError;
}
