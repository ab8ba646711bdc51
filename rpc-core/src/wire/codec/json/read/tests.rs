//! The JSON reader against Python's `json.loads`: what it accepts, what it refuses and with
//! which message, for the validator and the deserializer alike.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::de::{self, Visitor};
use serde::Deserialize;

use super::py_value::{arr, int, obj, MyValue};
use super::scan::skip_ws;
use super::*;

/// The depth limit the tests use unless they are about depth.
const DEPTH: usize = 1024;

/// Reads `input` as a [`MyValue`] with the usual depth limit.
fn read(input: &[u8]) -> Result<MyValue, ReadError> {
    from_slice(input, DEPTH)
}

/// The `TooDeep` error for `limit`, as any result type.
fn too_deep<T>(limit: usize) -> Result<T, ReadError> {
    Err(ReadError::TooDeep { limit })
}

/// The syntax error with message `m`, as any result type.
fn syntax<T>(m: &str) -> Result<T, ReadError> {
    Err(ReadError::Syntax(m.to_owned()))
}

/// Arrays and objects deeper than `max_depth` fail with `TooDeep`, in every entry point.
#[test]
fn depth_limit() {
    assert_eq!(from_slice::<MyValue>(b"1", 0), Ok(int(1)));
    assert_eq!(from_slice::<MyValue>(b"[]", 0), too_deep(0));
    assert_eq!(from_slice::<MyValue>(b"{}", 0), too_deep(0));
    assert_eq!(from_slice::<MyValue>(b"[1]", 1), Ok(arr(vec![int(1)])));
    assert_eq!(from_slice::<MyValue>(b"[[1]]", 1), too_deep(1));
    assert_eq!(from_slice::<MyValue>(br#"{"a":{"b":1}}"#, 1), too_deep(1));
    assert_eq!(
        from_slice::<MyValue>(br#"{"a":[{"b":[]}]}"#, 4).map(|_| ()),
        Ok(())
    );
    assert_eq!(
        from_slice::<MyValue>(br#"{"a":[{"b":[]}]}"#, 3),
        too_deep(3)
    );
    assert_eq!(skip_value(b"[]", 0, 0), too_deep(0));
    assert_eq!(skip_value(b"[[1]]", 0, 1), too_deep(1));
    assert_eq!(skip_value(b" [[1]]", 0, 2), Ok((1, 6)));
    assert_eq!(skip_value(br#"{"a":[{"b":[]}]}"#, 0, 3), too_deep(3));
    assert_eq!(skip_value(br#"{"a":[{"b":[]}]}"#, 0, 4), Ok((0, 16)));
    assert_eq!(array_items(b"[]", 0, 0), too_deep(0));
    assert_eq!(array_items(b"[[[]]]", 0, 2), too_deep(2));
    assert_eq!(array_items(b"[[[]]]", 0, 3), Ok((vec![(1, 5)], 6)));
    assert!(matches!(
        object_entries(br#"{"a":[[]]}"#, 0, 2),
        Err(ReadError::TooDeep { limit: 2 })
    ));
    assert!(object_entries(br#"{"a":[[]]}"#, 0, 3).is_ok());
    // An ignored field counts the levels already open around it.
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct S {
        /// A field that is read.
        a: u8,
    }
    assert_eq!(
        from_slice::<S>(br#"{"a":1,"x":[[[]]]}"#, 3).map(|_| ()),
        too_deep(3)
    );
    assert!(from_slice::<S>(br#"{"a":1,"x":[[[]]]}"#, 4).is_ok());
    // Exactly `DEPTH` levels deep is fine for the recursive reader too.
    let mut deep = "[".repeat(DEPTH);
    deep.push_str(&"]".repeat(DEPTH));
    assert!(read(deep.as_bytes()).is_ok());
    let mut nested = "{\"a\":[".repeat(DEPTH / 2);
    nested.push_str(&"]}".repeat(DEPTH / 2));
    assert!(read(nested.as_bytes()).is_ok());
    assert_eq!(
        skip_value(nested.as_bytes(), 0, DEPTH),
        Ok((0, nested.len()))
    );
    assert_eq!(
        from_slice::<MyValue>(nested.as_bytes(), DEPTH - 1),
        too_deep(DEPTH - 1)
    );
}

/// A million `[` fail with `TooDeep` without overflowing the stack, and skipping them with no
/// limit uses the heap, not the stack.
#[test]
fn million_brackets() {
    let n = 1_000_000;
    let open = vec![b'['; n];
    assert_eq!(
        skip_value(&open, 0, DEPTH),
        Err(ReadError::TooDeep { limit: DEPTH })
    );
    assert_eq!(read(&open), Err(ReadError::TooDeep { limit: DEPTH }));
    assert_eq!(
        array_items(&open, 0, DEPTH),
        Err(ReadError::TooDeep { limit: DEPTH })
    );
    assert_eq!(
        skip_value(&open, 0, usize::MAX),
        Err(ReadError::Syntax(format!(
            "EOF while parsing a list at byte {n}"
        )))
    );
    let mut both = open.clone();
    both.extend(vec![b']'; n]);
    assert_eq!(skip_value(&both, 0, usize::MAX), Ok((0, 2 * n)));
    assert_eq!(skip_value(&both, 0, n), Ok((0, 2 * n)));
    assert_eq!(
        skip_value(&both, 0, n - 1),
        Err(ReadError::TooDeep { limit: n - 1 })
    );
    let objects = "{\"\":".repeat(n);
    assert_eq!(
        skip_value(objects.as_bytes(), 0, DEPTH),
        Err(ReadError::TooDeep { limit: DEPTH })
    );
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct S {
        /// A field that is read.
        a: u8,
    }
    let mut ignored = b"{\"a\":1,\"x\":".to_vec();
    ignored.extend(&open);
    assert_eq!(
        from_slice::<S>(&ignored, DEPTH).map(|_| ()),
        Err(ReadError::TooDeep { limit: DEPTH })
    );
}

/// The helpers find the right ranges in a typical message.
#[test]
fn cutting_helpers() {
    let msg = br#" [0, 3, ["add", [1, 2], {}]] "#;
    assert_eq!(skip_value(msg, 0, DEPTH), Ok((1, 28)));
    let (items, end) = array_items(msg, 0, DEPTH).unwrap();
    assert_eq!(end, 28);
    let texts: Vec<&[u8]> = items.iter().map(|&(s, e)| &msg[s..e]).collect();
    assert_eq!(texts, [&b"0"[..], b"3", br#"["add", [1, 2], {}]"#]);
    let (inner, inner_end) = array_items(msg, items[2].0, DEPTH).unwrap();
    assert_eq!(inner_end, items[2].1);
    let texts: Vec<&[u8]> = inner.iter().map(|&(s, e)| &msg[s..e]).collect();
    assert_eq!(texts, [&br#""add""#[..], b"[1, 2]", b"{}"]);
    assert_eq!(
        string_at(msg, inner[0].0),
        Ok((Cow::Borrowed("add"), inner[0].1))
    );
    assert_eq!(array_items(b"[ ]", 0, DEPTH), Ok((vec![], 3)));
    assert_eq!(array_items(b"[1] x", 0, DEPTH), Ok((vec![(1, 2)], 3)));

    let doc = br#"{"a": 1, "b\u00e9": [2, {"c": null}], "a": "x\n" }"#;
    let (entries, end) = object_entries(doc, 0, DEPTH).unwrap();
    assert_eq!(end, doc.len());
    assert_eq!(entries.len(), 3);
    assert!(matches!(entries[0].0, Cow::Borrowed("a")));
    assert!(matches!(&entries[1].0, Cow::Owned(k) if k == "b\u{e9}"));
    assert!(matches!(entries[2].0, Cow::Borrowed("a")));
    let values: Vec<&[u8]> = entries.iter().map(|(_, (s, e))| &doc[*s..*e]).collect();
    assert_eq!(values, [&b"1"[..], br#"[2, {"c": null}]"#, br#""x\n""#]);
    assert_eq!(object_entries(b" { } ", 0, DEPTH), Ok((vec![], 4)));
    assert_eq!(
        string_at(br#" "x\ty" "#, 0),
        Ok((Cow::Owned("x\ty".to_owned()), 7))
    );
    assert_eq!(
        string_at(br#""\ud800""#, 0),
        Err(ReadError::Syntax(
            "lone surrogate \\ud800 at byte 1 cannot be represented".into()
        ))
    );

    assert_eq!(
        array_items(b"{}", 0, DEPTH),
        syntax("expected an array, got map")
    );
    assert_eq!(
        array_items(b"  ", 0, DEPTH),
        syntax("expected an array, got nothing")
    );
    assert_eq!(
        array_items(b"[1,]", 0, DEPTH),
        syntax("trailing comma at byte 3")
    );
    assert_eq!(
        array_items(b"[1 2]", 0, DEPTH),
        syntax("expected `,` or `]` at byte 3")
    );
    assert_eq!(
        array_items(b"[1, tru]", 0, DEPTH),
        syntax("invalid literal at byte 4")
    );
    assert_eq!(
        array_items(b"[1, [}]", 0, DEPTH),
        syntax("expected value at byte 5")
    );
    assert_eq!(
        array_items(b"[1", 0, DEPTH),
        syntax("EOF while parsing a list at byte 2")
    );
    assert_eq!(
        object_entries(b"[]", 0, DEPTH),
        syntax("expected a map, got array")
    );
    assert_eq!(
        object_entries(b"{\"a\":1,}", 0, DEPTH),
        syntax("trailing comma at byte 7")
    );
    assert_eq!(
        object_entries(b"{\"a\" 1}", 0, DEPTH),
        syntax("expected `:` at byte 5")
    );
    assert_eq!(
        object_entries(b"{1:1}", 0, DEPTH),
        syntax("key must be a string at byte 1")
    );
    assert_eq!(
        object_entries(b"{\"a\":1 \"b\":2}", 0, DEPTH),
        syntax("expected `,` or `}` at byte 7")
    );
    assert_eq!(
        object_entries(b"{\"a\":[1}", 0, DEPTH),
        syntax("expected `,` or `]` at byte 7")
    );
    assert_eq!(
        object_entries(b"{\"\\q\":1}", 0, DEPTH),
        syntax("invalid escape \\q at byte 2")
    );
    assert_eq!(string_at(b"12", 0), syntax("expected a string, got int"));
    assert_eq!(
        string_at(b"\"ab", 0),
        syntax("EOF while parsing a string at byte 3")
    );
    assert_eq!(
        skip_value(b"[1, 2", 0, DEPTH),
        syntax("EOF while parsing a list at byte 5")
    );
    assert_eq!(
        skip_value(b"{\"a\":1,\"b\"", 0, DEPTH),
        syntax("EOF while parsing an object at byte 10")
    );
    assert_eq!(
        skip_value(b"[\"a\\u12\"]", 0, DEPTH),
        syntax("invalid \\uXXXX escape at byte 3")
    );
    assert_eq!(
        skip_value(b"[NaN, -Infinity, 1e5, -0.5, \"\\\"\"] junk", 0, DEPTH),
        Ok((0, 33))
    );
    assert_eq!(skip_value(b"12 34", 3, DEPTH), Ok((3, 5)));
    assert_eq!(
        skip_value(b"12", 7, DEPTH),
        syntax("EOF while parsing a value at byte 7")
    );
    assert_eq!(kind_at(b"12", 9), "nothing");
}

/// `kind_at` names every kind of value.
#[test]
fn kinds() {
    let table: &[(&[u8], &str)] = &[
        (b" [1", "array"),
        (b"{", "map"),
        (b"\"x", "str"),
        (b"null", "nil"),
        (b"nul", "nothing"),
        (b"true", "bool"),
        (b"false", "bool"),
        (b"0", "int"),
        (b"-12 ", "int"),
        (b"123456789012345678901234567890123456789012", "int"),
        (b"1.5", "float"),
        (b"1e3", "float"),
        (b"NaN", "float"),
        (b"Infinity", "float"),
        (b"-Infinity", "float"),
        (b"-", "nothing"),
        (b"1.", "nothing"),
        (b"", "nothing"),
        (b" \n", "nothing"),
        (b"]", "nothing"),
        (b"x", "nothing"),
        (b"\xEF\xBB\xBF7", "int"),
    ];
    for (input, kind) in table {
        assert_eq!(
            kind_at(input, 0),
            *kind,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    assert_eq!(kind_at(b"[1, \"a\"]", 4), "str");
}

/// Cutting a message anywhere, or changing any one byte, gives an error or a value, never a
/// panic; and `skip_value` accepts exactly what `from_slice` accepts.
#[test]
fn truncated_and_mutated() {
    let msg = br#"{"a": [1, -2.5e3, "x\u00e9\ud83d\ude00y", true, null, NaN, {"k": []}], "b": {"c": -Infinity}, "d": "h\u00e9llo", "e": 18446744073709551616}"#;
    assert!(read(msg).is_ok());
    for cut in 0..msg.len() {
        let part = &msg[..cut];
        assert!(read(part).is_err(), "cut at {cut}");
        assert!(skip_value(part, 0, DEPTH).is_err(), "cut at {cut}");
        assert!(object_entries(part, 0, DEPTH).is_err(), "cut at {cut}");
        let _ = kind_at(part, 0);
        let _ = string_at(part, 0);
        let _ = array_items(part, 0, DEPTH);
        for pos in 0..=cut + 1 {
            let _ = skip_value(part, pos, DEPTH);
        }
    }
    let replacements = b"\"\\[]{},:0-+.eEuntfNI \x00\x1f\x7f\xff\xc3";
    for pos in 0..msg.len() {
        for &r in replacements.iter() {
            let mut m = msg.to_vec();
            m[pos] = r;
            let ours = read(&m).is_ok();
            let skipped =
                matches!(skip_value(&m, 0, DEPTH), Ok((_, e)) if skip_ws(&m, e) == m.len());
            assert_eq!(ours, skipped, "{:?}", String::from_utf8_lossy(&m));
            let _ = object_entries(&m, 0, DEPTH);
            let _ = kind_at(&m, pos);
            m.remove(pos);
            let ours = read(&m).is_ok();
            let skipped =
                matches!(skip_value(&m, 0, DEPTH), Ok((_, e)) if skip_ws(&m, e) == m.len());
            assert_eq!(ours, skipped, "{:?}", String::from_utf8_lossy(&m));
        }
    }
}

/// Reading `DEPTH` levels with the recursive reader fits in a 2 MiB thread stack (the
/// default for spawned threads and tokio workers), even in a debug build.
#[test]
fn deep_reading_fits_a_small_stack() {
    let deep = format!(
        "{}1{}",
        "[{\"k\":".repeat(DEPTH / 2),
        "}]".repeat(DEPTH / 2)
    );
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            assert!(read(deep.as_bytes()).is_ok());
            assert!(from_slice::<serde_json::Value>(deep.as_bytes(), DEPTH).is_ok());
            let open = "[".repeat(2 * DEPTH);
            assert_eq!(read(open.as_bytes()), too_deep(DEPTH));
        })
        .unwrap();
    handle.join().unwrap();
}

/// A plain struct with the kinds of fields a message holds.
#[derive(Deserialize, Debug, PartialEq)]
struct Call {
    /// A string field.
    name: String,
    /// An unsigned field.
    id: u32,
    /// A list of numbers.
    args: Vec<f64>,
    /// An optional field: null, missing or present.
    reply_to: Option<String>,
    /// A nested map.
    meta: BTreeMap<String, i64>,
}

/// An enum of every variant shape, externally tagged.
#[derive(Deserialize, Debug, PartialEq, Eq, Hash)]
enum Shape {
    /// A unit variant.
    Unit,
    /// A newtype variant.
    New(i32),
    /// A tuple variant.
    Tup(i32, String),
    /// A struct variant.
    Struct {
        /// Its only field.
        a: bool,
    },
}

/// A newtype struct, which reads as the value it wraps.
#[derive(Deserialize, Debug, PartialEq)]
struct Meters(f64);

/// A unit struct, which reads from null.
#[derive(Deserialize, Debug, PartialEq)]
struct Nothing;

/// A struct that refuses unknown fields.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Strict {
    /// Its only field.
    a: u8,
}

/// An internally tagged enum, which serde reads through `deserialize_any`.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(tag = "type")]
enum Tagged {
    /// One variant.
    Ping {
        /// A number.
        n: u64,
    },
    /// Another variant.
    Pong,
}

/// An untagged enum, which serde buffers through `deserialize_any`.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(untagged)]
enum Untagged {
    /// A number.
    Num(i64),
    /// A string.
    Text(String),
    /// A list.
    List(Vec<Untagged>),
}

/// Records which visitor method a string arrived through.
#[derive(Debug, PartialEq)]
enum HowStr {
    /// `visit_borrowed_str`.
    Borrowed(String),
    /// `visit_string`.
    Owned(String),
    /// `visit_str`.
    Transient(String),
}

impl<'de> Deserialize<'de> for HowStr {
    /// Reads a string and notes how it came.
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// The visitor that notes the method.
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HowStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<HowStr, E> {
                Ok(HowStr::Borrowed(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<HowStr, E> {
                Ok(HowStr::Owned(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<HowStr, E> {
                Ok(HowStr::Transient(v.to_owned()))
            }
        }
        d.deserialize_str(V)
    }
}

/// Records the size hints that arrays and objects give.
#[derive(Debug, PartialEq)]
struct Hints(Vec<Option<usize>>);

impl<'de> Deserialize<'de> for Hints {
    /// Reads an array of objects and notes each size hint.
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// The visitor that notes the hints.
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Hints;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of objects")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Hints, A::Error> {
                let mut hints = vec![a.size_hint()];
                while let Some(m) = a.next_element::<BTreeMap<String, u8>>()? {
                    hints.push(Some(m.len()));
                }
                Ok(Hints(hints))
            }
        }
        d.deserialize_seq(V)
    }
}

/// Derived structs, enums, options, unit, newtypes, tuples and maps read as serde expects.
#[test]
fn serde_shapes() {
    let call: Call = from_slice(
        br#"{"name": "add", "id": 7, "args": [1, 2.5, -3, 1e400], "reply_to": null, "meta": {"a": -1, "b": 2}, "extra": [{"x": [1, {}]}, "y"]}"#,
        DEPTH,
    )
    .unwrap();
    assert_eq!(
        call,
        Call {
            name: "add".into(),
            id: 7,
            args: vec![1.0, 2.5, -3.0, f64::INFINITY],
            reply_to: None,
            meta: [("a".to_owned(), -1), ("b".to_owned(), 2)]
                .into_iter()
                .collect(),
        }
    );
    let call: Call = from_slice(
        br#"{"meta":{},"args":[],"id":0,"name":"","reply_to":"me"}"#,
        DEPTH,
    )
    .unwrap();
    assert_eq!(call.reply_to.as_deref(), Some("me"));
    // A struct can also come as an array of its fields, as serde allows.
    let call: Call = from_slice(br#"["n", 1, [], null, {}]"#, DEPTH).unwrap();
    assert_eq!(call.name, "n");
    assert!(from_slice::<Call>(br#"{"name":"x"}"#, DEPTH)
        .unwrap_err()
        .to_string()
        .contains("missing field"));

    assert_eq!(from_slice::<Shape>(br#""Unit""#, DEPTH), Ok(Shape::Unit));
    assert_eq!(
        from_slice::<Shape>(br#""\u0055nit""#, DEPTH),
        Ok(Shape::Unit)
    );
    assert_eq!(
        from_slice::<Shape>(br#"{"Unit": null}"#, DEPTH),
        Ok(Shape::Unit)
    );
    assert_eq!(
        from_slice::<Shape>(br#" { "New" : 5 } "#, DEPTH),
        Ok(Shape::New(5))
    );
    assert_eq!(
        from_slice::<Shape>(br#"{"Tup": [1, "x"]}"#, DEPTH),
        Ok(Shape::Tup(1, "x".into()))
    );
    assert_eq!(
        from_slice::<Shape>(br#"{"Struct": {"a": true}}"#, DEPTH),
        Ok(Shape::Struct { a: true })
    );
    assert_eq!(
        from_slice::<Shape>(br#"{"Struct": [false]}"#, DEPTH),
        Ok(Shape::Struct { a: false })
    );
    assert!(from_slice::<Shape>(br#""Nope""#, DEPTH)
        .unwrap_err()
        .to_string()
        .contains("unknown variant `Nope`"));
    assert_eq!(
        from_slice::<Shape>(br#"{"New": 1, "Unit": null}"#, DEPTH),
        syntax("expected `}` after the enum variant's value at byte 9")
    );
    assert_eq!(
        from_slice::<Shape>(b"5", DEPTH),
        syntax("expected a string or an object for an enum at byte 0")
    );
    assert_eq!(
        from_slice::<Shape>(b"{5:1}", DEPTH),
        syntax("key must be a string at byte 1")
    );
    assert_eq!(
        from_slice::<Shape>(br#"{"New" 5}"#, DEPTH),
        syntax("expected `:` at byte 7")
    );
    assert_eq!(
        from_slice::<Shape>(br#"{"New": 5"#, DEPTH),
        syntax("EOF while parsing an object at byte 9")
    );
    assert_eq!(from_slice::<Shape>(br#"{"New": 5}"#, 0), too_deep(0));
    assert_eq!(
        from_slice::<Vec<Shape>>(br#"["Unit", {"New": -2}]"#, DEPTH),
        Ok(vec![Shape::Unit, Shape::New(-2)])
    );

    assert_eq!(from_slice::<Option<u8>>(b"null", DEPTH), Ok(None));
    assert_eq!(from_slice::<Option<u8>>(b" 3 ", DEPTH), Ok(Some(3)));
    assert_eq!(from_slice::<Option<Option<u8>>>(b"null", DEPTH), Ok(None));
    assert_eq!(
        from_slice::<Option<u8>>(b"nul", DEPTH),
        syntax("EOF while parsing a value at byte 3")
    );
    assert_eq!(from_slice::<()>(b"null", DEPTH), Ok(()));
    assert!(from_slice::<()>(b"0", DEPTH).is_err());
    assert_eq!(from_slice::<Nothing>(b"null", DEPTH), Ok(Nothing));
    assert_eq!(from_slice::<Meters>(b"3", DEPTH), Ok(Meters(3.0)));
    assert_eq!(
        from_slice::<(u8, String, bool)>(br#"[1, "a", true]"#, DEPTH),
        Ok((1, "a".into(), true))
    );
    assert_eq!(
        from_slice::<(u8, u8)>(b"[1, 2, 3]", DEPTH),
        syntax("more array elements than expected at byte 5")
    );
    assert!(from_slice::<(u8, u8)>(b"[1]", DEPTH)
        .unwrap_err()
        .to_string()
        .contains("invalid length 1"));
    assert_eq!(from_slice::<[u8; 2]>(b"[1,2]", DEPTH), Ok([1, 2]));
    assert_eq!(from_slice::<char>(br#""\u00e9""#, DEPTH), Ok('\u{e9}'));

    assert_eq!(
        from_slice::<Strict>(br#"{"a": 1}"#, DEPTH),
        Ok(Strict { a: 1 })
    );
    assert!(from_slice::<Strict>(br#"{"a": 1, "b": 2}"#, DEPTH)
        .unwrap_err()
        .to_string()
        .contains("unknown field `b`"));
    assert_eq!(
        from_slice::<Tagged>(br#"{"n": 4, "type": "Ping"}"#, DEPTH),
        Ok(Tagged::Ping { n: 4 })
    );
    assert_eq!(
        from_slice::<Tagged>(br#"{"type": "Pong"}"#, DEPTH),
        Ok(Tagged::Pong)
    );
    assert_eq!(
        from_slice::<Untagged>(br#"[1, "a", [-2]]"#, DEPTH),
        Ok(Untagged::List(vec![
            Untagged::Num(1),
            Untagged::Text("a".into()),
            Untagged::List(vec![Untagged::Num(-2)])
        ]))
    );

    // Duplicate keys reach the visitor in order: a map keeps the last, a list of pairs all.
    assert_eq!(
        from_slice::<BTreeMap<String, u8>>(br#"{"a":1,"b":2,"a":3}"#, DEPTH),
        Ok([("a".to_owned(), 3), ("b".to_owned(), 2)]
            .into_iter()
            .collect())
    );
    assert_eq!(
        read(br#"{"a":1,"a":3}"#),
        Ok(obj(vec![("a", int(1)), ("a", int(3))]))
    );
    // Keys that Python wrote from integers read into integer-keyed maps.
    let m: HashMap<i64, String> = from_slice(br#"{"1": "a", "-20": "b"}"#, DEPTH).unwrap();
    assert_eq!(m[&-20], "b");
    let m: BTreeMap<u128, bool> = from_slice(
        br#"{"340282366920938463463374607431768211455": true}"#,
        DEPTH,
    )
    .unwrap();
    assert!(m[&u128::MAX]);
    assert_eq!(
        from_slice::<HashMap<u8, u8>>(br#"{"300": 1}"#, DEPTH),
        syntax("invalid value: string \"300\", expected u8")
    );
    assert_eq!(
        from_slice::<HashMap<Shape, u8>>(br#"{"Unit": 1}"#, DEPTH).map(|m| m.len()),
        Ok(1)
    );
    // Size hints are never given.
    assert_eq!(
        from_slice::<Hints>(br#"[{"a":1}, {}]"#, DEPTH),
        Ok(Hints(vec![None, Some(1), Some(0)]))
    );
    // Strings are borrowed when they have no escapes.
    assert_eq!(
        from_slice::<HowStr>(br#""abc""#, DEPTH),
        Ok(HowStr::Borrowed("abc".into()))
    );
    assert_eq!(
        from_slice::<HowStr>(br#""a\nc""#, DEPTH),
        Ok(HowStr::Owned("a\nc".into()))
    );
    assert_eq!(
        from_slice::<Vec<HowStr>>(br#"["\u00e9", "\u00e9"]"#, DEPTH).map(|v| v.len()),
        Ok(2)
    );
    // Type mismatches carry serde's message.
    assert_eq!(
        from_slice::<i64>(br#""x""#, DEPTH),
        syntax("invalid type: string \"x\", expected i64")
    );
    assert_eq!(
        from_slice::<u8>(b"256", DEPTH),
        syntax("invalid value: integer `256`, expected u8")
    );
    assert_eq!(
        from_slice::<u64>(b"-1", DEPTH),
        syntax("invalid value: integer `-1`, expected u64")
    );
    assert_eq!(
        from_slice::<i64>(b"1.0", DEPTH),
        syntax("invalid type: floating point `1.0`, expected i64")
    );
    assert_eq!(
        from_slice::<bool>(b"1", DEPTH),
        syntax("invalid type: integer `1`, expected a boolean")
    );
    assert_eq!(
        from_slice::<String>(b"null", DEPTH),
        syntax("invalid type: unit value, expected a string")
    );
    assert_eq!(
        from_slice::<u8>(b"1 x", DEPTH),
        syntax("trailing characters at byte 2")
    );
}

/// Integers of every size, floats from integers, and 128-bit targets.
#[test]
fn numbers() {
    assert_eq!(
        from_slice::<u64>(b"18446744073709551615", DEPTH),
        Ok(u64::MAX)
    );
    assert_eq!(
        from_slice::<i64>(b"-9223372036854775808", DEPTH),
        Ok(i64::MIN)
    );
    assert_eq!(
        from_slice::<i128>(b"-170141183460469231731687303715884105728", DEPTH),
        Ok(i128::MIN)
    );
    assert_eq!(
        from_slice::<i128>(b"-18446744073709551617", DEPTH),
        Ok(-18_446_744_073_709_551_617)
    );
    assert_eq!(
        from_slice::<u128>(b"340282366920938463463374607431768211455", DEPTH),
        Ok(u128::MAX)
    );
    assert_eq!(from_slice::<u128>(b"12", DEPTH), Ok(12));
    assert_eq!(from_slice::<i128>(b"12", DEPTH), Ok(12));
    assert_eq!(from_slice::<i8>(b"-128", DEPTH), Ok(-128));
    assert_eq!(from_slice::<f64>(b"3", DEPTH), Ok(3.0));
    assert_eq!(
        from_slice::<f64>(b"-0", DEPTH).map(f64::to_bits),
        Ok(0.0f64.to_bits())
    );
    assert_eq!(
        from_slice::<f64>(b"-0.0", DEPTH).map(f64::to_bits),
        Ok((-0.0f64).to_bits())
    );
    assert_eq!(
        from_slice::<f64>(b"9007199254740993", DEPTH),
        Ok(9_007_199_254_740_992.0)
    );
    assert_eq!(
        from_slice::<f64>(b"-Infinity", DEPTH),
        Ok(f64::NEG_INFINITY)
    );
    assert!(from_slice::<f64>(b"NaN", DEPTH).unwrap().is_nan());
    // Python's float(int) is exact to the nearest double for any size, and refuses overflow.
    let big = format!("1{}", "0".repeat(300));
    assert_eq!(from_slice::<f64>(big.as_bytes(), DEPTH), Ok(1e300));
    let huge = format!("1{}", "0".repeat(309));
    assert_eq!(from_slice::<f64>(huge.as_bytes(), DEPTH), syntax("integer 10000000000000000000...00000000000000000000 (310 digits) is too large to convert to float"));
    assert_eq!(from_slice::<f64>(b"1e309", DEPTH), Ok(f64::INFINITY));
    assert_eq!(from_slice::<f32>(b"1", DEPTH), Ok(1.0));
    assert_eq!(from_slice::<f32>(b"0.1", DEPTH), Ok(0.1));
    assert_eq!(
        from_slice::<Vec<f64>>(b"[1, -2, 3.5]", DEPTH),
        Ok(vec![1.0, -2.0, 3.5])
    );
    assert_eq!(
        from_slice::<f64>(br#""1""#, DEPTH),
        syntax("invalid type: string \"1\", expected f64")
    );
    assert_eq!(
        from_slice::<f64>(b"-", DEPTH),
        syntax("EOF while parsing a number at byte 1")
    );
    // Integers beyond 128 bits are refused, even where a float is wanted by any.
    let over = format!("{}", u128::MAX).replace("455", "456");
    assert_eq!(
        from_slice::<u128>(over.as_bytes(), DEPTH),
        syntax(&format!("integer {over} does not fit in 128 bits"))
    );
    let long = "9".repeat(4300);
    assert_eq!(
        read(long.as_bytes()),
        syntax(&format!(
            "integer {}...{} (4300 digits) does not fit in 128 bits",
            &long[..20],
            &long[..20]
        ))
    );
    // Python refuses integers of more than 4300 digits (floats may be longer).
    let longer = format!("-{long}9");
    let refused = "integer of 4301 digits exceeds Python's limit of 4300 at byte 0";
    assert_eq!(read(longer.as_bytes()), syntax(refused));
    assert_eq!(skip_value(longer.as_bytes(), 0, DEPTH), syntax(refused));
    assert_eq!(
        skip_value(&longer.as_bytes()[1..], 0, DEPTH),
        syntax(refused)
    );
    assert_eq!(from_slice::<f64>(longer.as_bytes(), DEPTH), syntax(refused));
    assert_eq!(
        from_slice::<f64>(format!("{longer}.5e-4301").as_bytes(), DEPTH),
        Ok(-1.0)
    );
    assert_eq!(kind_at(longer.as_bytes(), 0), "nothing");
    // Skipping does not decode integers, so an ignored one beyond 128 bits passes.
    #[derive(Deserialize, Debug, PartialEq)]
    struct S {
        /// A field that is read.
        a: u8,
    }
    let doc = format!(r#"{{"a": 1, "big": {long}}}"#);
    assert_eq!(from_slice::<S>(doc.as_bytes(), DEPTH), Ok(S { a: 1 }));
    assert_eq!(skip_value(long.as_bytes(), 0, DEPTH), Ok((0, 4300)));
}

/// Bytes read from arrays of integers or from strings, `ByteBuf` included.
#[test]
fn bytes() {
    use serde_bytes::ByteBuf;
    assert_eq!(
        from_slice::<ByteBuf>(b"[1, 2, 255]", DEPTH),
        Ok(ByteBuf::from(vec![1, 2, 255]))
    );
    assert_eq!(
        from_slice::<ByteBuf>(br#""ab\u00e9""#, DEPTH),
        Ok(ByteBuf::from("ab\u{e9}".as_bytes().to_vec()))
    );
    assert_eq!(
        from_slice::<ByteBuf>(br#""ab""#, DEPTH),
        Ok(ByteBuf::from(b"ab".to_vec()))
    );
    assert_eq!(from_slice::<ByteBuf>(b"[]", DEPTH), Ok(ByteBuf::new()));
    assert!(from_slice::<ByteBuf>(b"[256]", DEPTH).is_err());
    assert!(from_slice::<ByteBuf>(b"5", DEPTH).is_err());
    assert_eq!(from_slice::<Option<ByteBuf>>(b"null", DEPTH), Ok(None));
}

/// `deserialize_any` into other value types agrees with serde_json on ordinary JSON, and
/// ignored values are skipped with full checking.
#[test]
fn any_and_ignored() {
    let doc = br#"{"a": [1, -2, 3.5, "x", true, null, {"b": []}], "c": "\u00e9\n", "d": 18446744073709551615}"#;
    let ours: serde_json::Value = from_slice(doc, DEPTH).unwrap();
    let theirs: serde_json::Value = serde_json::from_slice(doc).unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(from_slice::<de::IgnoredAny>(doc, DEPTH).map(|_| ()), Ok(()));
    assert_eq!(
        from_slice::<de::IgnoredAny>(b"[1, \"\\x\"]", DEPTH).map(|_| ()),
        syntax("invalid escape \\x at byte 5")
    );
    assert_eq!(
        from_slice::<de::IgnoredAny>(b"[1,]", DEPTH).map(|_| ()),
        syntax("trailing comma at byte 3")
    );
    assert_eq!(
        from_slice::<de::IgnoredAny>(b"[[]]", 1).map(|_| ()),
        too_deep(1)
    );
    assert_eq!(
        from_slice::<de::IgnoredAny>(b"", DEPTH).map(|_| ()),
        syntax("EOF while parsing a value at byte 0")
    );
    #[derive(Deserialize, Debug, PartialEq)]
    struct S {
        /// A field that is read.
        a: u8,
    }
    assert_eq!(
        from_slice::<S>(br#"{"x": [1, tru], "a": 1}"#, DEPTH),
        syntax("invalid literal at byte 10")
    );
    assert_eq!(
        from_slice::<S>(br#"{"x": "\ud800", "a": 1}"#, DEPTH),
        syntax("lone surrogate \\ud800 at byte 7 cannot be represented")
    );
    assert_eq!(
        ReadError::TooDeep { limit: 3 }.to_string(),
        "JSON nested deeper than 3 arrays and objects"
    );
    assert_eq!(
        ReadError::Syntax("x at byte 1".into()).to_string(),
        "x at byte 1"
    );
}
