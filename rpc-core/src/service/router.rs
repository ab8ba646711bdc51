//! [`Router`]: a node of a mounted service tree, and how a path finds a function.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::{Member, Service};
use crate::error::CallError;
use crate::rpc::{join_path as join, LocalServices, ServiceRef};

/// A node of a mounted service tree, seen from its root. Cheap to clone.
///
/// ```
/// use rpc_core::{DynCall, Router, ServiceDict};
/// let root = Router::new(
///     ServiceDict::new()
///         .function("ping", |_: DynCall| Ok("pong"))
///         .with_sub_router("eggs", ServiceDict::new().function("spam", |_: DynCall| Ok(1))),
/// );
/// let eggs = root.sub_router("eggs").unwrap();
/// assert_eq!(eggs.name(), "eggs");
/// assert_eq!(eggs.path(), "eggs");
/// assert_eq!(eggs.parent().unwrap().path(), "");
/// assert_eq!(root.resolve("eggs/spam").unwrap().method(), "spam");
/// assert!(root.resolve("eggs/nope").is_err());
/// ```
#[derive(Clone)]
pub struct Router {
    root: Arc<dyn Service>,
    path: Arc<str>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("path", &self.path)
            .field("type", &self.service().type_name())
            .finish()
    }
}

impl Router {
    /// Mounts `service` as the root of a tree.
    pub fn new(service: impl Service) -> Self {
        Self::from_arc(Arc::new(service))
    }

    /// Mounts a shared service as the root of a tree.
    pub fn from_arc(service: Arc<dyn Service>) -> Self {
        Router {
            root: service,
            path: Arc::from(""),
        }
    }

    /// The node at `path` of the same tree (the path is not checked).
    pub(crate) fn at(&self, path: &str) -> Router {
        Router {
            root: self.root.clone(),
            path: Arc::from(path),
        }
    }

    /// The name of this router in its parent (empty for the root).
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or("")
    }

    /// The path of this router from the root, without a trailing slash (`""` for the root).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The parent router, or `None` for the root.
    pub fn parent(&self) -> Option<Router> {
        if self.path.is_empty() {
            return None;
        }
        Some(self.at(self.path.rsplit_once('/').map_or("", |(p, _)| p)))
    }

    /// The root router of this tree.
    pub fn root(&self) -> Router {
        self.at("")
    }

    /// The child router of the given name.
    pub fn sub_router(&self, name: &str) -> Option<Router> {
        self.service().sub_router(name)?;
        Some(self.at(&join(&self.path, name)))
    }

    /// The service at this node.
    pub fn service(&self) -> &dyn Service {
        walk(&*self.root, &self.path)
            .expect("a router's path always names a node of its immutable tree")
    }

    /// A reference to this node that can be sent to the peer, who gets a proxy of it.
    pub fn service_ref(&self) -> ServiceRef {
        ServiceRef::at(self.path.to_string())
    }

    /// Resolves a path relative to this router to an exposed function, with aiomas's errors.
    ///
    /// # Errors
    /// A `LookupError` or `TypeError` worded as aiomas words it, when the path names no
    /// exposed function.
    pub fn resolve(&self, path: &str) -> Result<Resolved, CallError> {
        let (node, node_path, method) = resolve(self.service(), path)?;
        match Member::of(node, method) {
            Member::Exposed => Ok(Resolved {
                router: self.at(&join(&self.path, node_path)),
                method: method.to_owned(),
            }),
            other => Err(member_error(node, node_path, method, other)),
        }
    }
}

impl LocalServices for Router {
    fn has_service_at(&self, path: &str) -> bool {
        walk(self.service(), path).is_some()
    }
}

/// An exposed function found by [`Router::resolve`].
#[derive(Debug, Clone)]
pub struct Resolved {
    router: Router,
    method: String,
}

impl Resolved {
    /// The router of the service that has the function.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The function's wire name.
    pub fn method(&self) -> &str {
        &self.method
    }
}

/// The node at `path` below `node` (`""` is `node` itself).
fn walk<'a>(mut node: &'a dyn Service, path: &str) -> Option<&'a dyn Service> {
    if path.is_empty() {
        return Some(node);
    }
    for seg in path.split('/') {
        node = node.sub_router(seg)?;
    }
    Some(node)
}

/// Walks `path` to the node that should have the function named by its last segment.
/// Returns the node, the path of that node (relative) and the function name.
pub(crate) fn resolve<'a, 'p>(
    root: &'a dyn Service,
    path: &'p str,
) -> Result<(&'a dyn Service, &'p str, &'p str), CallError> {
    // A byte search: `rsplit_once('/')` goes through the general pattern machinery and
    // `memrchr`, over a hundred instructions for a path like "add".
    let slash = path.bytes().rposition(|b| b == b'/');
    let (node_path, method) = match slash {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    };
    let mut node = root;
    // Walked whenever there is a slash: "/add" has an empty first name, as in aiomas.
    if slash.is_some() {
        let mut consumed = 0;
        for seg in node_path.split('/') {
            match node.sub_router(seg) {
                Some(child) => node = child,
                None => {
                    let prefix = &path[..consumed.max(1) - 1];
                    return Err(match Member::of(node, seg) {
                        // aiomas walks into the function and fails on the next name...
                        Member::Exposed => {
                            let here = &path[..consumed + seg.len()];
                            let next = path[consumed + seg.len() + 1..]
                                .split('/')
                                .next()
                                .unwrap_or("");
                            not_found(next, here)
                        }
                        // ... but stops at a method that is not exposed.
                        Member::Hidden => member_error(node, prefix, seg, Member::Hidden),
                        _ => not_found(seg, prefix),
                    });
                }
            }
            consumed += seg.len() + 1;
        }
    }
    Ok((node, node_path, method))
}

fn not_found(name: &str, prefix: &str) -> CallError {
    CallError::lookup_error(format!("Name \"{name}\" not found in \"{prefix}\""))
}

/// The error for a name that is not an exposed function of `node`.
pub(crate) fn member_error(
    node: &dyn Service,
    node_path: &str,
    method: &str,
    member: Member,
) -> CallError {
    match member {
        Member::SubRouter => CallError::type_error(format!(
            "'{}' object is not callable",
            node.sub_router(method)
                .map_or(Cow::Borrowed(method), |s| s.type_name())
        )),
        Member::Hidden => {
            CallError::lookup_error(format!("\"{}.{method}\" is not exposed", node.type_name()))
        }
        Member::Exposed | Member::Missing => not_found(method, node_path),
    }
}

#[cfg(test)]
mod tests {
    //! Paths against a small tree, each error checked against what aiomas 2.0.1's
    //! `Router.resolve` (Python 3.11) says for the same path on the same tree of classes:
    //! `Root` (`add` exposed, `hidden` not) → `sub` (`mul`) → `deep` (`where_am_i`). aiomas
    //! names a class with its module (`"__main__.Root.hidden" is not exposed`); a Rust type
    //! name stands alone.

    use std::borrow::Cow;

    use super::Router;
    use crate::service::{Call, Outcome, Service};

    /// A node with fixed names, standing in for what `#[service]` generates (the macro cannot
    /// be used inside the crate it names). Calls are not routed here, only paths.
    struct Node {
        type_name: &'static str,
        exposed: &'static [&'static str],
        hidden: &'static [&'static str],
        children: Vec<(&'static str, Node)>,
    }

    impl Service for Node {
        fn type_name(&self) -> Cow<'_, str> {
            Cow::Borrowed(self.type_name)
        }
        fn sub_router(&self, name: &str) -> Option<&dyn Service> {
            let (_, child) = self.children.iter().find(|(n, _)| *n == name)?;
            Some(child)
        }
        fn sub_router_names(&self) -> Vec<Cow<'_, str>> {
            self.children
                .iter()
                .map(|(n, _)| Cow::Borrowed(*n))
                .collect()
        }
        fn exposed_names(&self) -> Vec<Cow<'_, str>> {
            self.exposed.iter().map(|n| Cow::Borrowed(*n)).collect()
        }
        fn is_hidden(&self, name: &str) -> bool {
            self.hidden.contains(&name)
        }
        fn call<'s>(&'s self, _: &str, _: Call<'_>) -> Option<Outcome<'s>> {
            None
        }
    }

    fn tree() -> Router {
        let deep = Node {
            type_name: "Deep",
            exposed: &["where_am_i"],
            hidden: &[],
            children: Vec::new(),
        };
        let sub = Node {
            type_name: "Sub",
            exposed: &["mul"],
            hidden: &[],
            children: vec![("deep", deep)],
        };
        Router::new(Node {
            type_name: "Root",
            exposed: &["add"],
            hidden: &["hidden"],
            children: vec![("sub", sub)],
        })
    }

    /// Where `path` resolves to from `router`: the node's path and the function.
    fn found(router: &Router, path: &str) -> (String, String) {
        let r = router
            .resolve(path)
            .unwrap_or_else(|e| panic!("{path:?}: {}: {}", e.kind(), e.message()));
        (r.router().path().to_owned(), r.method().to_owned())
    }

    /// The error for `path`, as `(kind, message)`.
    fn error(router: &Router, path: &str) -> (String, String) {
        match router.resolve(path) {
            Ok(r) => panic!(
                "{path:?} resolved to {:?} {:?}",
                r.router().path(),
                r.method()
            ),
            Err(e) => (e.kind().to_owned(), e.message().to_owned()),
        }
    }

    fn lookup(message: &str) -> (String, String) {
        ("LookupError".to_owned(), message.to_owned())
    }

    #[test]
    fn nested_paths_find_the_node_and_the_function() {
        let root = tree();
        let at = |p: &str, m: &str| (p.to_owned(), m.to_owned());
        assert_eq!(found(&root, "add"), at("", "add"));
        assert_eq!(found(&root, "sub/mul"), at("sub", "mul"));
        assert_eq!(
            found(&root, "sub/deep/where_am_i"),
            at("sub/deep", "where_am_i")
        );
        // Relative to a node below the root, the found router's path is still from the root.
        let sub = root.sub_router("sub").unwrap();
        assert_eq!(found(&sub, "deep/where_am_i"), at("sub/deep", "where_am_i"));
        assert_eq!(found(&sub, "mul"), at("sub", "mul"));
    }

    #[test]
    fn an_unknown_name_is_named_with_the_path_before_it() {
        let root = tree();
        for (path, message) in [
            ("nope", r#"Name "nope" not found in """#),
            ("sub/nope", r#"Name "nope" not found in "sub""#),
            ("sub/deep/nope", r#"Name "nope" not found in "sub/deep""#),
            // The first unknown segment is named, not the last.
            ("nope/x", r#"Name "nope" not found in """#),
            ("sub/nope/x", r#"Name "nope" not found in "sub""#),
        ] {
            assert_eq!(error(&root, path), lookup(message), "{path:?}");
        }
    }

    #[test]
    fn an_empty_segment_is_a_name_that_is_not_found() {
        let root = tree();
        for (path, message) in [
            ("", r#"Name "" not found in """#),
            // A trailing slash.
            ("sub/", r#"Name "" not found in "sub""#),
            ("sub/deep/", r#"Name "" not found in "sub/deep""#),
            ("add/", r#"Name "" not found in "add""#),
            // A doubled slash.
            ("sub//mul", r#"Name "" not found in "sub""#),
        ] {
            assert_eq!(error(&root, path), lookup(message), "{path:?}");
        }
    }

    #[test]
    fn a_path_through_a_function_fails_on_the_name_after_it() {
        // aiomas walks into the function and finds no attribute of that name on it.
        let root = tree();
        for (path, message) in [
            ("add/x", r#"Name "x" not found in "add""#),
            ("add/x/y", r#"Name "x" not found in "add""#),
            ("sub/mul/z", r#"Name "z" not found in "sub/mul""#),
        ] {
            assert_eq!(error(&root, path), lookup(message), "{path:?}");
        }
    }

    #[test]
    fn a_method_that_is_not_exposed_is_named_with_its_type() {
        let root = tree();
        assert_eq!(
            error(&root, "hidden"),
            lookup(r#""Root.hidden" is not exposed"#)
        );
        // aiomas stops there, before the names after it.
        assert_eq!(
            error(&root, "hidden/x"),
            lookup(r#""Root.hidden" is not exposed"#)
        );
    }

    #[test]
    fn a_leading_slash_is_an_empty_name_at_the_root() {
        let root = tree();
        assert_eq!(error(&root, "/add"), lookup(r#"Name "" not found in """#));
        assert_eq!(
            error(&root, "/sub/mul"),
            lookup(r#"Name "" not found in """#)
        );
    }

    #[test]
    fn a_sub_router_is_not_callable() {
        // aiomas resolves the node and fails to call it; `resolve` says the same at once.
        let root = tree();
        let not_callable = |t: &str| {
            (
                "TypeError".to_owned(),
                format!("'{t}' object is not callable"),
            )
        };
        assert_eq!(error(&root, "sub"), not_callable("Sub"));
        assert_eq!(error(&root, "sub/deep"), not_callable("Deep"));
    }
}
