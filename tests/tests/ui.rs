//! Compile errors of `#[service]`: one mistake per file under `tests/ui/service/`.

#[test]
fn service_mistakes_point_at_the_offending_token() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/service/*.rs");
}
